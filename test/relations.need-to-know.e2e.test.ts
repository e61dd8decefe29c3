/**
 * Need to know, end to end over mutual TLS, on SQLite and on PostgreSQL: a policy with a
 * `relation:` clause permits only while the relations register holds the relations it names. A
 * query without them is refused (RELATION_MISSING), audited, and nothing is forwarded; with them
 * it is permitted and its decision record cites them; `sameCaseworker` holds the token's
 * caseworker to the relation's; a notification skips a recipient without a relation, which the
 * sender's answer does not name. And, on one PostgreSQL shared by two gateway instances, an end
 * recorded at one refuses the very next request at the other.
 */
import { jest } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import type { AuditRecord } from '../src/audit/types.js';
import { copenhagenDate } from '../src/policy/dates.js';
import { addDays } from '../src/relations/register.js';
import { emitNotification } from '../src/simulators/emit.js';
import { population } from '../src/simulators/population.js';
import { postAs, waitFor } from './support/calls.js';
import { DATABASES, postgresDatabase, type TestDatabase } from './support/databases.js';
import { startTestEnv, testCerts, type TestEnv } from './support/env.js';

jest.setTimeout(120_000);

const STATUS = '/v1/queries/employment.citizen-status.v1';
const OVERVIEW = '/v1/queries/employment.coordination-overview.v1';
const START = addDays(copenhagenDate(new Date()), -30);
const shared = population().filter((c) => c.group === 'shared' && c.employment !== null && c.social?.openSocialCase === true);
const ref = (prefix: string) => `${prefix}-${randomUUID().slice(0, 8)}`;

interface Relations {
  register(client: string, body: Record<string, unknown>): Promise<string>;
  end(client: string, id: string): Promise<void>;
}

function relationsOf(env: () => TestEnv): Relations {
  return {
    async register(client, body) {
      const res = await postAs(env().url, client, '/v1/relations', { from: START, ...body }, { purpose: 'plan-coordination' });
      expect(res.status).toBe(201);
      return (res.body as { relation: { id: string } }).relation.id;
    },
    async end(client, id) {
      const res = await postAs(env().url, client, `/v1/relations/${id}/end`, { to: addDays(START, -1) }, { purpose: 'plan-coordination' });
      expect(res.status).toBe(200);
    },
  };
}

const ask = (env: TestEnv, cpr: string, o: { path?: string; caseworker?: string; fields?: string[] } = {}) =>
  postAs(
    env.url,
    'sof-case-system',
    o.path ?? STATUS,
    { cpr, fields: o.fields ?? ['targetGroup', 'incomeSupport'] },
    {
      purpose: o.path === OVERVIEW ? 'coordinating-caseworker' : 'plan-coordination',
      ...(o.caseworker ? { caseworker: o.caseworker } : {}),
    },
  );

async function record(env: TestEnv, auditId: string, kind: string): Promise<AuditRecord> {
  const found = (await env.gateway.store.audit.search({ auditId, kind: kind as AuditRecord['kind'], limit: 10 })).records;
  expect(found).toHaveLength(1);
  return found[0]!;
}

