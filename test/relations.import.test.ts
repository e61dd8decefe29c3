/**
 * The relations import and reconciliation (src/relations/import.ts), on SQLite and on PostgreSQL:
 * rows go through the register's own checks and writes; each bad row is refused with its row
 * number and code, changes nothing, and the import goes on; the same file again changes nothing
 * and writes no row's record; a reconciliation ends the relations the file leaves out, and its
 * guard keeps a truncated file from ending them all; nothing it prints holds a CPR number.
 */
import { jest } from '@jest/globals';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Pseudonymizer } from '../src/audit/pseudonym.js';
import { randomBytes } from 'node:crypto';
import { AuditTrail } from '../src/audit/trail.js';
import type { AuditRecord } from '../src/audit/types.js';
import { loadConfig } from '../src/config/config.js';
import { isValidCpr, mayHoldCpr } from '../src/lib/cpr.js';
import { copenhagenDate } from '../src/policy/dates.js';
import { describe as describeSummary } from '../src/relations/cli.js';
import { csvLines } from '../src/relations/csv.js';
import { IMPORT_SYSTEM, importRelations, type ImportOptions, type ImportSummary } from '../src/relations/import.js';
import { addDays } from '../src/relations/register.js';
import { loadRules } from '../src/rules/load.js';
import type { Rules } from '../src/rules/types.js';
import type { Store } from '../src/store/types.js';
import { DATABASES, type TestDatabase } from './support/databases.js';
import { ROOT, testCerts } from './support/env.js';

jest.setTimeout(60_000);

const HEADER = 'administration,cpr,capacity,caseRef,caseworker,from,to';
const day = (offset: number): string => addDays(copenhagenDate(new Date()), offset);
const FROM = day(-30);

/** A synthetic CPR number (serial 99NN) for each i < 10,000: a real date, distinct numbers. */
function cpr(i: number): string {
  const dd = String(1 + (i % 28)).padStart(2, '0');
  const mm = String(1 + (Math.floor(i / 28) % 12)).padStart(2, '0');
  const yy = String(50 + (Math.floor(i / 336) % 40)).padStart(2, '0');
  const n = `${dd}${mm}${yy}99${String(i % 100).padStart(2, '0')}`;
  if (!isValidCpr(n)) throw new Error('not a CPR number');
  return n;
}

/** A file's text from its rows (the header first unless told otherwise). */
const csv = (rows: string[], header = HEADER): string => `${[header, ...rows].join('\n')}\n`;
const row = (
  i: number,
  caseRef: string,
  over: { admin?: string; capacity?: string; caseworker?: string; from?: string; to?: string; cpr?: string } = {},
) =>
  [
    over.admin ?? 'BIF',
    over.cpr ?? cpr(i),
    over.capacity ?? 'cash-benefit',
    caseRef,
    over.caseworker ?? '',
    over.from ?? FROM,
    over.to ?? '',
  ].join(',');

let rules: Rules;
const pseudonyms = new Pseudonymizer({ keys: [{ id: 'k1', secret: randomBytes(32) }], current: 'k1' });

beforeAll(async () => {
  const certs = await testCerts();
  rules = await loadRules(
    loadConfig({
      root: ROOT,
      env: {},
      overrides: { paths: { certs, data: mkdtempSync(path.join(tmpdir(), 'snitflade-import-')) }, policies: { requireApprovals: false } },
    }),
  );
});

