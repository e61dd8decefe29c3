/**
 * The audit trail's parts without a database: pseudonyms, the hash chain, record ids, the
 * personal-data guard, group commit, and what the trail does when its store fails.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { GENESIS, recordHash } from '../src/audit/chain.js';
import { assertNoPersonalData, PersonalDataInAuditError } from '../src/audit/guard.js';
import { newAuditId, recordId } from '../src/audit/id.js';
import { loadPseudonymKey, Pseudonymizer } from '../src/audit/pseudonym.js';
import { AuditTrail } from '../src/audit/trail.js';
import type { AuditEntry, AuditRecord } from '../src/audit/types.js';
import { verifyChain } from '../src/audit/verify.js';
import { canonicalJson, sha256hex } from '../src/lib/digest.js';
import { LoadError } from '../src/lib/load-error.js';
import { Batcher } from '../src/store/batch.js';
import { checkContinues, toRow, toStoredRow } from '../src/store/rows.js';
import type { AuditStore } from '../src/store/types.js';
import { auditEntry, CASE_V2_ENTRY, UUID_V7 } from './support/audit-entries.js';

const key = { id: 'k1', secret: Buffer.alloc(32, 7) };
const pseudonyms = new Pseudonymizer({ keys: [key], current: 'k1' });

/** A fixed entry (the same ids every time), with no policy set, legal basis or fields. */
const entry = (over: Partial<AuditEntry> = {}): AuditEntry =>
  auditEntry({
    ...CASE_V2_ENTRY,
    auditId: 'aud-1',
    requestId: 'req-1',
    caseRef: 'SAG-1',
    subject: pseudonyms.pseudonym('0101909901'),
    policy: { id: 'p', version: 1 },
    policySet: null,
    legalBasis: null,
    fields: { requested: [], released: [], withheld: [], dropped: [] },
    ...over,
  });

/** An in-memory AuditStore that can be told to fail, or to fail after writing. */
class MemoryAuditStore implements AuditStore {
  readonly rows: AuditRecord[] = [];
  appendCalls = 0;
  mode: 'ok' | 'fail' | 'fail-after-write' = 'ok';
  /** When set, append waits for it before writing. */
  gate: Promise<void> | undefined;

  async head(chain: string) {
    return this.rows.filter((r) => r.chain === chain).at(-1);
  }
  async append(records: readonly AuditRecord[]) {
    this.appendCalls += 1;
    if (this.gate !== undefined) await this.gate;
    if (this.mode === 'fail') throw new Error('disk full');
    const first = records[0] as AuditRecord;
    const head = await this.head(first.chain);
    checkContinues(first.chain, head, records);
    this.rows.push(...records);
    if (this.mode === 'fail-after-write') throw new Error('connection lost during COMMIT');
  }
  async range(chain: string, fromSeq: number, limit: number) {
    return this.rows.filter((r) => r.chain === chain && r.seq >= fromSeq).slice(0, limit);
  }
  async scan(chain: string, fromSeq: number, limit: number) {
    return (await this.range(chain, fromSeq, limit)).map((r) => toStoredRow(toRow(r)));
  }
  async chains() {
    return [...new Set(this.rows.map((r) => r.chain))];
  }
  async search() {
    return { records: [] };
  }
}