describe.each(DATABASES)('need to know on %s', (name, makeDatabase) => {
  let db: TestDatabase;
  let env: TestEnv;
  let next = 0;
  const citizen = () => shared[(name === 'SQLite' ? 40 : 400) + next++]!.cpr;
  const relations = relationsOf(() => env);
  const bif = () => env.simulators['bif-jobcentre-system']!;

  beforeAll(async () => {
    db = await makeDatabase(`need_to_know_${name.toLowerCase()}`);
    env = await startTestEnv({
      name: `need-to-know-${name.toLowerCase()}`,
      overrides: {
        store: db.storeConfig,
        upstream: { timeoutMs: 1000, maxResponseBytes: 1048576 },
        notifications: { maxAttempts: 50, baseDelayMs: 20, maxDelayMs: 80, pollMs: 50, leaseMs: 3000 },
      },
    });
  });
  afterAll(async () => {
    await env?.close();
    await db?.cleanup();
  });

  it('refuses a query without the relations (RELATION_MISSING, audited, nothing forwarded) and permits it with them, citing them', async () => {
    const cpr = citizen();
    const forwarded = bif().requests;
    const refused = await ask(env, cpr);
    expect(refused.status).toBe(403);
    expect(refused.body).toMatchObject({ code: 'POLICY_DENIED', reasons: ['RELATION_MISSING'] });
    // a policy exists; only its condition is not met, so the answer does not say "no policy"
    expect(JSON.stringify(refused.body)).not.toMatch(/no policy/i);
    expect(bif().requests).toBe(forwarded);
    const denial = await record(env, (refused.body as { auditId: string }).auditId, 'decision');
    expect(denial).toMatchObject({
      decision: 'deny',
      reasons: ['RELATION_MISSING'],
      policy: { id: 'sof-reads-employment-status', version: 4 },
    });
    expect(JSON.stringify(denial)).not.toContain(cpr);

    // Social services alone is not enough: the citizen must be shared with the jobcentre.
    const sof = await relations.register('sof-case-system', { cpr, capacity: 'social-case', caseRef: ref('SOF') });
    expect((await ask(env, cpr)).body).toMatchObject({ reasons: ['RELATION_MISSING'] });
    expect(bif().requests).toBe(forwarded);

    const jobcentre = await relations.register('bif-jobcentre-system', { cpr, capacity: 'cash-benefit', caseRef: ref('BIF') });
    const permitted = await ask(env, cpr);
    expect(permitted.status).toBe(200);
    expect(bif().requests).toBe(forwarded + 1);
    const auditId = (permitted.body as { disclosure: { auditId: string } }).disclosure.auditId;
    const decision = await record(env, auditId, 'decision');
    expect(decision.decision).toBe('permit');
    const cited = decision.reasons.filter((r) => r.startsWith('relation=')).sort();
    expect(cited).toEqual([`relation=${sof}`, `relation=${jobcentre}`].sort());
    expect(decision.reasons.find((r) => r.startsWith('relations-sha256='))).toMatch(/^relations-sha256=[A-Za-z0-9_-]{43}$/);

    // Ended by social services: the next request is refused again.
    await relations.end('sof-case-system', sof);
    expect((await ask(env, cpr)).body).toMatchObject({ reasons: ['RELATION_MISSING'] });
    expect(bif().requests).toBe(forwarded + 1);
  });

  it("holds the coordinating caseworker's overview to the caseworker named on the relation (sameCaseworker)", async () => {
    const cpr = citizen();
    await relations.register('sof-case-system', {
      cpr,
      capacity: 'coordinating-caseworker',
      caseRef: ref('SOF-KOR'),
      caseworker: 'sof-cw-0042',
    });
    const other = await ask(env, cpr, { path: OVERVIEW, caseworker: 'sof-cw-0043', fields: ['openEmploymentCase'] });
    expect(other.status).toBe(403);
    expect(other.body).toMatchObject({ reasons: ['RELATION_MISSING'] });
    const theirs = await ask(env, cpr, { path: OVERVIEW, caseworker: 'sof-cw-0042', fields: ['openEmploymentCase'] });
    expect(theirs.status).toBe(200);
  });

  it('skips a notification recipient without a relation: not named to the sender, audited, nothing queued for it', async () => {
    const cpr = citizen();
    const certsDir = await testCerts();
    const emit = () => emitNotification('sanction-notice', cpr, { gatewayUrl: env.url, certsDir });
    const skipped = await emit();
    expect(skipped.status).toBe(202);
    const body = skipped.body as { auditId: string; deliveries: unknown[] };
    expect(body.deliveries).toEqual([]);
    expect(JSON.stringify(body)).not.toContain('sof-case-system');
    const [rec] = (await env.gateway.store.audit.search({ auditId: body.auditId, kind: 'notification', limit: 10 })).records;
    expect(rec).toMatchObject({
      decision: 'deny',
      reasons: ['RECIPIENT_SKIPPED', 'RELATION_MISSING'],
      recipient: { system: 'sof-case-system', administration: 'SOF' },
    });
    expect((await env.gateway.store.outbox.list({ auditId: body.auditId, limit: 10 })).deliveries).toEqual([]);

    const id = await relations.register('sof-case-system', { cpr, capacity: 'housing-support', caseRef: ref('SOF') });
    const sent = await emit();
    expect(sent.status).toBe(202);
    const queued = sent.body as { auditId: string; deliveries: { recipient: { system: string }; status: string }[] };
    expect(queued.deliveries.map((d) => [d.recipient.system, d.status])).toEqual([['sof-case-system', 'queued']]);
    const [permit] = (await env.gateway.store.audit.search({ auditId: queued.auditId, kind: 'notification', limit: 10 })).records;
    expect(permit?.reasons).toEqual(expect.arrayContaining(['QUEUED', `relation=${id}`]));
  });
  it("tells a sender nothing about a recipient's relation when the notification is refused for another reason (consent)", async () => {
    const certsDir = await testCerts();
    const summons = (cpr: string) => emitNotification('summons-copy', cpr, { gatewayUrl: env.url, certsDir });
    const without = citizen();
    const withRelation = citizen();
    await relations.register('sof-case-system', { cpr: withRelation, capacity: 'support-contact-person', caseRef: ref('SOF-SKP') });
    // No consent for either: the same answer whether or not social services serve the citizen.
    const [a, b] = [await summons(without), await summons(withRelation)];
    expect([a.status, b.status]).toEqual([403, 403]);
    expect(a.body).toMatchObject({ code: 'CONSENT_REQUIRED', reasons: ['CONSENT_NOT_IN_FORCE'] });
    expect(b.body).toMatchObject({ code: 'CONSENT_REQUIRED', reasons: ['CONSENT_NOT_IN_FORCE'] });
  });

  it('does not deliver a queued notification once the recipient no longer serves the citizen (voided before the attempt)', async () => {
    const cpr = citizen();
    const certsDir = await testCerts();
    const sof = env.simulators['sof-case-system']!;
    const id = await relations.register('sof-case-system', { cpr, capacity: 'social-case', caseRef: ref('SOF') });
    sof.setFault({ kind: 'status', status: 503 });
    try {
      const sent = await emitNotification('sanction-notice', cpr, { gatewayUrl: env.url, certsDir });
      expect(sent.status).toBe(202);
      const { auditId, deliveries } = sent.body as { auditId: string; deliveries: { deliveryId: string }[] };
      await waitFor('a failed attempt', async () => ((await env.gateway.store.outbox.get(deliveries[0]!.deliveryId))?.attempts ?? 0) > 0);
      const voided = await postAs(
        env.url,
        'sof-case-system',
        `/v1/relations/${id}/end`,
        { reason: 'recorded-in-error' },
        { purpose: 'plan-coordination' },
      );
      expect(voided.status).toBe(200);
      // The recipient keeps failing: without the check before each attempt the delivery would be
      // retried until it is a dead letter; with it, the next attempt cancels it.
      const done = await waitFor('the delivery is settled', async () => {
        const d = await env.gateway.store.outbox.get(deliveries[0]!.deliveryId);
        return d !== undefined && d.state !== 'pending' && d.state !== 'delivering' && d;
      });
      expect(done.state).toBe('cancelled');
      expect(sof.inbox.received.filter((n) => n.auditId === auditId)).toEqual([]);
      const records = (await env.gateway.store.audit.search({ auditId, kind: 'notification', limit: 20 })).records;
      expect(records.map((r) => r.reasons)).toContainEqual(['RELATION_MISSING', 'DELIVERY_CANCELLED']);
    } finally {
      sof.setFault(null);
    }
  });
});

describe('need to know on one PostgreSQL shared by two gateway instances', () => {
  let db: TestDatabase;
  let a: TestEnv;
  let b: TestEnv;
  beforeAll(async () => {
    db = await postgresDatabase('need_to_know_instances');
    a = await startTestEnv({ name: 'need-to-know-a', simulators: false, overrides: { store: db.storeConfig, instanceId: 'gw-a' } });
    b = await startTestEnv({ name: 'need-to-know-b', overrides: { store: db.storeConfig, instanceId: 'gw-b' } });
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await db?.cleanup();
  });

  it('an end recorded at one instance refuses the very next request at the other', async () => {
    const cpr = shared[950]!.cpr;
    const atA = relationsOf(() => a);
    const sof = await atA.register('sof-case-system', { cpr, capacity: 'social-case', caseRef: ref('SOF') });
    await atA.register('bif-jobcentre-system', { cpr, capacity: 'sickness-benefit', caseRef: ref('BIF') });
    expect((await ask(b, cpr)).status).toBe(200);
    await atA.end('sof-case-system', sof);
    const after = await ask(b, cpr);
    expect(after.status).toBe(403);
    expect(after.body).toMatchObject({ reasons: ['RELATION_MISSING'] });
  });
});
