/**
 * The relations register end to end over mutual TLS, on SQLite and on PostgreSQL: a case system
 * registers, changes and ends its administration's relations; the same registration again
 * changes nothing; searches see only the caller's administration (the DPO sees all); every bad
 * input answers its code and changes nothing; the audit records hold the pseudonym, never the
 * CPR number. And, on one PostgreSQL shared by two gateway instances, an end recorded at one is
 * seen by the very next search at the other.
 */
import { jest } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import type { AuditRecord } from '../src/audit/types.js';
import { mayHoldCpr } from '../src/lib/cpr.js';
import { copenhagenDate } from '../src/policy/dates.js';
import { addDays, endRelation, registerRelation, type RelationCaller, type RelationsDeps } from '../src/relations/register.js';
import type { RelationStore } from '../src/relations/types.js';
import { population } from '../src/simulators/population.js';
import { postAs } from './support/calls.js';
import { DATABASES, postgresDatabase, type TestDatabase } from './support/databases.js';
import { startTestEnv, type TestEnv } from './support/env.js';

jest.setTimeout(90_000);

const citizens = population().filter((c) => c.employment !== null && c.social !== null);

interface RegisterBody {
  cpr: string;
  capacity: string;
  caseRef: string;
  from: string;
  to?: string;
  caseworker?: string;
  administration?: string;
}

interface RelationView {
  id: string;
  state: string;
  administration: string;
  capacity: string;
  caseRef: string;
  caseworker: string | null;
  from: string;
  to: string | null;
  endReason: string | null;
  events: { type: string; auditId: string; changed: string[]; reason: string | null }[];
}

const ref = (prefix: string) => `${prefix}-${randomUUID().slice(0, 8)}`;
/** Copenhagen days relative to today: the register bounds how far back a relation may start. */
const day = (offset: number, years = 0) => addDays(copenhagenDate(new Date()), offset, years);
const START = day(-100);