describe('reading the CSV file', () => {
  const lines = async (text: string | string[]) => {
    const out = [];
    for await (const l of csvLines(Array.isArray(text) ? text : [text])) out.push(l);
    return out;
  };

  it('reads RFC 4180 quoting, a byte order mark, CRLF and LF, and numbers rows as an editor numbers lines', async () => {
    expect(await lines('\ufeffa,b\r\n"x,1","say ""hi"""\n\nplain,\r\n')).toEqual([
      { row: 1, fields: ['a', 'b'] },
      { row: 2, fields: ['x,1', 'say "hi"'] },
      { row: 4, fields: ['plain', ''] },
    ]);
    // Chunks split anywhere, even inside a character, give the same lines.
    const bytes = Buffer.from('åbc,"d"\nef,g');
    const chunks = Array.from(bytes, (b) => Buffer.from([b]));
    expect(await lines(chunks as unknown as string[])).toEqual([
      { row: 1, fields: ['åbc', 'd'] },
      { row: 2, fields: ['ef', 'g'] },
    ]);
  });

  it('refuses a broken line alone and reads on: a stray quote, text after a closing quote, an open quote, not UTF-8, too long', async () => {
    const got = await lines([
      Buffer.from('a,b"c\n"a"b,c\n"open,c\nok,1\n') as unknown as string,
      Buffer.from([0xff, 0x2c, 0x31, 0x0a]) as unknown as string,
      `${'x'.repeat(5000)}\nlast,2`,
    ]);
    expect(got.map((l) => ('fields' in l ? `${l.row}:${l.fields.join('|')}` : `${l.row}!`))).toEqual([
      '1!',
      '2!',
      '3!',
      '4:ok|1',
      '5!',
      '6!',
      '7:last|2',
    ]);
    expect(got[2]).toEqual({ row: 3, problem: 'a quoted field is not closed on its line (no value may hold a line break)' });
  });
});

