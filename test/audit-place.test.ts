/**
 * The trail serialises each record once (src/audit/place.ts). What it hashes and what the store
 * writes must be exactly what the reference definitions give: recordHash over the record without
 * its hash, and canonicalJson of the whole record.
 */
import fc from 'fast-check';
import { GENESIS, recordHash } from '../src/audit/chain.js';
import { entryMembers, membersText, placeRecord } from '../src/audit/place.js';
import type { AuditEntry } from '../src/audit/types.js';
import { auditEntry } from '../src/audit/entry.js';
import { canonicalJson } from '../src/lib/digest.js';

const base = auditEntry('decision', {
  auditId: 'a-1',
  requestId: 'r-1',
  caller: { system: 'sof-case-system', administration: 'social' },
  subject: 'k1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA',
  reasons: ['B', 'a', 'Å'],
  fields: { requested: ['x', 'y'], released: ['x'] },
  latencyMs: 1.25,
});

function place(entry: AuditEntry, seq: number, prevHash: string) {
  const members = entryMembers(entry);
  const snapshot = JSON.parse(membersText(members)) as AuditEntry;
  return placeRecord(snapshot, members, { id: `id-${seq}`, chain: 'gw-1', seq, time: '2026-11-23T10:00:00.000Z', prevHash });
}

describe('placing a record', () => {
  it('hashes and serialises as recordHash and canonicalJson do', () => {
    const { record, text } = place(base, 1, GENESIS);
    expect(text).toBe(canonicalJson(record));
    expect(record.hash).toBe(recordHash(GENESIS, record));
    expect(JSON.parse(text)).toEqual(record);
    expect(Object.isFrozen(record)).toBe(true);
  });

  it('agrees with the reference definitions for arbitrary JSON members', () => {
    const json = fc.jsonValue({ maxDepth: 3 });
    fc.assert(
      fc.property(fc.dictionary(fc.string({ maxLength: 8 }), json, { maxKeys: 6 }), fc.integer({ min: 1, max: 2 ** 40 }), (extra, seq) => {
        const entry = { ...base, ...extra } as unknown as AuditEntry;
        const { record, text } = place(entry, seq, 'f'.repeat(64));
        expect(text).toBe(canonicalJson(record));
        expect(record.hash).toBe(recordHash('f'.repeat(64), record));
      }),
      { numRuns: 300 },
    );
  });

  it('replaces members of the entry that placing owns, and leaves out undefined ones', () => {
    const entry = {
      ...base,
      id: 'forged',
      seq: 99,
      hash: 'x',
      prevHash: 'y',
      chain: 'other',
      time: 'then',
      caseRef: undefined,
    } as unknown as AuditEntry;
    const { record, text } = place(entry, 7, GENESIS);
    expect(record).toMatchObject({ id: 'id-7', seq: 7, chain: 'gw-1', prevHash: GENESIS, time: '2026-11-23T10:00:00.000Z' });
    expect(text).toBe(canonicalJson(record));
    expect(record.hash).toBe(recordHash(GENESIS, record));
    expect(JSON.parse(text)).not.toHaveProperty('caseRef');
  });

  it('refuses values canonical JSON cannot hash', () => {
    expect(() => entryMembers({ ...base, latencyMs: Number.NaN })).toThrow(TypeError);
    expect(() => entryMembers({ ...base, caller: { system: 'x', administration: 1n } } as unknown as AuditEntry)).toThrow(TypeError);
  });
});