describe('Pseudonymizer', () => {
  it('gives "<keyId>:" + base64url(HMAC-SHA256(secret, cpr)), the same for both spellings of a CPR number', () => {
    const p = pseudonyms.pseudonym('0101909901');
    expect(p).toMatch(/^k1:[A-Za-z0-9_-]{43}$/);
    expect(pseudonyms.pseudonym('010190-9901')).toBe(p);
    expect(pseudonyms.pseudonym('0101909902')).not.toBe(p);
    expect(p).not.toContain('0101909901');
  });

  it('depends on the key: another secret gives another pseudonym', () => {
    const other = new Pseudonymizer({ keys: [{ id: 'k1', secret: Buffer.alloc(32, 8) }], current: 'k1' });
    expect(other.pseudonym('0101909901')).not.toBe(pseudonyms.pseudonym('0101909901'));
  });

  it('lists the pseudonyms under every key, the current one first, for searches across key rotations', () => {
    const rotated = new Pseudonymizer({ keys: [key, { id: 'k2', secret: Buffer.alloc(32, 9) }], current: 'k2' });
    const all = rotated.all('0101909901');
    expect(all).toHaveLength(2);
    expect(all[0]).toBe(rotated.pseudonym('0101909901'));
    expect(all[0]).toMatch(/^k2:/);
    expect(all[1]).toBe(pseudonyms.pseudonym('0101909901'));
  });

  it('refuses what is not a CPR number without repeating it, and refuses weak or inconsistent keys', () => {
    expect(() => pseudonyms.pseudonym('12345')).toThrow(TypeError);
    try {
      pseudonyms.pseudonym('01019099011');
    } catch (err) {
      expect((err as Error).message).not.toContain('0101909901');
    }
    expect(() => new Pseudonymizer({ keys: [{ id: 'k', secret: Buffer.alloc(16) }], current: 'k' })).toThrow(/shorter than 32/);
    expect(() => new Pseudonymizer({ keys: [key], current: 'nope' })).toThrow(TypeError);
    expect(() => new Pseudonymizer({ keys: [{ id: 'a:b', secret: Buffer.alloc(32) }], current: 'a:b' })).toThrow(TypeError);
    expect(() => new Pseudonymizer({ keys: [key, key], current: 'k1' })).toThrow(/twice/);
  });

  it('loads a base64url key file; the key id follows the secret', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'snitflade-key-'));
    try {
      const secret = randomBytes(32);
      const file = path.join(dir, 'pseudonym.key');
      writeFileSync(file, `${secret.toString('base64url')}\n`);
      const loaded = loadPseudonymKey(file);
      expect(loaded.secret.equals(secret)).toBe(true);
      expect(loaded.id).toMatch(/^k[A-Za-z0-9_-]{8}$/);
      expect(loadPseudonymKey(file).id).toBe(loaded.id);
      expect(loadPseudonymKey(file, 'custom').id).toBe('custom');

      writeFileSync(file, randomBytes(16).toString('base64url'));
      expect(() => loadPseudonymKey(file)).toThrow(LoadError);
      expect(() => loadPseudonymKey(path.join(dir, 'missing.key'))).toThrow(/missing\.key/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('recordHash', () => {
  const record = { ...entry(), id: 'r1', chain: 'c', seq: 1, time: '2024-01-01T00:00:00.000Z', prevHash: GENESIS };

  it('is SHA-256 over the previous hash, a newline and the canonical record without its hash', () => {
    const hash = recordHash(GENESIS, record);
    expect(hash).toBe(sha256hex(`${GENESIS}\n${canonicalJson(record)}`));
    expect(recordHash(GENESIS, { ...record, hash })).toBe(hash);
    expect(GENESIS).toBe('0'.repeat(64));
  });

  it('changes with any field and with the previous hash', () => {
    const hash = recordHash(GENESIS, record);
    expect(recordHash(GENESIS, { ...record, decision: 'deny' })).not.toBe(hash);
    expect(recordHash(GENESIS, { ...record, fields: { ...record.fields, released: ['x'] } })).not.toBe(hash);
    expect(recordHash('1'.repeat(64), record)).not.toBe(hash);
  });
});

describe('recordId', () => {
  it('is a UUIDv7, unique, and sorts in the order ids were made', () => {
    const ids = Array.from({ length: 20_000 }, () => recordId());
    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort()).toEqual(ids);
    for (const id of ids.slice(0, 50)) expect(id).toMatch(UUID_V7);
    // Its first 48 bits are the time.
    const ms = parseInt((ids[0] as string).replace(/-/g, '').slice(0, 12), 16);
    expect(Math.abs(ms - Date.now())).toBeLessThan(60_000);
  });
});

describe('newAuditId', () => {
  it('is a UUIDv7 made after the ids before it, so the audit_id index grows at its end', () => {
    const before = recordId();
    const ids = Array.from({ length: 5_000 }, () => newAuditId());
    expect(new Set(ids).size).toBe(ids.length);
    expect([before, ...ids].sort()).toEqual([before, ...ids]);
    for (const id of ids.slice(0, 50)) expect(id).toMatch(UUID_V7);
  });
});

describe('assertNoPersonalData', () => {
  it('accepts pseudonyms, digests and ordinary text', () => {
    expect(() => assertNoPersonalData(entry())).not.toThrow();
    expect(() => assertNoPersonalData(entry({ subject: null }))).not.toThrow();
    // hex and base64url digests often hold runs of digits
    expect(() => assertNoPersonalData(entry({ tokenDigest: '0101909901', responseDigest: '1234567890abcdef' }))).not.toThrow();
    expect(() => assertNoPersonalData(entry({ caseRef: 'SAG-2024-0101', caseworker: '9999999999' }))).not.toThrow();
  });

  it('refuses a CPR number glued to letters or written with other separators', () => {
    expect(() => assertNoPersonalData(entry({ caseRef: 'SAG-2024-0101909901x' }))).toThrow(expect.objectContaining({ field: 'caseRef' }));
    expect(() => assertNoPersonalData(entry({ caseworker: '01.01.90 9901' }))).toThrow(expect.objectContaining({ field: 'caseworker' }));
  });

  it('refuses a subject that is not a pseudonym and a CPR number in any text field', () => {
    expect(() => assertNoPersonalData(entry({ subject: '0101909901' }))).toThrow(PersonalDataInAuditError);
    expect(() => assertNoPersonalData(entry({ caseworker: '010190-9901' }))).toThrow(expect.objectContaining({ field: 'caseworker' }));
    expect(() =>
      assertNoPersonalData(entry({ fields: { requested: ['a'], released: [], withheld: ['0101909901'], dropped: [] } })),
    ).toThrow(expect.objectContaining({ field: 'fields.withheld' }));
    try {
      assertNoPersonalData(entry({ caseRef: 'about 0101909901' }));
    } catch (err) {
      expect((err as Error).message).not.toContain('0101909901');
    }
  });
});

describe('Batcher', () => {
  const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

  it('commits the calls of one turn together and gives each caller its own result', async () => {
    const batches: number[][] = [];
    const b = new Batcher<number, number>(async (items) => {
      batches.push([...items]);
      return items.map((i) => i * 10);
    });
    const results = await Promise.all([1, 2, 3].map((i) => b.submit(i)));
    expect(results).toEqual([10, 20, 30]);
    expect(batches).toEqual([[1, 2, 3]]);
  });

  it('collects calls made while a commit is in flight into the next commit, in order', async () => {
    const batches: number[][] = [];
    let open!: () => void;
    const first = new Promise<void>((resolve) => (open = resolve));
    const b = new Batcher<number, number>(async (items) => {
      batches.push([...items]);
      if (batches.length === 1) await first;
      return [...items];
    });
    const p1 = b.submit(1);
    await tick();
    const later = [b.submit(2), b.submit(3)];
    await tick();
    const p4 = b.submit(4);
    await tick();
    expect(batches).toEqual([[1]]); // 2, 3 and 4 wait for the commit in flight
    open();
    expect(await Promise.all([p1, ...later, p4])).toEqual([1, 2, 3, 4]);
    expect(batches).toEqual([[1], [2, 3, 4]]);
  });

  it('resolves nobody before the commit is done, and rejects the whole batch when it fails', async () => {
    let fail = true;
    let committed = 0;
    const b = new Batcher<number, number>(async (items) => {
      await new Promise((resolve) => setTimeout(resolve, 20));
      if (fail) throw new Error('write failed');
      committed += items.length;
      return [...items];
    });
    const settled = await Promise.allSettled([b.submit(1), b.submit(2)]);
    expect(settled.map((s) => s.status)).toEqual(['rejected', 'rejected']);
    fail = false;
    const p = b.submit(3);
    let resolved = false;
    void p.then(() => (resolved = true));
    await tick();
    expect(resolved).toBe(false);
    expect(await p).toBe(3);
    expect(committed).toBe(1);
  });

  it('splits at maxBatch and drains on close', async () => {
    const sizes: number[] = [];
    const b = new Batcher<number, number>(
      (items) => {
        sizes.push(items.length);
        return [...items];
      },
      { maxBatch: 4 },
    );
    const all = Promise.all(Array.from({ length: 10 }, (_, i) => b.submit(i)));
    await b.close();
    expect(await all).toHaveLength(10);
    expect(sizes).toEqual([4, 4, 2]);
    await expect(b.submit(1)).rejects.toThrow(/closed/);
  });
});

describe('AuditTrail', () => {
  it('resolves an append only after the store has written it', async () => {
    const store = new MemoryAuditStore();
    let open!: () => void;
    store.gate = new Promise<void>((resolve) => (open = resolve));
    const trail = await AuditTrail.open({ audit: store }, { chain: 'gw' });
    let resolved = false;
    const p = trail.append(entry()).then((r) => {
      resolved = true;
      return r;
    });
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(resolved).toBe(false);
    expect(trail.head.seq).toBe(0);
    open();
    expect((await p).seq).toBe(1);
    expect(store.rows).toHaveLength(1);
    expect(trail.head).toEqual({ seq: 1, hash: store.rows[0]?.hash });
  });

  it('writes concurrent entries in one store call, numbered in arrival order', async () => {
    const store = new MemoryAuditStore();
    const trail = await AuditTrail.open({ audit: store }, { chain: 'gw' });
    const records = await Promise.all(Array.from({ length: 50 }, (_, i) => trail.append(entry({ requestId: `r${i}` }))));
    expect(store.appendCalls).toBe(1);
    expect(records.map((r) => r.requestId)).toEqual(Array.from({ length: 50 }, (_, i) => `r${i}`));
    expect(records.map((r) => r.seq)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    expect(await verifyChain({ audit: store }, 'gw')).toMatchObject({ ok: true, checked: 50 });
  });

  it('when the store fails, rejects every entry of the batch, keeps its head, and continues from it', async () => {
    const store = new MemoryAuditStore();
    const trail = await AuditTrail.open({ audit: store }, { chain: 'gw' });
    await trail.append(entry());
    const head = trail.head;
    store.mode = 'fail';
    const failed = await Promise.allSettled([trail.append(entry()), trail.append(entry())]);
    expect(failed.map((f) => f.status)).toEqual(['rejected', 'rejected']);
    expect(trail.head).toEqual(head);
    store.mode = 'ok';
    const next = await trail.append(entry());
    expect(next).toMatchObject({ seq: 2, prevHash: head.hash });
    expect(await verifyChain({ audit: store }, 'gw')).toMatchObject({ ok: true, checked: 2 });
  });

  it('after a commit that failed but landed, continues from what the store holds: no fork, no gap', async () => {
    const store = new MemoryAuditStore();
    const trail = await AuditTrail.open({ audit: store }, { chain: 'gw' });
    await trail.append(entry());
    store.mode = 'fail-after-write';
    await expect(trail.append(entry())).rejects.toThrow(/COMMIT/);
    expect(trail.head.seq).toBe(1);
    store.mode = 'ok';
    expect((await trail.append(entry())).seq).toBe(3);
    expect(await verifyChain({ audit: store }, 'gw')).toMatchObject({ ok: true, checked: 3 });
  });

  it('hashes what was appended, not what the caller changed afterwards', async () => {
    const store = new MemoryAuditStore();
    const trail = await AuditTrail.open({ audit: store }, { chain: 'gw' });
    const e = entry({ reasons: ['A'] }) as AuditEntry & { reasons: string[] };
    const p = trail.append(e);
    e.reasons.push('B');
    const record = await p;
    expect(record.reasons).toEqual(['A']);
    expect(Object.isFrozen(record)).toBe(true);
  });

  it('appendMany writes a group consecutively, all or nothing', async () => {
    const store = new MemoryAuditStore();
    const trail = await AuditTrail.open({ audit: store }, { chain: 'gw' });
    const [a, b] = await Promise.all([
      trail.appendMany([entry({ kind: 'decision' }), entry({ kind: 'release' })]),
      trail.appendMany([entry()]),
    ]);
    expect(a?.map((r) => r.seq)).toEqual([1, 2]);
    expect(b?.map((r) => r.seq)).toEqual([3]);
    await expect(trail.appendMany([entry(), entry({ subject: '0101909901' })])).rejects.toBeInstanceOf(PersonalDataInAuditError);
    expect(store.rows).toHaveLength(3);
  });

  it('refuses a chain id that is not a plain name', async () => {
    await expect(AuditTrail.open({ audit: new MemoryAuditStore() }, { chain: 'a b' })).rejects.toThrow(TypeError);
  });
});