describe.each(DATABASES)('the relations import on %s', (name, makeDatabase) => {
  let db: TestDatabase;
  let store: Store;
  let trail: AuditTrail;
  let next = 0;
  /** A new citizen number for each call, apart for the two stores. */
  const citizen = () => (name === 'SQLite' ? 0 : 5000) + next++;
  const ref = (prefix = 'BIF') => `${prefix}-${name[0]}${next}-${randomBytes(3).toString('hex')}`;

  const run = (text: string, options: Partial<ImportOptions> = {}): Promise<ImportSummary> =>
    importRelations({ relations: store.relations, trail, pseudonyms, rules: () => rules }, [text], {
      administration: 'BIF',
      inFlight: 8,
      ...options,
    });
  /** The records a run wrote, in order. */
  const recordsOf = async (s: ImportSummary): Promise<AuditRecord[]> =>
    (await store.audit.range(IMPORT_SYSTEM, 1, 100_000)).filter((r) => r.requestId === s.runId);

  beforeAll(async () => {
    db = await makeDatabase(`relations_import_${name.toLowerCase()}`);
    store = await db.open();
    trail = await AuditTrail.open(store, { chain: IMPORT_SYSTEM });
  });
  afterAll(async () => {
    await trail?.close();
    await db?.cleanup();
  });

  it('registers the rows through the register, each with its audit record, and one record for the run', async () => {
    const [a, b] = [citizen(), citizen()];
    const refs = [ref(), ref()];
    const s = await run(csv([row(a, refs[0]!, { caseworker: 'bif-cw-7' }), row(b, refs[1]!, { to: day(300) })]));
    expect(s).toMatchObject({ rows: 2, counts: { added: 2, updated: 0, unchanged: 0, ended: 0, refused: 0 }, refused: [] });
    const stored = await store.relations.byCaseRef('BIF', refs[0]!);
    expect(stored?.relation).toMatchObject({
      subject: pseudonyms.pseudonym(cpr(a)),
      capacity: 'cash-benefit',
      caseworker: 'bif-cw-7',
      from: FROM,
      to: null,
    });
    expect(stored?.events).toEqual([
      expect.objectContaining({ type: 'registered', actor: { system: IMPORT_SYSTEM, administration: 'BIF', caseworker: 'bif-cw-7' } }),
    ]);
    const records = await recordsOf(s);
    expect(records).toHaveLength(3);
    const byCase = records.find((r) => r.caseRef === refs[0]);
    expect(byCase).toMatchObject({
      kind: 'relation',
      caller: { system: IMPORT_SYSTEM, administration: 'BIF' },
      caseworker: 'bif-cw-7',
      subject: pseudonyms.pseudonym(cpr(a)),
      reasons: ['RELATION_REGISTERED', `relation=${stored!.relation.id}`, 'capacity=cash-benefit', `case=${refs[0]}`, 'RELATION_BACKDATED'],
      status: 201,
    });
    expect(stored!.events[0]!.auditId).toBe(byCase!.auditId);
    expect(records.at(-1)).toMatchObject({
      kind: 'relation',
      auditId: s.auditId,
      subject: null,
      reasons: ['RELATION_IMPORT', `file=sha256:${s.fileDigest}`, 'added=2', 'updated=0', 'unchanged=0', 'ended=0', 'refused=0'],
    });
    expect(JSON.stringify(records)).not.toContain(cpr(a));
  });

  it('is idempotent per case reference: the same file again is unchanged and writes no row record; a changed row is an update', async () => {
    const refs = [ref(), ref(), ref()];
    const rows = refs.map((r) => row(citizen(), r));
    const first = await run(csv(rows));
    expect(first.counts).toMatchObject({ added: 3 });
    const again = await run(csv(rows));
    expect(again.counts).toEqual({ added: 0, updated: 0, unchanged: 3, ended: 0, refused: 0 });
    const records = await recordsOf(again);
    expect(records.map((r) => r.reasons[0])).toEqual(['RELATION_IMPORT']);
    // Once a row changes (here its caseworker), that row alone is an update, audited as the API audits one.
    const changed = [rows[0]!, rows[1]!.replace(',,', ',bif-cw-9,'), rows[2]!];
    const third = await run(csv(changed));
    expect(third.counts).toMatchObject({ updated: 1, unchanged: 2 });
    expect((await recordsOf(third)).map((r) => r.reasons.filter((x) => !x.includes('=') || x.startsWith('changed=')))).toEqual([
      ['RELATION_CHANGED', 'changed=caseworker'],
      ['RELATION_IMPORT'],
    ]);
  });

  it('refuses each bad row with its row number and code, changes nothing for it, and goes on', async () => {
    const taken = ref();
    await run(csv([row(citizen(), taken)]));
    const good = [ref(), ref()];
    const c = Array.from({ length: 12 }, () => citizen());
    const s = await run(
      csv([
        row(c[0]!, good[0]!), // row 2
        row(c[1]!, ref(), { capacity: 'no-such-capacity' }), // 3
        row(c[2]!, ref(), { from: day(-10), to: day(-20) }), // 4: ends before it starts
        row(c[3]!, `BIF-${cpr(c[3]!)}`), // 5: a CPR number in the case reference
        row(c[4]!, `BIF-${cpr(c[4]!).slice(0, 6)}-${cpr(c[4]!).slice(6)}`), // 6: in another written form
        row(c[5]!, taken), // 7: the case reference is another citizen's
        'BIF,"0101909901,cash-benefit,X,,2026-01-01,', // 8: a quote not closed
        `BIF,${cpr(c[6]!)},cash-benefit,${ref()}`, // 9: too few fields
        row(c[7]!, ref('SOF'), { admin: 'SOF', capacity: 'social-case' }), // 10: another administration
        row(c[8]!, ref(), { capacity: 'coordinating-caseworker' }), // 11: needs a role: through the API
        row(c[9]!, good[0]!.toLowerCase()), // 12: the case reference again
        row(c[10]!, ref(), { from: day(-400) }), // 13: backdated beyond the bound
        row(c[11]!, good[1]!), // 14
      ]),
    );
    expect(s.refused.map((r) => [r.row, r.code])).toEqual([
      [3, 'RELATION_CAPACITY_UNKNOWN'],
      [4, 'RELATION_PERIOD_INVALID'],
      [5, 'REQUEST_INVALID'],
      [6, 'REQUEST_INVALID'],
      [7, 'RELATION_CASE_REF_OTHER_CITIZEN'],
      [8, 'RELATION_IMPORT_ROW_MALFORMED'],
      [9, 'RELATION_IMPORT_ROW_MALFORMED'],
      [10, 'RELATION_IMPORT_OTHER_ADMINISTRATION'],
      [11, 'RELATION_IMPORT_CAPACITY_API_ONLY'],
      [12, 'RELATION_IMPORT_DUPLICATE'],
      [13, 'RELATION_DATE_OUT_OF_RANGE'],
    ]);
    expect(s.refused.find((r) => r.row === 5)?.message).toBe('Value not valid: caseRef may hold a CPR number, which no value but cpr may');
    expect(s.refused.find((r) => r.row === 12)?.message).toBe('Case reference on an earlier row (row 2)');
    expect(s.counts).toEqual({ added: 2, updated: 0, unchanged: 0, ended: 0, refused: 11 });
    // Nothing changed for the refused rows: the taken case reference is still the first citizen's, alone.
    const stillTaken = await store.relations.byCaseRef('BIF', taken);
    expect(stillTaken?.relation.version).toBe(1);
    expect(await store.relations.search({ subjects: pseudonyms.all(cpr(c[1]!)) })).toEqual([]);
    // The run's record counts the refusals by code; no row of a refused row has a record.
    const records = await recordsOf(s);
    expect(records).toHaveLength(3);
    expect(records.at(-1)!.reasons).toEqual(
      expect.arrayContaining(['refused=11', 'refused:REQUEST_INVALID=2', 'refused:RELATION_IMPORT_ROW_MALFORMED=2']),
    );
    // What the operator is shown never holds a CPR number, nor does the trail.
    const text = describeSummary(s);
    for (const i of c) expect(text).not.toContain(cpr(i));
    expect(mayHoldCpr(text)).toBe(false);
    expect(text).toContain('row 7: RELATION_CASE_REF_OTHER_CITIZEN: Case reference registered for another citizen');
    expect(mayHoldCpr(JSON.stringify(records.map((r) => ({ ...r, hash: '', prevHash: '' }))))).toBe(false);
  });

  it('refuses a file whose header is not the format, before anything is done', async () => {
    await expect(run(csv([row(citizen(), ref())], 'administration,cpr,capacity,caseRef,from,to,remark'))).rejects.toMatchObject({
      code: 'RELATION_IMPORT_HEADER_INVALID',
      extras: {
        errors: [{ path: 'row 1', message: 'column 7 is not one of administration, cpr, capacity, caseRef, caseworker, from, to' }],
      },
    });
    await expect(run(csv([], 'administration,cpr,capacity,from'))).rejects.toMatchObject({
      extras: { errors: [{ message: 'missing column(s): caseRef' }] },
    });
    // Columns in any order, optional ones left out.
    const s = await run(`caseRef,from,capacity,cpr,administration\n${ref()},${FROM},cash-benefit,${cpr(citizen())},BIF\n`);
    expect(s.counts.added).toBe(1);
  });

  it('checks a dry run like a run and writes nothing but its own record', async () => {
    const r = ref();
    const s = await run(csv([row(citizen(), r), row(citizen(), ref(), { capacity: 'nope' })]), { dryRun: true });
    expect(s.counts).toMatchObject({ added: 1, refused: 1 });
    expect(await store.relations.byCaseRef('BIF', r)).toBeUndefined();
    expect((await recordsOf(s)).map((x) => x.reasons.slice(0, 1).concat(x.reasons.filter((y) => y === 'dry-run')))).toEqual([
      ['RELATION_IMPORT', 'dry-run'],
    ]);
  });

  it('stops at the row where the store fails, keeps what was done before, and says so in its record', async () => {
    const refs = [ref(), ref(), ref()];
    let reads = 0;
    const failing = {
      ...store.relations,
      byCaseRefs: async (administration: string, caseRefs: readonly string[]) => {
        reads += 1;
        if (reads > 1) throw new Error('the store went away');
        return store.relations.byCaseRefs(administration, caseRefs);
      },
    };
    const text = csv(refs.map((r) => row(citizen(), r)));
    const s = await importRelations(
      { relations: failing, trail, pseudonyms, rules: () => rules },
      (async function* () {
        // One row a chunk, the reader waiting a moment between them: each row is its own read.
        for (const line of text.split(/(?<=\n)/)) {
          yield line;
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
      })(),
      { administration: 'BIF', inFlight: 1 },
    );
    expect(s.stopped).toEqual({ code: 'RELATION_REGISTER_UNAVAILABLE', row: 3 });
    expect(s.counts).toMatchObject({ added: 1, refused: 0 });
    expect(await store.relations.byCaseRef('BIF', refs[0]!)).toBeDefined();
    expect(await store.relations.byCaseRef('BIF', refs[2]!)).toBeUndefined();
    expect((await recordsOf(s)).at(-1)!.reasons).toContain('stopped=RELATION_REGISTER_UNAVAILABLE');
  });

  describe('reconcile', () => {
    // The other tests register BIF's relations only: SOF's are this file's alone.
    const admin = 'SOF';
    let rows: string[];
    let refs: string[];
    const reconcile = (text: string, o: Partial<NonNullable<ImportOptions['reconcile']>> = {}, more: Partial<ImportOptions> = {}) =>
      run(text, { administration: admin, reconcile: { maxEnd: { share: 0.1 }, force: false, ...o }, ...more });

    beforeAll(async () => {
      const capacity = [...rules.capacities.capacities.values()].find(
        (c) => c.administrations.includes(admin) && (c.roles ?? []).length === 0,
      );
      if (capacity === undefined) throw new Error(`no capacity for ${admin} in policies/capacities.yaml`);
      refs = Array.from({ length: 20 }, () => ref(admin));
      rows = refs.map((r, i) => row(citizen(), r, { admin, capacity: capacity.id, ...(i === 19 ? { from: day(10) } : {}) }));
      const s = await run(csv(rows), { administration: admin });
      expect(s.counts.added).toBe(20);
    });

    it('ends the relations in force or planned that the file leaves out, each audited, and imports what it lists', async () => {
      // Leaves out one in force (row 1) and the planned one (the last): 2 of 20, the guard allows 2.
      const s = await reconcile(csv(rows.slice(1, 19)));
      expect(s.reconcile).toEqual({ open: 20, notListed: 2, maxEnd: 2, withheld: undefined, notEnded: [] });
      expect(s.counts).toMatchObject({ unchanged: 18, ended: 2, refused: 0 });
      const inForce = (await store.relations.byCaseRef(admin, refs[0]!))!;
      expect(inForce.relation).toMatchObject({ to: day(-1), endReason: 'case-closed' });
      expect(inForce.events.at(-1)).toMatchObject({
        type: 'ended',
        actor: { system: IMPORT_SYSTEM, administration: admin, caseworker: null },
      });
      // A planned one ends the day before it starts: never in force.
      expect((await store.relations.byCaseRef(admin, refs[19]!))!.relation).toMatchObject({
        from: day(10),
        to: day(9),
        endReason: 'case-closed',
      });
      const records = await recordsOf(s);
      expect(records.map((r) => r.reasons[0])).toEqual(['RELATION_ENDED', 'RELATION_ENDED', 'RELATION_RECONCILE']);
      expect(records[0]!.reasons).toEqual(expect.arrayContaining(['case-closed', 'RELATION_NOT_LISTED']));
      // Again: nothing left to end, nothing written but the run's record.
      const again = await reconcile(csv(rows.slice(1, 19)));
      expect(again.counts).toMatchObject({ unchanged: 18, ended: 0 });
      expect(again.reconcile).toMatchObject({ open: 18, notListed: 0 });
      expect((await recordsOf(again)).map((r) => r.reasons[0])).toEqual(['RELATION_RECONCILE']);
    });

    it('ends none when the file leaves out more than --max-end allows, or some rows cannot be read, unless forced', async () => {
      const listed = rows.slice(1, 10); // leaves out 9 of the 18 in force
      const limited = await reconcile(csv(listed));
      expect(limited.reconcile).toMatchObject({ open: 18, notListed: 9, maxEnd: 1, withheld: 'RELATION_RECONCILE_LIMIT' });
      expect(limited.counts.ended).toBe(0);
      expect((await recordsOf(limited)).at(-1)!.reasons).toContain('withheld=RELATION_RECONCILE_LIMIT');
      expect((await store.relations.byCaseRef(admin, refs[15]!))!.relation.endReason).toBeNull();

      const unreadable = await reconcile(csv([...rows.slice(1, 19), 'BIF,"broken']));
      expect(unreadable.reconcile).toMatchObject({ notListed: 0, withheld: 'RELATION_RECONCILE_INCOMPLETE' });

      const counted = await reconcile(csv(listed), { maxEnd: { count: 9 } }, { dryRun: true });
      expect(counted.reconcile).toMatchObject({ notListed: 9, maxEnd: 9, withheld: undefined });
      expect(counted.counts.ended).toBe(9);
      expect((await store.relations.byCaseRef(admin, refs[15]!))!.relation.endReason).toBeNull(); // a dry run

      // Relations registered or changed after the file was exported are left alone.
      const later = await reconcile(csv(listed), { force: true, listedAt: new Date(Date.now() - 3600_000) }, { dryRun: true });
      expect(later.reconcile).toMatchObject({ notListed: 0 });

      const forced = await reconcile(csv(listed), { force: true });
      expect(forced.reconcile).toMatchObject({ notListed: 9, withheld: undefined });
      expect(forced.counts.ended).toBe(9);
      expect((await store.relations.byCaseRef(admin, refs[15]!))!.relation.endReason).toBe('case-closed');
    });
  });
});
