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
    const body = { cpr, capacity: 'social-case', caseRef: ref('SOF'), caseworker: 'sof-cw-0042', from: '2025-01-01' };
    const first = await register(body);
    expect(first.status).toBe(201);
    const r = first.body as { relation: RelationView; auditId: string; outcome: string };
    expect(r.outcome).toBe('registered');
    expect(r.relation).toMatchObject({ state: 'active', administration: 'SOF', capacity: 'social-case', caseRef: body.caseRef, to: null });
    expect(JSON.stringify(first.body)).not.toContain(cpr);

    const recordsBefore = (await relationRecords()).length;
    const again = await register(body);
    expect(again.status).toBe(200);
    expect(again.body).toEqual({ ...r, outcome: 'unchanged' });
    expect((await relationRecords()).length).toBe(recordsBefore);
    expect((await stored(cpr)).map((s) => s.relation.version)).toEqual([1]);

    // The audit record: kind relation, the pseudonym, the ids; no CPR number, no data value.
    const [rec] = (await env.gateway.store.audit.search({ auditId: r.auditId, limit: 5 })).records;
    expect(rec).toMatchObject({
      kind: 'relation',
      subject: env.gateway.pseudonyms.pseudonym(cpr),
      caseRef: body.caseRef,
      caller: { system: 'sof-case-system', administration: 'SOF' },
      reasons: ['RELATION_REGISTERED', `relation=${r.relation.id}`, 'capacity=social-case'],
      status: 201,
    });
    expect(JSON.stringify(rec)).not.toContain(cpr);
  });

  it('changes a relation by its case reference, and ends it; the history says who did what under which audit record', async () => {
    const cpr = citizen();
    const body = { cpr, capacity: 'social-case', caseRef: ref('SOF'), from: '2025-01-01' };
    const { relation } = (await register(body)).body as { relation: RelationView };
    const changed = await register({ ...body, capacity: 'housing-support', caseworker: 'sof-cw-0043' });
    expect(changed.status).toBe(200);
    expect(changed.body).toMatchObject({
      outcome: 'changed',
      relation: { id: relation.id, capacity: 'housing-support', caseworker: 'sof-cw-0043' },
    });

    const ended = await end(relation.id, { to: '2025-06-30', reason: 'case-closed' });
    expect(ended.status).toBe(200);
    const view = (ended.body as { relation: RelationView; auditId: string }).relation;
    expect(view).toMatchObject({ state: 'ended', to: '2025-06-30', endReason: 'case-closed' });
    expect(view.events.map((e) => [e.type, e.changed, e.reason])).toEqual([
      ['registered', [], null],
      ['changed', ['capacity', 'caseworker'], null],
      ['ended', [], 'case-closed'],
    ]);
    const [rec] = (await env.gateway.store.audit.search({ auditId: (ended.body as { auditId: string }).auditId, limit: 5 })).records;
    expect(rec?.reasons).toEqual(['RELATION_ENDED', `relation=${relation.id}`, 'capacity=housing-support', 'case-closed']);

    // The same end again changes nothing; another end is refused; the registration retried keeps the end.
    expect((await end(relation.id, { to: '2025-06-30', reason: 'case-closed' })).body).toMatchObject({ outcome: 'unchanged' });
    expect((await end(relation.id, { to: '2025-07-31' })).body).toMatchObject({ code: 'RELATION_ALREADY_ENDED' });
    const retried = await register({ ...body, capacity: 'housing-support', caseworker: 'sof-cw-0043' });
    expect(retried.body).toMatchObject({ outcome: 'unchanged', relation: { state: 'ended', to: '2025-06-30' } });
    expect(await env.gateway.store.relations.active(env.gateway.pseudonyms.all(cpr), ['SOF'], '2025-07-01')).toEqual([]);
    expect(await env.gateway.store.relations.active(env.gateway.pseudonyms.all(cpr), ['SOF'], '2025-06-30')).toHaveLength(1);
  });

  it("searches only the caller's administration; the DPO sees every administration's", async () => {
    const cpr = citizen();
    const bifRef = ref('BIF');
    const sofRef = ref('SOF');
    expect((await register({ cpr, capacity: 'cash-benefit', caseRef: bifRef, from: '2025-01-01' }, 'bif-jobcentre-system')).status).toBe(
      201,
    );
    expect((await register({ cpr, capacity: 'support-contact-person', caseRef: sofRef, from: '2025-01-01' })).status).toBe(201);

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

  describe('refuses bad input with its code, and changes nothing', () => {
    const CPR_FORMS = (cpr: string) => [cpr, `${cpr.slice(0, 6)}-${cpr.slice(6)}`, `SAG-${cpr}`];

    async function refused(
      send: () => Promise<{ status: number; body: unknown; text: string }>,
      status: number,
      code: string,
      cpr: string,
      echo: readonly string[] = [],
    ): Promise<void> {
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
      expect(rec).toMatchObject({ kind: 'refusal', reasons: [code], subject: null });
    }

    it('an unknown capacity', async () => {
      const cpr = citizen();
      await refused(
        () => register({ cpr, capacity: 'best-friend', caseRef: ref('SOF'), from: '2025-01-01' }),
        400,
        'RELATION_CAPACITY_UNKNOWN',
        cpr,
      );
    });

    it('a capacity of another administration', async () => {
      const cpr = citizen();
      await refused(
        () => register({ cpr, capacity: 'cash-benefit', caseRef: ref('SOF'), from: '2025-01-01' }),
        403,
        'RELATION_CAPACITY_NOT_YOURS',
        cpr,
      );
    });

    it('a relation registered for another administration', async () => {
      const cpr = citizen();
      await refused(
        () => register({ cpr, administration: 'BIF', capacity: 'coordinating-caseworker', caseRef: ref('SOF'), from: '2025-01-01' }),
        403,
        'RELATION_ADMINISTRATION_FORBIDDEN',
        cpr,
      );
    });

    it('an end before the start, when registering and when ending', async () => {
      const cpr = citizen();
      await refused(
        () => register({ cpr, capacity: 'social-case', caseRef: ref('SOF'), from: '2025-03-01', to: '2025-02-28' }),
        400,
        'RELATION_PERIOD_INVALID',
        cpr,
      );
      const { relation } = (await register({ cpr, capacity: 'social-case', caseRef: ref('SOF'), from: '2025-03-01' })).body as {
        relation: RelationView;
      };
      await refused(() => end(relation.id, { to: '2025-02-28' }), 400, 'RELATION_PERIOD_INVALID', cpr);
    });

    it('a CPR number, in any written form, in a case reference or a caseworker id', async () => {
      const cpr = citizen();
      for (const form of CPR_FORMS(cpr)) {
        await refused(() => register({ cpr, capacity: 'social-case', caseRef: form, from: '2025-01-01' }), 400, 'REQUEST_INVALID', cpr, [
          form,
        ]);
        await refused(
          () => register({ cpr, capacity: 'social-case', caseRef: ref('SOF'), caseworker: form, from: '2025-01-01' }),
          400,
          'REQUEST_INVALID',
          cpr,
          [form],
        );
        await refused(() => search({ caseRef: form }), 400, 'REQUEST_INVALID', cpr, [form]);
      }
    });

    it('a case reference used by another administration (409), or by the same one for another citizen', async () => {
      const cpr = citizen();
      const other = citizen();
      const bifRef = ref('BIF');
      await register({ cpr: other, capacity: 'cash-benefit', caseRef: bifRef, from: '2025-01-01' }, 'bif-jobcentre-system');
      await refused(
        () => register({ cpr, capacity: 'social-case', caseRef: bifRef, from: '2025-01-01' }),
        409,
        'RELATION_CASE_REF_TAKEN',
        cpr,
      );
      // Whichever citizen: the answer does not depend on whom BIF serves.
      await refused(
        () => register({ cpr: other, capacity: 'social-case', caseRef: bifRef, from: '2025-01-01' }),
        409,
        'RELATION_CASE_REF_TAKEN',
        other,
      );
      const sofRef = ref('SOF');
      await register({ cpr: other, capacity: 'social-case', caseRef: sofRef, from: '2025-01-01' });
      await refused(
        () => register({ cpr, capacity: 'social-case', caseRef: sofRef, from: '2025-01-01' }),
        409,
        'RELATION_CASE_REF_OTHER_CITIZEN',
        cpr,
      );
    });

    it("ending another administration's relation looks exactly like ending one that does not exist", async () => {
      const cpr = citizen();
      const { relation } = (
        await register({ cpr, capacity: 'cash-benefit', caseRef: ref('BIF'), from: '2025-01-01' }, 'bif-jobcentre-system')
      ).body as { relation: RelationView };
      await refused(() => end(relation.id, { to: '2025-12-31' }), 404, 'RELATION_NOT_FOUND', cpr);
      const theirs = await end(relation.id, { to: '2025-12-31' });
      const nobody = await end(randomUUID(), { to: '2025-12-31' });
      const shape = (b: unknown) => ({ ...(b as object), requestId: undefined, auditId: undefined });
      expect(shape(theirs.body)).toEqual(shape(nobody.body));
      expect(theirs.status).toBe(nobody.status);
      expect((await stored(cpr))[0]?.relation.to).toBeNull();
    });

    it('a system without a case system role, even the DPO', async () => {
      const cpr = citizen();
      await refused(
        () => register({ cpr, capacity: 'coordinating-caseworker', caseRef: ref('DPO'), from: '2025-01-01' }, 'dpo-console'),
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
    const { relation } = (await post(a, '/v1/relations', { cpr, capacity: 'social-case', caseRef: ref('SOF'), from: '2025-01-01' }))
      .body as {
      relation: RelationView;
    };
    const seen = await post(b, '/v1/relations/search', { cpr });
    expect((seen.body as { relations: RelationView[] }).relations.map((r) => r.state)).toEqual(['active']);

    expect((await post(a, `/v1/relations/${relation.id}/end`, { to: '2025-06-30' })).status).toBe(200);
    const after = await post(b, '/v1/relations/search', { cpr });
    expect((after.body as { relations: RelationView[] }).relations.map((r) => [r.state, r.to])).toEqual([['ended', '2025-06-30']]);
    expect(await b.gateway.store.relations.active(b.gateway.pseudonyms.all(cpr), ['SOF'], today)).toEqual([]);
  });
});