describe.each(DATABASES)('the relations register on %s', (name, makeDatabase) => {
  let db: TestDatabase;
  let env: TestEnv;
  let next = 0;
  const citizen = () => citizens[(name === 'SQLite' ? 30 : 300) + next++]!.cpr;
  const post = (client: string, path: string, body: unknown) => postAs(env.url, client, path, body, { purpose: 'plan-coordination' });
  const register = (body: RegisterBody, client = 'sof-case-system') => post(client, '/v1/relations', body);
  const search = (body: unknown, client = 'sof-case-system') => post(client, '/v1/relations/search', body);
  const end = (id: string, body: unknown, client = 'sof-case-system') => post(client, `/v1/relations/${id}/end`, body);
  const relationRecords = async (): Promise<AuditRecord[]> =>
    (await env.gateway.store.audit.search({ kind: 'relation', limit: 500 })).records;
  const stored = async (cpr: string) => env.gateway.store.relations.search({ subjects: env.gateway.pseudonyms.all(cpr) });

  beforeAll(async () => {
    db = await makeDatabase(`relations_e2e_${name.toLowerCase()}`);
    env = await startTestEnv({ name: `relations-e2e-${name.toLowerCase()}`, simulators: false, overrides: { store: db.storeConfig } });
  });
  afterAll(async () => {
    await env?.close();
    await db?.cleanup();
  });

  it('registers a relation (201), answers the same body again with the same relation and changes nothing', async () => {
    const cpr = citizen();
    const body = { cpr, capacity: 'social-case', caseRef: ref('SOF'), caseworker: 'sof-cw-0042', from: START };
    const first = await register(body);
    expect(first.status).toBe(201);
    const r = first.body as { relation: RelationView; auditId: string; outcome: string };
    expect(r.outcome).toBe('registered');
    expect(r.relation).toMatchObject({ state: 'active', administration: 'SOF', capacity: 'social-case', caseRef: body.caseRef, to: null });
    expect(JSON.stringify(first.body)).not.toContain(cpr);

    const again = await register(body);
    expect(again.status).toBe(200);
    const a = again.body as { relation: RelationView; auditId: string; outcome: string };
    expect({ ...a, auditId: r.auditId }).toEqual({ ...r, outcome: 'unchanged' });
    expect((await stored(cpr)).map((s) => s.relation.version)).toEqual([1]);
    // Sent again: nothing changes, and that is audited under its own record, whose id is answered.
    expect(a.auditId).not.toBe(r.auditId);
    const [unchanged] = (await env.gateway.store.audit.search({ auditId: a.auditId, limit: 5 })).records;
    expect(unchanged).toMatchObject({
      kind: 'relation',
      subject: env.gateway.pseudonyms.pseudonym(cpr),
      reasons: ['RELATION_UNCHANGED', `relation=${r.relation.id}`, 'capacity=social-case', `case=${body.caseRef}`],
      status: 200,
    });

    // The audit record: kind relation, the pseudonym, the ids; the token's case stays the record's
    // case reference, the relation's is in the reasons; a start before today is marked backdated.
    const [rec] = (await env.gateway.store.audit.search({ auditId: r.auditId, limit: 5 })).records;
    expect(rec).toMatchObject({
      kind: 'relation',
      subject: env.gateway.pseudonyms.pseudonym(cpr),
      caseRef: 'CASE-2026-0001',
      caller: { system: 'sof-case-system', administration: 'SOF' },
      reasons: ['RELATION_REGISTERED', `relation=${r.relation.id}`, 'capacity=social-case', `case=${body.caseRef}`, 'RELATION_BACKDATED'],
      status: 201,
    });
    expect(JSON.stringify(rec)).not.toContain(cpr);
  });

  it('marks only a start before today as backdated', async () => {
    const cpr = citizen();
    const res = await register({ cpr, capacity: 'social-case', caseRef: ref('SOF'), from: day(0) });
    expect(res.status).toBe(201);
    const [rec] = (await env.gateway.store.audit.search({ auditId: (res.body as { auditId: string }).auditId, limit: 5 })).records;
    expect(rec?.reasons).not.toContain('RELATION_BACKDATED');
  });

  it('changes a relation by its case reference, and ends it; the history says who did what under which audit record', async () => {
    const cpr = citizen();
    const body = { cpr, capacity: 'social-case', caseRef: ref('SOF'), from: START };
    const { relation } = (await register(body)).body as { relation: RelationView };
    const changed = await register({ ...body, capacity: 'housing-support', caseworker: 'sof-cw-0043' });
    expect(changed.status).toBe(200);
    expect(changed.body).toMatchObject({
      outcome: 'changed',
      relation: { id: relation.id, capacity: 'housing-support', caseworker: 'sof-cw-0043' },
    });

    const ended = await end(relation.id, { to: day(-10), reason: 'case-closed' });
    expect(ended.status).toBe(200);
    const view = (ended.body as { relation: RelationView; auditId: string }).relation;
    expect(view).toMatchObject({ state: 'ended', to: day(-10), endReason: 'case-closed' });
    expect(view.events.map((e) => [e.type, e.changed, e.reason])).toEqual([
      ['registered', [], null],
      ['changed', ['capacity', 'caseworker'], null],
      ['ended', [], 'case-closed'],
    ]);
    const [rec] = (await env.gateway.store.audit.search({ auditId: (ended.body as { auditId: string }).auditId, limit: 5 })).records;
    expect(rec?.reasons).toEqual([
      'RELATION_ENDED',
      `relation=${relation.id}`,
      'capacity=housing-support',
      `case=${body.caseRef}`,
      'case-closed',
    ]);

    // The same end again changes nothing; another end is refused; the registration retried keeps the end.
    expect((await end(relation.id, { to: day(-10), reason: 'case-closed' })).body).toMatchObject({ outcome: 'unchanged' });
    expect((await end(relation.id, { to: day(-5) })).body).toMatchObject({ code: 'RELATION_ALREADY_ENDED' });
    const retried = await register({ ...body, capacity: 'housing-support', caseworker: 'sof-cw-0043' });
    expect(retried.body).toMatchObject({ outcome: 'unchanged', relation: { state: 'ended', to: day(-10) } });
    // Registering it again with a new end (or any change) does not revive it.
    for (const again of [{ to: day(30) }, { caseworker: 'sof-cw-0044' }]) {
      const revived = await register({ ...body, capacity: 'housing-support', caseworker: 'sof-cw-0043', ...again });
      expect({ status: revived.status, code: (revived.body as { code?: string }).code }).toEqual({ status: 409, code: 'RELATION_ENDED' });
    }
    expect((await stored(cpr))[0]?.relation).toMatchObject({ to: day(-10), version: 3 });
    expect(await env.gateway.store.relations.active(env.gateway.pseudonyms.all(cpr), ['SOF'], day(-9))).toEqual([]);
    expect(await env.gateway.store.relations.active(env.gateway.pseudonyms.all(cpr), ['SOF'], day(-10))).toHaveLength(1);
  });

  it("searches only the caller's administration; the DPO sees every administration's", async () => {
    const cpr = citizen();
    const bifRef = ref('BIF');
    const sofRef = ref('SOF');
    expect((await register({ cpr, capacity: 'cash-benefit', caseRef: bifRef, from: START }, 'bif-jobcentre-system')).status).toBe(201);
    expect((await register({ cpr, capacity: 'support-contact-person', caseRef: sofRef, from: START })).status).toBe(201);

    const sof = await search({ cpr });
    expect(sof.status).toBe(200);
    expect((sof.body as { relations: RelationView[] }).relations.map((r) => r.caseRef)).toEqual([sofRef]);
    // Another administration's case reference finds nothing, exactly as an unknown one does.
    const theirs = await search({ caseRef: bifRef });
    const unknown = await search({ caseRef: ref('BIF') });
    expect((theirs.body as { relations: unknown[] }).relations).toEqual([]);
    expect((unknown.body as { relations: unknown[] }).relations).toEqual([]);
    const dpo = await search({ cpr }, 'dpo-console');
    expect((dpo.body as { relations: RelationView[] }).relations.map((r) => r.caseRef).sort()).toEqual([bifRef, sofRef].sort());

    // The search is audited, under the pseudonym.
    const [rec] = (await env.gateway.store.audit.search({ auditId: (sof.body as { auditId: string }).auditId, limit: 5 })).records;
    expect(rec).toMatchObject({ kind: 'relation', reasons: ['RELATION_SEARCH'], subject: env.gateway.pseudonyms.pseudonym(cpr) });
  });

  /** The register called in-process, as the route calls it, with a store that can be slowed down. */
  const direct = (relations: RelationStore = env.gateway.store.relations): RelationsDeps => ({
    relations,
    trail: env.gateway.trail,
    pseudonyms: env.gateway.pseudonyms,
    rules: () => env.gateway.rules(),
  });
  const caller = (roles: string[] = ['caseworker-system', 'coordinating-caseworker']): RelationCaller =>
    ({
      requestId: randomUUID(),
      client: { ...env.gateway.rules().clients.byId('sof-case-system')!, roles },
      token: { caseworker: 'sof-cw-0042', caseRef: null, purpose: 'plan-coordination', digest: 'x'.repeat(43) },
    }) as unknown as RelationCaller;
  /** A store whose reads wait until `n` requests have read: they all act on what they read, as in a race. */
  function racing(n: number): RelationStore {
    const real = env.gateway.store.relations;
    let waiting = 0;
    let release!: () => void;
    const all = new Promise<void>((resolve) => (release = resolve));
    const hold = async <T>(value: T): Promise<T> => {
      if (++waiting === n) release();
      await all;
      return value;
    };
    return {
      ...real,
      byCaseRef: async (...a) => hold(await real.byCaseRef(...a)),
      get: async (...a) => hold(await real.get(...a)),
    };
  }
  const records = async (reason: string) => (await env.gateway.store.audit.search({ reason, limit: 50 })).records;

  it('under a race, the trail says success only for the write that landed; the loser is refused and audited as such', async () => {
    const cpr = citizen();
    const caseRef = ref('SOF');
    const bodies = [
      { cpr, capacity: 'social-case', caseRef, from: START },
      { cpr, capacity: 'housing-support', caseRef, from: START },
    ];
    const both = racing(2);
    const raced = await Promise.allSettled(bodies.map((b) => registerRelation(direct(both), caller(), b)));
    expect(raced.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
    const won = (raced.find((r) => r.status === 'fulfilled') as PromiseFulfilledResult<Awaited<ReturnType<typeof registerRelation>>>).value;
    const lost = (raced.find((r) => r.status === 'rejected') as PromiseRejectedResult).reason as { code: string; auditId?: string };
    expect(lost.code).toBe('RELATION_CHANGED_MEANWHILE');
    const [s] = await stored(cpr);
    expect(s?.events.map((e) => e.auditId)).toEqual([won.auditId]);
    // One success record, the winner's; one refusal, the loser's, with its case reference.
    expect((await records(`case=${caseRef}`)).map((r) => [r.kind, r.reasons[0], r.auditId])).toEqual(
      expect.arrayContaining([
        ['relation', 'RELATION_REGISTERED', won.auditId],
        ['refusal', 'RELATION_CHANGED_MEANWHILE', lost.auditId],
      ]),
    );
    expect((await records(`case=${caseRef}`)).filter((r) => r.kind === 'relation')).toHaveLength(1);

    // An end racing a change: one wins, the other is refused; the trail agrees with the store.
    const store = racing(2);
    const [change, ending] = await Promise.allSettled([
      registerRelation(direct(store), caller(), { ...bodies[0]!, caseworker: 'sof-cw-0043' }),
      endRelation(direct(store), caller(), won.relation.id, { to: day(-1) }),
    ]);
    const outcomes = [change, ending].map((r) => (r.status === 'fulfilled' ? 'ok' : (r.reason as { code: string }).code));
    expect(outcomes.sort()).toEqual(['RELATION_CHANGED_MEANWHILE', 'ok']);
    const after = (await stored(cpr))[0]!;
    expect(after.relation.version).toBe(2);
    const successes = (await records(`case=${caseRef}`)).filter((r) => r.kind === 'relation').map((r) => r.auditId);
    expect(successes.sort()).toEqual(after.events.map((e) => e.auditId).sort());
  });

  it('stores a change and its record in one commit: with the trail down the answer is 503 and nothing is stored', async () => {
    const cpr = citizen();
    const down = { appendMany: () => Promise.reject(new Error('trail down')) } as unknown as RelationsDeps['trail'];
    const body = { cpr, capacity: 'social-case', caseRef: ref('SOF'), from: START };
    await expect(registerRelation({ ...direct(), trail: down }, caller(), body)).rejects.toMatchObject({ code: 'AUDIT_UNAVAILABLE' });
    expect(await stored(cpr)).toEqual([]);
    // Sending it again once the trail is back registers it, once.
    const again = await registerRelation(direct(), caller(), body);
    expect(again.outcome).toBe('registered');
    const [s] = await stored(cpr);
    expect(s?.events.map((e) => e.auditId)).toEqual([again.auditId]);
    expect((await env.gateway.store.audit.search({ auditId: again.auditId, limit: 5 })).records).toHaveLength(1);
  });

  describe('refuses bad input with its code, and changes nothing', () => {
    const CPR_FORMS = (cpr: string) => [cpr, `${cpr.slice(0, 6)}-${cpr.slice(6)}`, `SAG-${cpr}`];

    async function refused(
      send: () => Promise<{ status: number; body: unknown; text: string }>,
      status: number,
      code: string,
      cpr: string,
      echo: readonly string[] = [],
    ): Promise<AuditRecord> {
      const relationsBefore = JSON.stringify(await stored(cpr));
      const recordsBefore = (await relationRecords()).length;
      const res = await send();
      expect({ status: res.status, code: (res.body as { code?: string }).code }).toEqual({ status, code });
      expect(res.text).not.toContain(cpr);
      for (const e of echo) expect(res.text).not.toContain(e);
      expect(mayHoldCpr(res.text.replace(/"[0-9a-f-]{36}"/g, '""'))).toBe(false);
      expect(JSON.stringify(await stored(cpr))).toBe(relationsBefore);
      expect((await relationRecords()).length).toBe(recordsBefore);
      // The refusal itself is audited, without the citizen.
      const auditId = (res.body as { auditId?: string }).auditId;
      expect(auditId).toBeDefined();
      const [rec] = (await env.gateway.store.audit.search({ auditId: auditId!, limit: 5 })).records;
      expect(rec).toMatchObject({ kind: 'refusal', subject: null });
      expect(rec?.reasons[0]).toBe(code);
      return rec!;
    }

    it("an unknown capacity; the record keeps the token's case and names the body's case reference", async () => {
      const cpr = citizen();
      const caseRef = ref('SOF');
      const rec = await refused(
        () => register({ cpr, capacity: 'best-friend', caseRef, from: START }),
        400,
        'RELATION_CAPACITY_UNKNOWN',
        cpr,
      );
      expect(rec).toMatchObject({ caseRef: 'CASE-2026-0001', reasons: ['RELATION_CAPACITY_UNKNOWN', `case=${caseRef}`] });
    });

    it('a capacity of another administration', async () => {
      const cpr = citizen();
      await refused(
        () => register({ cpr, capacity: 'cash-benefit', caseRef: ref('SOF'), from: START }),
        403,
        'RELATION_CAPACITY_NOT_YOURS',
        cpr,
      );
    });

    it('a relation registered for another administration', async () => {
      const cpr = citizen();
      await refused(
        () => register({ cpr, administration: 'BIF', capacity: 'coordinating-caseworker', caseRef: ref('SOF'), from: START }),
        403,
        'RELATION_ADMINISTRATION_FORBIDDEN',
        cpr,
      );
    });

    it('an end before the start, when registering and when ending', async () => {
      const cpr = citizen();
      await refused(
        () => register({ cpr, capacity: 'social-case', caseRef: ref('SOF'), from: day(-50), to: day(-51) }),
        400,
        'RELATION_PERIOD_INVALID',
        cpr,
      );
      const { relation } = (await register({ cpr, capacity: 'social-case', caseRef: ref('SOF'), from: day(-50) })).body as {
        relation: RelationView;
      };
      // The day before the start is the earliest end (never in force); before that is refused.
      await refused(() => end(relation.id, { to: day(-52) }), 400, 'RELATION_PERIOD_INVALID', cpr);
    });

    it('an end that would lengthen the period', async () => {
      const cpr = citizen();
      const caseRef = ref('SOF');
      const { relation } = (await register({ cpr, capacity: 'social-case', caseRef, from: day(-50), to: day(20) })).body as {
        relation: RelationView;
      };
      const rec = await refused(() => end(relation.id, { to: day(21) }), 409, 'RELATION_END_LATER', cpr);
      expect(rec.reasons).toEqual(['RELATION_END_LATER', `relation=${relation.id}`, `case=${caseRef}`]);
      // Shortening is fine; so is an end the day before the start: never in force, on no day.
      expect((await end(relation.id, { to: day(-51) })).status).toBe(200);
      const subjects = env.gateway.pseudonyms.all(cpr);
      for (const d of [day(-51), day(-50), day(0)]) expect(await env.gateway.store.relations.active(subjects, ['SOF'], d)).toEqual([]);
      expect((await search({ cpr })).body).toMatchObject({ relations: [{ state: 'ended', to: day(-51) }] });
    });

    it('dates beyond the bounds: backdated too far, starting or ending too far ahead', async () => {
      const cpr = citizen();
      const bodies = [
        { from: day(-366) },
        { from: '0100-01-01' },
        { from: day(367) },
        { from: START, to: day(1, 10) },
        { from: START, to: '9999-12-31' },
      ];
      for (const dates of bodies)
        await refused(
          () => register({ cpr, capacity: 'social-case', caseRef: ref('SOF'), ...dates }),
          400,
          'RELATION_DATE_OUT_OF_RANGE',
          cpr,
        );
      // At the bounds themselves it is accepted.
      expect((await register({ cpr, capacity: 'social-case', caseRef: ref('SOF'), from: day(-365), to: day(0, 10) })).status).toBe(201);
    });

    it('case references with spaces at either end or in a run, and one registered in other letter case', async () => {
      const cpr = citizen();
      const caseRef = ref('SOF');
      expect((await register({ cpr, capacity: 'social-case', caseRef, from: START })).status).toBe(201);
      for (const bad of [`${caseRef} `, ` ${caseRef}`, `SOF  ${caseRef}`])
        await refused(() => register({ cpr, capacity: 'social-case', caseRef: bad, from: START }), 400, 'REQUEST_INVALID', cpr);
      await refused(
        () => register({ cpr, capacity: 'social-case', caseRef: caseRef.toLowerCase(), from: START }),
        409,
        'RELATION_CASE_REF_SPELLING',
        cpr,
      );
      await refused(
        () => register({ cpr, capacity: 'social-case', caseRef: ref('SOF'), caseworker: 'sof-cw-0042 ', from: START }),
        400,
        'REQUEST_INVALID',
        cpr,
      );
      expect((await register({ cpr, capacity: 'social-case', caseRef: `SOF ${caseRef}`, from: START })).status).toBe(201);
    });

    it('reports the first error of a body only', async () => {
      const cpr = citizen();
      const res = await register({ cpr, capacity: 'Not A Capacity', caseRef: ' x', from: 'soon' });
      expect(res.status).toBe(400);
      expect((res.body as { errors: unknown[] }).errors).toHaveLength(1);
    });

    it('a CPR number, in any written form, in a case reference or a caseworker id', async () => {
      const cpr = citizen();
      for (const form of CPR_FORMS(cpr)) {
        await refused(() => register({ cpr, capacity: 'social-case', caseRef: form, from: START }), 400, 'REQUEST_INVALID', cpr, [form]);
        await refused(
          () => register({ cpr, capacity: 'social-case', caseRef: ref('SOF'), caseworker: form, from: START }),
          400,
          'REQUEST_INVALID',
          cpr,
          [form],
        );
        await refused(() => search({ caseRef: form }), 400, 'REQUEST_INVALID', cpr, [form]);
      }
    });

    it("a case reference is each administration's own; the same one for another citizen is refused", async () => {
      const cpr = citizen();
      const other = citizen();
      const shared = ref('CASE');
      const bif = await register({ cpr: other, capacity: 'cash-benefit', caseRef: shared, from: START }, 'bif-jobcentre-system');
      expect(bif.status).toBe(201);
      // Another administration's reference is not squatted nor probed: SOF registers its own, for any citizen.
      const sof = await register({ cpr, capacity: 'social-case', caseRef: shared, from: START });
      expect(sof.status).toBe(201);
      const sofOther = await register({ cpr: other, capacity: 'social-case', caseRef: shared.toLowerCase(), from: START });
      expect({ status: sofOther.status, code: (sofOther.body as { code?: string }).code }).toEqual({
        status: 409,
        code: 'RELATION_CASE_REF_SPELLING',
      });
      expect((await search({ caseRef: shared })).body).toMatchObject({ relations: [{ administration: 'SOF', capacity: 'social-case' }] });
      expect((await search({ caseRef: shared }, 'bif-jobcentre-system')).body).toMatchObject({
        relations: [{ administration: 'BIF', capacity: 'cash-benefit' }],
      });
      const sofRef = ref('SOF');
      await register({ cpr: other, capacity: 'social-case', caseRef: sofRef, from: START });
      await refused(
        () => register({ cpr, capacity: 'social-case', caseRef: sofRef, from: START }),
        409,
        'RELATION_CASE_REF_OTHER_CITIZEN',
        cpr,
      );
    });

    it("ending another administration's relation looks exactly like ending one that does not exist", async () => {
      const cpr = citizen();
      const { relation } = (await register({ cpr, capacity: 'cash-benefit', caseRef: ref('BIF'), from: START }, 'bif-jobcentre-system'))
        .body as { relation: RelationView };
      await refused(() => end(relation.id, { to: day(-1) }), 404, 'RELATION_NOT_FOUND', cpr);
      const theirs = await end(relation.id, { to: day(-1) });
      const nobody = await end(randomUUID(), { to: day(-1) });
      const shape = (b: unknown) => ({ ...(b as object), requestId: undefined, auditId: undefined });
      expect(shape(theirs.body)).toEqual(shape(nobody.body));
      expect(theirs.status).toBe(nobody.status);
      expect((await stored(cpr))[0]?.relation.to).toBeNull();
    });

    it('a relation registered in error, voided: never in force, on the very next request', async () => {
      const cpr = citizen();
      const caseRef = ref('SOF');
      const { relation } = (await register({ cpr, capacity: 'social-case', caseRef, from: START })).body as { relation: RelationView };
      const subjects = env.gateway.pseudonyms.all(cpr);
      expect(await env.gateway.store.relations.active(subjects, ['SOF'], day(0))).toHaveLength(1);
      const voided = await end(relation.id, { reason: 'recorded-in-error' });
      expect(voided.status).toBe(200);
      expect((voided.body as { relation: RelationView }).relation).toMatchObject({
        state: 'voided',
        to: day(-101),
        endReason: 'recorded-in-error',
      });
      for (const d of [START, day(-1), day(0)]) expect(await env.gateway.store.relations.active(subjects, ['SOF'], d)).toEqual([]);
      // Neither an end nor a registration brings it back.
      await refused(() => end(relation.id, { to: day(-1) }), 409, 'RELATION_ALREADY_ENDED', cpr);
      await refused(() => register({ cpr, capacity: 'social-case', caseRef, from: START, to: day(100) }), 409, 'RELATION_ENDED', cpr);

      // An ended relation can still be voided, whatever its end date said.
      const ended = (await register({ cpr, capacity: 'housing-support', caseRef: ref('SOF'), from: START })).body as {
        relation: RelationView;
      };
      expect((await end(ended.relation.id, { to: day(0) })).status).toBe(200);
      expect((await end(ended.relation.id, { reason: 'recorded-in-error', to: day(-3) })).status).toBe(200);
      expect(await env.gateway.store.relations.active(subjects, ['SOF'], day(-50))).toEqual([]);
    });

    it('a coordinating-caseworker relation from a system without that role', async () => {
      const cpr = citizen();
      const body = { cpr, capacity: 'coordinating-caseworker', caseRef: ref('SOF'), from: START };
      await expect(registerRelation(direct(), caller(['caseworker-system']), body)).rejects.toMatchObject({
        code: 'RELATION_CAPACITY_NOT_YOURS',
      });
      expect(await stored(cpr)).toEqual([]);
      // The system holding the role may.
      expect((await register(body)).status).toBe(201);
    });

    it('a system without a case system role, even the DPO', async () => {
      const cpr = citizen();
      await refused(
        () => register({ cpr, capacity: 'coordinating-caseworker', caseRef: ref('DPO'), from: START }, 'dpo-console'),
        403,
        'FORBIDDEN_ROLE',
        cpr,
      );
      await refused(() => search({ cpr }, 'suf-health-system'), 403, 'FORBIDDEN_ROLE', cpr);
    });
  });
});

describe('the relations register on one PostgreSQL shared by two gateway instances', () => {
  let db: TestDatabase;
  let a: TestEnv;
  let b: TestEnv;
  beforeAll(async () => {
    db = await postgresDatabase('relations_instances');
    a = await startTestEnv({ name: 'relations-instance-a', simulators: false, overrides: { store: db.storeConfig, instanceId: 'gw-a' } });
    b = await startTestEnv({ name: 'relations-instance-b', simulators: false, overrides: { store: db.storeConfig, instanceId: 'gw-b' } });
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await db?.cleanup();
  });

  it('an end recorded at one instance holds on the very next search at the other', async () => {
    const cpr = citizens[900]!.cpr;
    const post = (env: TestEnv, path: string, body: unknown) =>
      postAs(env.url, 'sof-case-system', path, body, { purpose: 'plan-coordination' });
    const today = new Date().toISOString().slice(0, 10);
    const { relation } = (await post(a, '/v1/relations', { cpr, capacity: 'social-case', caseRef: ref('SOF'), from: START })).body as {
      relation: RelationView;
    };
    const seen = await post(b, '/v1/relations/search', { cpr });
    expect((seen.body as { relations: RelationView[] }).relations.map((r) => r.state)).toEqual(['active']);

    expect((await post(a, `/v1/relations/${relation.id}/end`, { to: day(-10) })).status).toBe(200);
    const after = await post(b, '/v1/relations/search', { cpr });
    expect((after.body as { relations: RelationView[] }).relations.map((r) => [r.state, r.to])).toEqual([['ended', day(-10)]]);
    expect(await b.gateway.store.relations.active(b.gateway.pseudonyms.all(cpr), ['SOF'], today)).toEqual([]);
  });
});
