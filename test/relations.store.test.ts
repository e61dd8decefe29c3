/**
 * The relations register's store, one suite for SQLite and PostgreSQL: relations are kept under
 * the citizen's pseudonym with their history, a write names the version it read, a case
 * reference belongs to one relation, the need-to-know read answers exactly the relations in
 * force on a day, through an index, and every read sees what another store handle (gateway
 * instance) wrote before it.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { Pseudonymizer } from '../src/audit/pseudonym.js';
import { AuditTrail } from '../src/audit/trail.js';
import { RelationConflictError, type Relation, type RelationEvent } from '../src/relations/types.js';
import { ChainConflictError } from '../src/store/types.js';
import { ACTIVE_SQL, PAGE_SQL } from '../src/store/postgres-relations.js';
import type { Store } from '../src/store/types.js';
import { auditEntry } from './support/audit-entries.js';
import { DATABASES, type TestDatabase } from './support/databases.js';

const oldKey = { id: 'k0', secret: randomBytes(32) };
const newKey = { id: 'k1', secret: randomBytes(32) };
const before = new Pseudonymizer({ keys: [oldKey], current: 'k0' });
const pseudonyms = new Pseudonymizer({ keys: [oldKey, newKey], current: 'k1' });
const CITIZEN = '0101909901';
const OTHER = '1505859902';
const sof = { system: 'sof-case-system', administration: 'SOF', caseworker: 'sof-cw-0042' };

function relation(over: Partial<Relation> = {}): Relation {
  const now = new Date().toISOString();
  return {
    id: randomUUID(),
    subject: pseudonyms.pseudonym(CITIZEN),
    administration: 'SOF',
    capacity: 'social-case',
    caseRef: `SOF-${randomUUID().slice(0, 8)}`,
    caseworker: 'sof-cw-0042',
    from: '2026-01-01',
    to: null,
    endReason: null,
    version: 1,
    registeredAt: now,
    updatedAt: now,
    ...over,
  };
}

const event = (type: RelationEvent['type'], over: Partial<RelationEvent> = {}): RelationEvent => ({
  type,
  at: new Date().toISOString(),
  actor: sof,
  auditId: randomUUID(),
  changed: [],
  reason: null,
  ...over,
});

describe.each(DATABASES)('%s relations store', (name, makeDatabase) => {
  let db: TestDatabase;
  let store: Store;
  beforeAll(async () => {
    db = await makeDatabase(`relations_store_${name.toLowerCase()}`);
    store = await db.open();
  });
  afterAll(async () => {
    await db?.cleanup();
  });

  it('keeps a relation under the pseudonym with its history, found by id, case reference and citizen', async () => {
    const r = relation();
    const registered = event('registered');
    expect(await store.relations.save(r, registered, 0)).toBe('saved');
    expect(await store.relations.get(r.id)).toEqual({ relation: r, events: [registered] });
    expect(await store.relations.byCaseRef('SOF', r.caseRef)).toEqual({ relation: r, events: [registered] });
    // The reference is compared without regard to letter case, within the administration only.
    expect(await store.relations.byCaseRef('SOF', r.caseRef.toLowerCase())).toEqual({ relation: r, events: [registered] });
    expect(await store.relations.byCaseRef('BIF', r.caseRef)).toBeUndefined();
    const found = await store.relations.search({ subjects: pseudonyms.all(CITIZEN), administrations: ['SOF'] });
    expect(found.map((s) => s.relation.id)).toContain(r.id);
    // No CPR number anywhere in the rows.
    const rows = await db.query<Record<string, unknown>>('SELECT * FROM relation');
    const events = await db.query<Record<string, unknown>>('SELECT * FROM relation_event');
    expect(JSON.stringify([rows, events])).not.toContain(CITIZEN);
  });

  it('writes a relation on the audit append of its record: both in one commit, or neither', async () => {
    const trail = await AuditTrail.open(store, { chain: `rel-${randomUUID().slice(0, 8)}` });
    const recorded = async (auditId: string) => (await store.audit.search({ auditId, limit: 5 })).records.length;
    const r = relation();
    const registered = event('registered');
    await trail.appendMany([auditEntry({ kind: 'relation', auditId: registered.auditId })], {
      relation: { relation: r, event: registered, expectedVersion: 0 },
    });
    expect(await store.relations.get(r.id)).toEqual({ relation: r, events: [registered] });
    expect(await recorded(registered.auditId)).toBe(1);

    // Two writers read version 1 and share one commit: the one that lost writes nothing, neither
    // relation nor record; the other, and an append without a relation, land.
    const first = event('changed', { changed: ['caseworker'] });
    const second = event('changed', { changed: ['capacity'] });
    const plain = auditEntry();
    const [won, lost, other] = await Promise.allSettled([
      trail.appendMany([auditEntry({ kind: 'relation', auditId: first.auditId })], {
        relation: { relation: { ...r, caseworker: 'sof-cw-0043', version: 2 }, event: first, expectedVersion: 1 },
      }),
      trail.appendMany([auditEntry({ kind: 'relation', auditId: second.auditId })], {
        relation: { relation: { ...r, capacity: 'housing-support', version: 2 }, event: second, expectedVersion: 1 },
      }),
      trail.appendMany([plain]),
    ]);
    expect([won.status, other.status]).toEqual(['fulfilled', 'fulfilled']);
    expect(lost.status === 'rejected' && lost.reason instanceof RelationConflictError).toBe(true);
    expect(await recorded(first.auditId)).toBe(1);
    expect(await recorded(second.auditId)).toBe(0);
    expect(await recorded(plain.auditId)).toBe(1);
    expect((await store.relations.get(r.id))?.events.map((e) => e.auditId)).toEqual([registered.auditId, first.auditId]);

    // Records that do not continue the chain: the relation is not written either.
    const orphan = relation();
    const head = (await store.audit.head(trail.chain))!;
    const stray = { ...head, id: randomUUID(), auditId: randomUUID() };
    await expect(
      store.audit.append([stray], [], [], undefined, [{ relation: orphan, event: event('registered'), expectedVersion: 0 }]),
    ).rejects.toBeInstanceOf(ChainConflictError);
    expect(await store.relations.get(orphan.id)).toBeUndefined();
    await trail.close();
  });

  it('writes many new relations sharing one commit together; a registration that lost its case reference writes nothing', async () => {
    const trail = await AuditTrail.open(store, { chain: `rel-${randomUUID().slice(0, 8)}` });
    const recorded = async (auditId: string) => (await store.audit.search({ auditId, limit: 5 })).records.length;
    const taken = relation();
    await store.relations.save(taken, event('registered'), 0);
    const fresh = Array.from({ length: 5 }, () => relation());
    const clash = relation({
      caseRef: taken.caseRef.toUpperCase() === taken.caseRef ? taken.caseRef.toLowerCase() : taken.caseRef.toUpperCase(),
    });
    const writes = [...fresh.slice(0, 2), clash, ...fresh.slice(2)].map((r) => ({ r, e: event('registered') }));
    const outcomes = await Promise.allSettled(
      writes.map(({ r, e }) =>
        trail.appendMany([auditEntry({ kind: 'relation', auditId: e.auditId })], {
          relation: { relation: r, event: e, expectedVersion: 0 },
        }),
      ),
    );
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'fulfilled', 'fulfilled', 'fulfilled']);
    for (const { r, e } of writes) {
      const lost = r === clash;
      expect(await store.relations.get(r.id)).toEqual(lost ? undefined : { relation: r, events: [e] });
      expect(await recorded(e.auditId)).toBe(lost ? 0 : 1);
    }
    // Read back many at once, in the order asked, in any letter case; a reference not held answers undefined.
    const found = await store.relations.byCaseRefs('SOF', [fresh[3]!.caseRef.toUpperCase(), 'SOF-none', fresh[0]!.caseRef]);
    expect(found.map((f) => f?.relation.id)).toEqual([fresh[3]!.id, undefined, fresh[0]!.id]);
    expect(found[0]?.events).toHaveLength(1);
    expect(await store.relations.byCaseRefs('BIF', [fresh[0]!.caseRef])).toEqual([undefined]);
    await trail.close();
  });

  it('changes and ends a relation only from the version it read, appending to its history', async () => {
    const r = relation();
    await store.relations.save(r, event('registered'), 0);
    const changed = { ...r, caseworker: 'sof-cw-0043', version: 2, updatedAt: new Date().toISOString() };
    const change = event('changed', { changed: ['caseworker'] });
    expect(await store.relations.save(changed, change, 1)).toBe('saved');
    // A writer that read version 1 too comes too late: nothing changes.
    const late = { ...r, capacity: 'housing-support', version: 2 };
    expect(await store.relations.save(late, event('changed', { changed: ['capacity'] }), 1)).toBe('conflict');
    const ended = { ...changed, to: '2026-03-31', endReason: 'case-closed' as const, version: 3 };
    const end = event('ended', { reason: 'case-closed' });
    expect(await store.relations.save(ended, end, 2)).toBe('saved');
    const stored = await store.relations.get(r.id);
    expect(stored?.relation).toEqual(ended);
    expect(stored?.events.map((e) => [e.type, e.changed, e.reason])).toEqual([
      ['registered', [], null],
      ['changed', ['caseworker'], null],
      ['ended', [], 'case-closed'],
    ]);
  });

  it("keeps a case reference to one relation per administration, in any letter case; other administrations' are theirs", async () => {
    const r = relation();
    await store.relations.save(r, event('registered'), 0);
    const bif = relation({ caseRef: r.caseRef, administration: 'BIF', capacity: 'cash-benefit' });
    expect(await store.relations.save(bif, event('registered'), 0)).toBe('saved');
    expect((await store.relations.byCaseRef('BIF', r.caseRef))?.relation).toEqual(bif);
    for (const caseRef of [r.caseRef, r.caseRef.toLowerCase()]) {
      const again = relation({ caseRef });
      expect(await store.relations.save(again, event('registered'), 0)).toBe('conflict');
      expect(await store.relations.get(again.id)).toBeUndefined();
    }
    // Nor can an update move a relation to another citizen, administration or case reference.
    const moved = { ...r, subject: pseudonyms.pseudonym(OTHER), version: 2 };
    expect(await store.relations.save(moved, event('changed'), 1)).toBe('conflict');
    expect((await store.relations.get(r.id))?.relation).toEqual(r);
  });

  it('searches by case reference and citizen within the administrations given, and by nothing else', async () => {
    const cpr = '0202929903';
    const mine = relation({ subject: pseudonyms.pseudonym(cpr) });
    const theirs = relation({ subject: pseudonyms.pseudonym(cpr), administration: 'BIF', capacity: 'cash-benefit' });
    await store.relations.save(mine, event('registered'), 0);
    await store.relations.save(theirs, event('registered', { actor: { ...sof, administration: 'BIF' } }), 0);
    const ids = async (q: Parameters<Store['relations']['search']>[0]) =>
      (await store.relations.search(q)).map((s) => s.relation.id).sort();
    expect(await ids({ subjects: pseudonyms.all(cpr), administrations: ['SOF'] })).toEqual([mine.id]);
    expect(await ids({ subjects: pseudonyms.all(cpr) })).toEqual([mine.id, theirs.id].sort());
    expect(await ids({ caseRef: theirs.caseRef, administrations: ['SOF'] })).toEqual([]);
    expect(await ids({ caseRef: theirs.caseRef, subjects: pseudonyms.all(cpr) })).toEqual([theirs.id]);
    expect(await ids({ subjects: pseudonyms.all(cpr), administrations: [] })).toEqual([]);
    await expect(store.relations.search({ administrations: ['SOF'] })).rejects.toThrow(TypeError);
  });

  it('answers the relations in force on a day for the administrations asked, under every pseudonym key', async () => {
    const cpr = '0303939904';
    // Registered before the key rotation: under the old key's pseudonym.
    const old = relation({ subject: before.pseudonym(cpr), from: '2025-01-01', to: '2025-12-31' });
    const open = relation({ subject: pseudonyms.pseudonym(cpr), from: '2026-02-01' });
    const bif = relation({ subject: pseudonyms.pseudonym(cpr), administration: 'BIF', capacity: 'cash-benefit', from: '2025-06-01' });
    for (const r of [old, open, bif]) await store.relations.save(r, event('registered'), 0);
    const active = async (day: string, admins: string[]) =>
      (await store.relations.active(pseudonyms.all(cpr), admins, day)).map((r) => r.id).sort();
    expect(await active('2024-12-31', ['SOF'])).toEqual([]);
    expect(await active('2025-01-01', ['SOF'])).toEqual([old.id]);
    expect(await active('2025-12-31', ['SOF'])).toEqual([old.id]);
    expect(await active('2026-01-15', ['SOF'])).toEqual([]);
    expect(await active('2026-02-01', ['SOF'])).toEqual([open.id]);
    expect(await active('2026-02-01', ['SOF', 'BIF'])).toEqual([open.id, bif.id].sort());
    expect(await active('2026-02-01', ['BUF'])).toEqual([]);
    expect(await store.relations.active([], ['SOF'], '2026-02-01')).toEqual([]);
    expect(await store.relations.active(pseudonyms.all(OTHER), ['SOF'], '2026-02-01')).toEqual([]);
    const [one] = await store.relations.active(pseudonyms.all(cpr), ['BIF'], '2026-02-01');
    expect(one).toEqual(bif);
    await expect(store.relations.active(pseudonyms.all(cpr), ['SOF'], '1 Feb 2026')).rejects.toThrow(TypeError);
  });

  it('never answers a voided relation, nor one that ends before it starts, whatever the day', async () => {
    const cpr = '0505959906';
    const voided = relation({ subject: pseudonyms.pseudonym(cpr), from: '2026-01-01' });
    const never = relation({ subject: pseudonyms.pseudonym(cpr), from: '2026-01-01' });
    for (const r of [voided, never]) await store.relations.save(r, event('registered'), 0);
    expect(await store.relations.active(pseudonyms.all(cpr), ['SOF'], '2026-02-01')).toHaveLength(2);
    await store.relations.save(
      { ...voided, endReason: 'recorded-in-error', version: 2 },
      event('ended', { reason: 'recorded-in-error' }),
      1,
    );
    await store.relations.save(
      { ...never, to: '2025-12-31', endReason: 'case-closed', version: 2 },
      event('ended', { reason: 'case-closed' }),
      1,
    );
    for (const day of ['2025-12-31', '2026-01-01', '2026-02-01', '2030-01-01'])
      expect(await store.relations.active(pseudonyms.all(cpr), ['SOF'], day)).toEqual([]);
  });

  it('updates a relation registered under a pseudonym key rotated since, and moves it to the current key', async () => {
    const cpr = '0606969907';
    const r = relation({ subject: before.pseudonym(cpr) });
    await store.relations.save(r, event('registered'), 0);
    const changed = { ...r, subject: pseudonyms.pseudonym(cpr), caseworker: 'sof-cw-0043', version: 2 };
    // Matched under the current key only, the row is not found: stranded.
    expect(await store.relations.save(changed, event('changed', { changed: ['caseworker'] }), 1)).toBe('conflict');
    // Matched under any of the citizen's pseudonyms, it is updated and re-keyed.
    expect(await store.relations.save(changed, event('changed', { changed: ['caseworker'] }), 1, pseudonyms.all(cpr))).toBe('saved');
    expect((await store.relations.get(r.id))?.relation).toEqual(changed);
    expect((await store.relations.search({ subjects: [pseudonyms.pseudonym(cpr)] })).map((s) => s.relation.id)).toEqual([r.id]);
    // Another citizen's pseudonyms do not match.
    const other = { ...changed, caseworker: 'sof-cw-0044', version: 3 };
    expect(await store.relations.save(other, event('changed'), 2, pseudonyms.all(OTHER))).toBe('conflict');
  });

  it('shows an end written through one store handle to the next read through another (no cache)', async () => {
    const other = await db.open();
    const cpr = '0404949905';
    const r = relation({ subject: pseudonyms.pseudonym(cpr) });
    await store.relations.save(r, event('registered'), 0);
    expect(await other.relations.active(pseudonyms.all(cpr), ['SOF'], '2026-06-01')).toHaveLength(1);
    await store.relations.save(
      { ...r, to: '2026-05-31', endReason: 'case-closed', version: 2 },
      event('ended', { reason: 'case-closed' }),
      1,
    );
    expect(await other.relations.active(pseudonyms.all(cpr), ['SOF'], '2026-06-01')).toEqual([]);
    expect(await other.relations.active(pseudonyms.all(cpr), ['SOF'], '2026-05-31')).toHaveLength(1);
  });

  it('refuses what no caller may pass: a CPR number as subject, a version out of step', async () => {
    await expect(store.relations.save(relation({ subject: CITIZEN }), event('registered'), 0)).rejects.toThrow(TypeError);
    await expect(store.relations.save(relation({ version: 2 }), event('registered'), 0)).rejects.toThrow(TypeError);
    await expect(store.relations.save(relation(), event('changed'), 0)).rejects.toThrow(TypeError);
    await expect(store.relations.save(relation(), event('registered'), 0, [CITIZEN])).rejects.toThrow(TypeError);
  });

  it('counts the citizens held on a day per combination of administrations, a citizen once per pseudonym key', async () => {
    const day = '2026-03-01';
    const count = async () => new Map((await store.relations.sharedCitizens(day)).map((c) => [c.administrations.join('+'), c.citizens]));
    const counted = await count();
    const cash = { administration: 'BIF', capacity: 'cash-benefit' };
    const at = (cpr: string, over: Partial<Relation> = {}) => relation({ subject: pseudonyms.pseudonym(cpr), from: '2026-01-01', ...over });
    const both = '0707979908';
    const twice = '0808989909';
    const voided = '0909999910';
    const ended = '1010909911';
    const planned = '1111919912';
    const rekeyed = '1212929913';
    const saved = [
      at(both),
      at(both, cash),
      at(twice),
      at(twice, { capacity: 'housing-support' }),
      at(voided, cash),
      at(ended, cash),
      at(planned, { from: '2026-04-01' }),
      // Registered before the key rotation and not updated since: the old key's pseudonym.
      relation({ subject: before.pseudonym(rekeyed), from: '2026-01-01', ...cash }),
      at(rekeyed),
    ];
    for (const r of saved) expect(await store.relations.save(r, event('registered'), 0)).toBe('saved');
    const voidedSof = at(voided);
    const endedSof = at(ended, { to: '2026-02-28' });
    for (const r of [voidedSof, endedSof]) await store.relations.save(r, event('registered'), 0);
    await store.relations.save(
      { ...voidedSof, endReason: 'recorded-in-error', version: 2 },
      event('ended', { reason: 'recorded-in-error' }),
      1,
    );

    const after = await count();
    const delta = (key: string) => (after.get(key) ?? 0) - (counted.get(key) ?? 0);
    expect(delta('BIF+SOF')).toBe(1); // both
    expect(delta('SOF')).toBe(2); // twice (two SOF relations, one citizen), and rekeyed's current key
    expect(delta('BIF')).toBe(3); // voided, ended (SOF no longer in force), and rekeyed's old key
    expect(delta('BUF')).toBe(0);
    // Nothing but administrations and counts: no pseudonym leaves the store.
    expect(JSON.stringify(await store.relations.sharedCitizens(day))).not.toMatch(/k[01]:/);
    await expect(store.relations.sharedCitizens('1 March 2026')).rejects.toThrow(TypeError);
  });

  it('finds the relations ended soon after their registration, with their history', async () => {
    const t0 = Date.parse('2024-03-01T10:00:00.000Z');
    const iso = (hours: number) => new Date(t0 + hours * 3_600_000).toISOString();
    const at = (registered: number) => relation({ from: '2024-03-01', registeredAt: iso(registered), updatedAt: iso(registered) });
    const end = async (r: Relation, hours: number, reason: Relation['endReason'], version = 2) => {
      const ended = { ...r, endReason: reason, version, updatedAt: iso(hours) };
      await store.relations.save(ended, event('ended', { at: iso(hours), reason }), version - 1);
      return ended;
    };
    const quick = at(0);
    const slow = at(0);
    const open = at(0);
    const voidedLater = at(1);
    for (const r of [quick, slow, open, voidedLater]) await store.relations.save(r, event('registered', { at: r.registeredAt }), 0);
    await end(quick, 30, 'case-closed');
    await end(slow, 200, 'case-closed');
    // Ended after 10 hours, voided two weeks later: the first end is the short one.
    const first = await end(voidedLater, 11, 'case-closed');
    await end(first, 340, 'recorded-in-error', 3);

    const ids = async (from: number, to: number, withinHours = 96) =>
      (await store.relations.shortLived({ endedFrom: iso(from), endedTo: iso(to), withinMs: withinHours * 3_600_000, limit: 50 })).map(
        (s) => s.relation.id,
      );
    expect((await ids(0, 400)).sort()).toEqual([quick.id, voidedLater.id].sort());
    expect(await ids(0, 20)).toEqual([voidedLater.id]);
    expect(await ids(31, 400)).toEqual([]); // the short ends lie before the period
    expect(await ids(0, 400, 5)).toEqual([]);
    expect((await ids(0, 400, 400)).length).toBe(3);
    const [found] = await store.relations.shortLived({ endedFrom: iso(20), endedTo: iso(40), withinMs: 96 * 3_600_000, limit: 1 });
    expect(found?.relation.id).toBe(quick.id);
    expect(found?.events.map((e) => [e.type, e.at])).toEqual([
      ['registered', iso(0)],
      ['ended', iso(30)],
    ]);
    await expect(store.relations.shortLived({ endedFrom: 'then', endedTo: iso(1), withinMs: 1, limit: 1 })).rejects.toThrow(TypeError);
  });

  it("pages through an administration's relations by case reference, without regard to letter case, whatever their state", async () => {
    const admin = `P${randomBytes(2).toString('hex').toUpperCase()}`.slice(0, 5);
    const refs = ['b-2', 'A-1', 'c-3', 'B-10', 'a-0'];
    for (const [i, caseRef] of refs.entries()) {
      const r = relation({ administration: admin, caseRef, ...(i === 2 ? { to: '2026-01-31', endReason: 'case-closed' } : {}) });
      expect(await store.relations.save(r, event('registered'), 0)).toBe('saved');
    }
    await store.relations.save(relation({ administration: 'SOF', caseRef: 'a-00' }), event('registered'), 0);
    const pages: string[][] = [];
    let page = await store.relations.byAdministration(admin, undefined, 2);
    while (page.length > 0) {
      pages.push(page.map((r) => r.caseRef));
      page = await store.relations.byAdministration(admin, page.at(-1)!.caseRef, 2);
    }
    expect(pages).toEqual([['a-0', 'A-1'], ['B-10', 'b-2'], ['c-3']]);
    expect((await store.relations.byAdministration(admin, 'B-2', 10)).map((r) => r.caseRef)).toEqual(['c-3']);
    expect((await store.relations.byAdministration(admin, 'a-0', 1))[0]).toMatchObject({
      caseRef: 'A-1',
      subject: pseudonyms.pseudonym(CITIZEN),
    });
    await expect(store.relations.byAdministration(admin, undefined, 0)).rejects.toThrow(TypeError);
  });

  if (name === 'PostgreSQL') {
    it('answers the need-to-know read from the relation_active index (EXPLAIN)', async () => {
      await db.exec(
        `INSERT INTO relation (id, subject, administration, capacity, case_ref, caseworker, valid_from, valid_to, end_reason, version, registered_at, updated_at)
         SELECT 'bulk-' || g, 'k1:' || md5(g::text) || 'aaaaaaaaaaa', (ARRAY['BIF','SOF','SUF','BUF'])[1 + g % 4], 'social-case', 'BULK-' || g, NULL,
                '2025-01-01', NULL, NULL, 1, '2025-01-01T00:00:00.000Z', '2025-01-01T00:00:00.000Z'
           FROM generate_series(1, 20000) AS g`,
      );
      await db.exec('ANALYZE relation');
      const plan = await db.query<{ 'QUERY PLAN': string }>(
        `EXPLAIN ${ACTIVE_SQL.replace('$1::text[]', "ARRAY['k1:x','k0:y']::text[]")
          .replace('$2::text[]', "ARRAY['SOF']::text[]")
          .replaceAll('$3', "'2026-02-01'")
          .replaceAll('$4', "'recorded-in-error'")}`,
      );
      const text = plan.map((p) => p['QUERY PLAN']).join('\n');
      expect(text).toContain('relation_active');
      expect(text).not.toMatch(/Seq Scan/);
    });

    it("pages through an administration's relations on the relation_case_ref index (EXPLAIN)", async () => {
      const plan = await db.query<{ 'QUERY PLAN': string }>(
        `EXPLAIN ${PAGE_SQL.replace('$1', "'SOF'").replace('$2', "'BULK-100'").replace('$3', '1000')}`,
      );
      const text = plan.map((p) => p['QUERY PLAN']).join('\n');
      expect(text).toContain('relation_case_ref');
      expect(text).not.toMatch(/Seq Scan/);
    });
  }
});
