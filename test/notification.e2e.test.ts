/**
 * Notifications end to end, on SQLite and on PostgreSQL: the simulated jobcentre sends an event
 * through the real gateway over mutual TLS; the gateway decides per recipient, audits, queues
 * durably and delivers to the simulated social services system, which checks the gateway's
 * token and deduplicates on the Idempotency-Key.
 */
import { readFileSync } from 'node:fs';
import { jest } from '@jest/globals';
import type { AuditRecord } from '../src/audit/types.js';
import { verifyTrail } from '../src/audit/verify-trail.js';
import { OutboxWorker } from '../src/outbox/worker.js';
import { emitNotification, simulatedEvent } from '../src/simulators/emit.js';
import { keyDigest } from '../src/outbox/idempotency-key.js';
import { population } from '../src/simulators/population.js';
import { postAs, waitFor } from './support/calls.js';
import { DATABASES, type TestDatabase } from './support/databases.js';
import { startTestEnv, TEST_CERTS, type TestEnv } from './support/env.js';
import { withRelations } from './support/relations.js';

jest.setTimeout(90_000);

const SANCTION = '/v1/notifications/employment.sanction-notice.v1';
// The benefit's kind can reveal health (sickness benefit, a resource course): it is not forwarded.
const SANCTION_FIELDS = ['sanctionDate', 'sanctionType', 'amountDkk', 'jobcentreUnit', 'caseworkerContact'];
const withJob = population().filter((c) => c.employment !== null);

describe.each(DATABASES)('notifications on %s', (name, makeDatabase) => {
  let db: TestDatabase;
  let env: TestEnv;
  let next = 0;
  const citizen = () => withJob[(name === 'SQLite' ? 0 : 500) + next++]!;
  /** The relation each served citizen has: social services serve them (need to know for the sanction notice). */
  const relationOf = new Map<string, string>();
  /** A citizen social services serve (a registered social case), so the sanction notice policy lets them receive it. */
  const served = async () => {
    const c = citizen();
    const [relation] = await withRelations(env, c.cpr, [{ administration: 'SOF', capacity: 'social-case' }]);
    relationOf.set(c.cpr, relation!.id);
    return c;
  };
  /** The reasons of a QUEUED record: the policy's relation clause relied on the citizen's social case, cited with its digest. */
  const queuedReasons = (cpr: string) => ['QUEUED', `relation=${relationOf.get(cpr)}`, expect.stringMatching(/^relations-sha256=/)];

  beforeAll(async () => {
    db = await makeDatabase(`notify_e2e_${name.toLowerCase()}`);
    env = await startTestEnv({
      name: `notification-e2e-${name.toLowerCase()}`,
      overrides: {
        store: db.storeConfig,
        upstream: { timeoutMs: 1000, maxResponseBytes: 1048576 },
        notifications: { maxAttempts: 3, baseDelayMs: 20, maxDelayMs: 80, pollMs: 50, leaseMs: 3000 },
      },
    });
  });
  afterAll(async () => {
    await env?.close();
    await db?.cleanup();
  });
  afterEach(() => {
    for (const sim of Object.values(env.simulators)) sim.setFault(null);
  });

  const sof = () => env.simulators['sof-case-system']!;
  const emit = (kind: 'sanction-notice' | 'summons-copy', cpr: string, idempotencyKey?: string, event?: Record<string, unknown>) =>
    emitNotification(
      kind,
      cpr,
      { gatewayUrl: env.url, certsDir: TEST_CERTS, ...(idempotencyKey !== undefined ? { idempotencyKey } : {}) },
      event,
    );
  const records = async (auditId: string): Promise<AuditRecord[]> =>
    (await env.gateway.store.audit.search({ auditId, limit: 50 })).records.reverse();
  const received = (auditId: string) => sof().inbox.received.filter((n) => n.auditId === auditId);
  /** The ids of the deliveries queued about a citizen. */
  const queuedFor = async (cpr: string): Promise<string[]> =>
    (await env.gateway.store.outbox.list({ contract: 'employment.sanction-notice.v1', limit: 200 })).deliveries
      .filter((d) => d.subject === env.gateway.pseudonyms.pseudonym(cpr))
      .map((d) => d.id);
  /** What `snitflade audit verify` reports for the whole trail. */
  const verified = async (): Promise<boolean> => (await verifyTrail({ store: env.gateway.store, verifier: env.gateway.audit.verifier })).ok;

  it('delivers a sanction notice to social services: minimised, signed, audited, and erased from the outbox', async () => {
    const c = await served();
    const res = await emit('sanction-notice', c.cpr);
    expect(res.status).toBe(202);
    const body = res.body as {
      auditId: string;
      deliveries: { recipient: { system: string }; status: string; deliveryId: string; released: string[]; withheld: string[] }[];
    };
    expect(body.deliveries).toEqual([
      {
        recipient: { system: 'sof-case-system', administration: 'SOF' },
        status: 'queued',
        deliveryId: expect.any(String),
        released: SANCTION_FIELDS,
        withheld: ['benefit', 'caseworkerNote'],
      },
    ]);

    const [got] = await waitFor('the notice reaches social services', () => received(body.auditId)[0] && received(body.auditId));
    expect(got).toMatchObject({
      contract: 'employment.sanction-notice.v1',
      cpr: c.cpr,
      policy: 'bif-notifies-sof-of-sanctions@4',
      purpose: 'sanction-notice',
      idempotencyKey: body.deliveries[0]!.deliveryId,
    });
    expect(Object.keys(got!.event).sort()).toEqual([...SANCTION_FIELDS].sort());
    expect(got!.event).not.toHaveProperty('benefit');
    expect(got!.event).not.toHaveProperty('caseworkerNote');

    const delivery = await waitFor('the outbox marks it delivered', async () => {
      const d = await env.gateway.store.outbox.get(body.deliveries[0]!.deliveryId);
      return d?.state === 'delivered' ? d : undefined;
    });
    expect(delivery.payload).toBeNull();

    const trail = await waitFor('the delivery is audited', async () => {
      const r = await records(body.auditId);
      return r.some((x) => x.reasons.includes('DELIVERED')) ? r : undefined;
    });
    expect(trail.map((r) => [r.kind, r.decision, r.reasons[0]])).toEqual([
      ['notification', 'permit', 'QUEUED'],
      ['notification', 'permit', 'DELIVERED'],
    ]);
    for (const r of trail) {
      expect(r.recipient).toEqual({ system: 'sof-case-system', administration: 'SOF' });
      expect(r.caller).toEqual({ system: 'bif-jobcentre-system', administration: 'BIF' });
      expect(r.subject).toBe(env.gateway.pseudonyms.pseudonym(c.cpr));
      expect(r.policy).toEqual({ id: 'bif-notifies-sof-of-sanctions', version: 4 });
      expect(r.fields.released).toEqual(SANCTION_FIELDS);
      expect(r.fields.withheld).toEqual(['benefit', 'caseworkerNote']);
    }
    expect(trail[1]!.upstream?.status).toBe(202);
    expect(JSON.stringify(trail)).not.toContain(c.cpr);
  });

  it('skips social services when they do not serve the citizen (need to know): 202 naming no one, audited, nothing queued', async () => {
    const c = citizen(); // no relation registered
    const res = await emit('sanction-notice', c.cpr);
    expect(res).toMatchObject({ status: 202, body: { deliveries: [] } });
    const { auditId } = res.body as { auditId: string };
    expect((await records(auditId)).map((r) => [r.kind, r.decision, r.reasons, r.recipient?.system])).toEqual([
      ['notification', 'deny', ['RECIPIENT_SKIPPED', 'RELATION_MISSING'], 'sof-case-system'],
    ]);
    expect(await queuedFor(c.cpr)).toEqual([]);
  });

  it("refuses a notification from a system that is not the contract's provider, audited", async () => {
    const c = citizen();
    const res = await postAs(
      env.url,
      'sof-case-system',
      SANCTION,
      { cpr: c.cpr, event: simulatedEvent('sanction-notice', c.cpr) },
      { purpose: 'sanction-notice' },
    );
    expect(res.status).toBe(403);
    expect(res.body.code).toBe('NOTIFICATION_SENDER_INVALID');
    expect((await records(res.body.auditId)).map((r) => [r.kind, r.reasons])).toEqual([['refusal', ['NOTIFICATION_SENDER_INVALID']]]);
    // The refusal names the citizen its body named (issue 22, item 3), as a pseudonym.
    expect((await records(res.body.auditId))[0]).toMatchObject({
      subject: env.gateway.pseudonyms.pseudonym(c.cpr),
      contract: 'employment.sanction-notice.v1',
    });
  });

  it('refuses an event under a purpose no policy gives the recipients, audited per recipient, and queues nothing', async () => {
    const c = await served();
    const res = await postAs(
      env.url,
      'bif-jobcentre-system',
      SANCTION,
      { cpr: c.cpr, event: simulatedEvent('sanction-notice', c.cpr) },
      { purpose: 'plan-coordination' },
    );
    expect(res.status).toBe(403);
    expect(res.body).toMatchObject({ code: 'POLICY_DENIED', reasons: ['PURPOSE_NOT_ALLOWED'] });
    const trail = await records(res.body.auditId);
    expect(trail.map((r) => [r.kind, r.decision, r.reasons, r.recipient?.system])).toEqual([
      ['notification', 'deny', ['PURPOSE_NOT_ALLOWED'], 'sof-case-system'],
    ]);
    expect((await env.gateway.store.outbox.list({ auditId: res.body.auditId, limit: 10 })).deliveries).toEqual([]);
  });

  it('refuses an event that does not match the contract (400), before any decision', async () => {
    const c = citizen();
    const res = await postAs(
      env.url,
      'bif-jobcentre-system',
      SANCTION,
      { cpr: c.cpr, event: { sanctionDate: 'yesterday' } },
      { purpose: 'sanction-notice' },
    );
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('REQUEST_INVALID');
    // Audited as a refusal naming the contract of the path and the citizen of the body (issue 22, item 3).
    const trail = await records(res.body.auditId);
    expect(trail.map((r) => [r.kind, r.reasons, r.contract, r.subject])).toEqual([
      ['refusal', ['REQUEST_INVALID'], 'employment.sanction-notice.v1', env.gateway.pseudonyms.pseudonym(c.cpr)],
    ]);
    const found = await env.gateway.store.audit.search({ subject: env.gateway.pseudonyms.all(c.cpr), limit: 50 });
    expect(found.records.map((r) => r.id)).toContain(trail[0]!.id);
    expect(JSON.stringify(trail)).not.toContain(c.cpr);
  });

  it('delivers once when the acknowledgement is lost: the recipient drops the retry by its Idempotency-Key', async () => {
    const c = await served();
    sof().inbox.loseAcknowledgements(1);
    const res = await emit('sanction-notice', c.cpr);
    expect(res.status).toBe(202);
    const { auditId, deliveries } = res.body as { auditId: string; deliveries: { deliveryId: string }[] };
    const d = await waitFor('delivered after the lost acknowledgement', async () => {
      const row = await env.gateway.store.outbox.get(deliveries[0]!.deliveryId);
      return row?.state === 'delivered' ? row : undefined;
    });
    expect(d.attempts).toBe(2);
    expect(received(auditId)).toHaveLength(1);
    expect(sof().inbox.duplicates).toBeGreaterThanOrEqual(1);
  });

  it('answers a notification sent again under its Idempotency-Key as the first time, and delivers it once', async () => {
    const c = await served();
    const key = `bif-event-${c.cpr.slice(-4)}-${Date.now()}`;
    const event = simulatedEvent('sanction-notice', c.cpr);
    const first = await emit('sanction-notice', c.cpr, key, event);
    expect(first.status).toBe(202);
    const { auditId, deliveries } = first.body as { auditId: string; deliveries: { deliveryId: string }[] };
    // Sent again (a new token, the same key and body), and twice at once: the same answer each time.
    const again = await Promise.all([emit('sanction-notice', c.cpr, key, event), emit('sanction-notice', c.cpr, key, event)]);
    for (const res of again) expect(res).toEqual({ status: 202, body: first.body });
    await waitFor('the notice reaches social services', () => received(auditId).length > 0);
    await waitFor(
      'the outbox marks it delivered',
      async () => (await env.gateway.store.outbox.get(deliveries[0]!.deliveryId))?.state === 'delivered',
    );
    // One delivery in the outbox for this citizen, one notice received.
    const subject = (await env.gateway.store.outbox.get(deliveries[0]!.deliveryId))!.subject;
    const queued = await env.gateway.store.outbox.list({ contract: 'employment.sanction-notice.v1', limit: 200 });
    expect(queued.deliveries.filter((d) => d.subject === subject).map((d) => d.id)).toEqual([deliveries[0]!.deliveryId]);
    expect(received(auditId)).toHaveLength(1);
    // The DPO sees both re-sends with the first notification.
    const reasons = (await records(auditId)).map((r) => r.reasons);
    expect(reasons.filter((r) => r.includes('ALREADY_ACCEPTED'))).toHaveLength(2);

    // The same key with another body is refused, audited, and nothing is queued.
    const other = await emit('sanction-notice', c.cpr, key, { ...event, amountDkk: Number(event.amountDkk ?? 0) + 1 });
    expect(other.status).toBe(409);
    expect(other.body).toMatchObject({ code: 'IDEMPOTENCY_KEY_REUSED', auditId: expect.any(String) });
    expect((await records((other.body as { auditId: string }).auditId)).map((r) => r.reasons)).toEqual([['IDEMPOTENCY_KEY_REUSED']]);

    // A key the gateway cannot take is refused before anything is decided.
    const bad = await emit('sanction-notice', c.cpr, 'not a key', event);
    expect(bad).toMatchObject({ status: 400, body: { code: 'IDEMPOTENCY_KEY_INVALID' } });
  });

  it('answers 503 OUTBOX_UNAVAILABLE, audited, when the key cannot be looked up; nothing is queued', async () => {
    const c = await served();
    const lookup = jest.spyOn(env.gateway.store.outbox, 'accepted').mockRejectedValueOnce(new Error('disk I/O error'));
    const failed = await emit('sanction-notice', c.cpr, `bif-event-${Date.now()}-lookup`, simulatedEvent('sanction-notice', c.cpr));
    lookup.mockRestore();
    expect(failed).toMatchObject({ status: 503, body: { code: 'OUTBOX_UNAVAILABLE', auditId: expect.any(String) } });
    expect((await records((failed.body as { auditId: string }).auditId)).map((r) => [r.kind, r.reasons])).toEqual([
      ['refusal', ['OUTBOX_UNAVAILABLE']],
    ]);
    expect(await queuedFor(c.cpr)).toEqual([]);
  });

  it('writes no QUEUED record when the outbox write fails inside the commit: 503 OUTBOX_UNAVAILABLE, the trail and the outbox agree, and a re-send queues it once', async () => {
    const c = await served();
    const event = simulatedEvent('sanction-notice', c.cpr);
    const key = `bif-event-${c.cpr.slice(-4)}-${Date.now()}-fault`;
    await db.failInserts('outbox', true);
    let failed: Awaited<ReturnType<typeof emit>>;
    try {
      failed = await emit('sanction-notice', c.cpr, key, event);
    } finally {
      await db.failInserts('outbox', false);
    }
    expect(failed).toMatchObject({ status: 503, body: { code: 'OUTBOX_UNAVAILABLE', auditId: expect.any(String) } });
    // The refusal is the request's only record: no decision claims a delivery that was never queued,
    // no delivery and no Idempotency-Key answer were kept.
    expect((await records((failed.body as { auditId: string }).auditId)).map((r) => [r.kind, r.reasons])).toEqual([
      ['refusal', ['OUTBOX_UNAVAILABLE']],
    ]);
    expect(await queuedFor(c.cpr)).toEqual([]);
    expect(await env.gateway.store.outbox.accepted(keyDigest('bif-jobcentre-system', key))).toBeUndefined();

    // Sent again once the outbox can be written: accepted as a new notification, delivered once.
    const again = await emit('sanction-notice', c.cpr, key, event);
    expect(again.status).toBe(202);
    const { auditId, deliveries } = again.body as { auditId: string; deliveries: { deliveryId: string }[] };
    expect(await queuedFor(c.cpr)).toEqual([deliveries[0]!.deliveryId]);
    expect((await records(auditId)).map((r) => r.reasons)).toEqual([queuedReasons(c.cpr)]);
    await waitFor('the notice reaches social services', () => received(auditId).length > 0);
    expect(received(auditId)).toHaveLength(1);
    expect(await verified()).toBe(true);
  });

  it('queues once when the same event is sent twice at once under one key, whichever is decided first', async () => {
    const c = await served();
    const key = `bif-event-${c.cpr.slice(-4)}-${Date.now()}-twice`;
    const event = simulatedEvent('sanction-notice', c.cpr);
    const [a, b] = await Promise.all([emit('sanction-notice', c.cpr, key, event), emit('sanction-notice', c.cpr, key, event)]);
    expect(a.status).toBe(202);
    expect(b).toEqual(a);
    const { auditId, deliveries } = a.body as { auditId: string; deliveries: { deliveryId: string }[] };
    const subject = (await env.gateway.store.outbox.get(deliveries[0]!.deliveryId))!.subject;
    const queued = await env.gateway.store.outbox.list({ contract: 'employment.sanction-notice.v1', limit: 200 });
    expect(queued.deliveries.filter((d) => d.subject === subject).map((d) => d.id)).toEqual([deliveries[0]!.deliveryId]);
    await waitFor('the notice reaches social services', () => received(auditId).length > 0);
    expect(received(auditId)).toHaveLength(1);
  });

  it('two instances racing on one Idempotency-Key: one queues; the other writes no QUEUED record and audits ALREADY_ACCEPTED under the first audit id', async () => {
    const b = await startTestEnv({
      name: `notification-race-${name.toLowerCase()}`,
      simulators: false,
      overrides: { instanceId: 'gw-race-b', store: db.storeConfig, endpoints: env.config.endpoints, notifications: { worker: false } },
    });
    const via = (gw: TestEnv, cpr: string, key: string, event: Record<string, unknown>) =>
      emitNotification('sanction-notice', cpr, { gatewayUrl: gw.url, certsDir: TEST_CERTS, idempotencyKey: key }, event);
    /** The records about a citizen on both chains, oldest first, without the deliveries' own (nor the registration of their relation). */
    const about = async (cpr: string): Promise<AuditRecord[]> =>
      (
        await env.gateway.store.audit.search({
          subject: [env.gateway.pseudonyms.pseudonym(cpr), b.gateway.pseudonyms.pseudonym(cpr)],
          limit: 50,
        })
      ).records
        .reverse()
        .filter((r) => r.kind !== 'relation' && !r.reasons.includes('DELIVERED'));
    try {
      // b looked the key up before a's commit and decided too; its commit finds the key taken.
      const c = await served();
      const key = `bif-event-${c.cpr.slice(-4)}-${Date.now()}-race`;
      const event = simulatedEvent('sanction-notice', c.cpr);
      const lookup = jest.spyOn(b.gateway.store.outbox, 'accepted').mockResolvedValueOnce(undefined);
      const first = await via(env, c.cpr, key, event);
      const second = await via(b, c.cpr, key, event);
      expect(lookup).toHaveBeenCalledTimes(2); // before deciding (found nothing), and for the winner's answer after the refused commit
      lookup.mockRestore();
      expect(first.status).toBe(202);
      expect(second).toEqual(first);
      const { auditId } = first.body as { auditId: string };
      expect((await about(c.cpr)).map((r) => [r.chain, r.auditId, r.reasons])).toEqual([
        [env.config.instanceId, auditId, queuedReasons(c.cpr)],
        ['gw-race-b', auditId, ['ALREADY_ACCEPTED']],
      ]);
      expect(await queuedFor(c.cpr)).toHaveLength(1);

      // Several keys, each sent to both instances at the same moment: whoever wins, one QUEUED
      // record and one delivery per key, and the other answer is the first's, audited under its id.
      const citizens = [await served(), await served(), await served(), await served()];
      const events = citizens.map((x) => simulatedEvent('sanction-notice', x.cpr));
      const keys = citizens.map((x, i) => `bif-event-${x.cpr.slice(-4)}-${Date.now()}-race-${i}`);
      const answers = await Promise.all(
        citizens.flatMap((x, i) => [via(env, x.cpr, keys[i]!, events[i]!), via(b, x.cpr, keys[i]!, events[i]!)]),
      );
      for (const [i, x] of citizens.entries()) {
        const [one, other] = [answers[2 * i]!, answers[2 * i + 1]!];
        expect(one.status).toBe(202);
        expect(other).toEqual(one);
        const firstId = (one.body as { auditId: string }).auditId;
        const records = await about(x.cpr);
        expect(records.filter((r) => r.reasons.includes('QUEUED')).map((r) => r.auditId)).toEqual([firstId]);
        expect(
          records.every((r) => r.auditId === firstId && (r.reasons.includes('QUEUED') || r.reasons.includes('ALREADY_ACCEPTED'))),
        ).toBe(true);
        expect(records).toHaveLength(2);
        expect(await queuedFor(x.cpr)).toHaveLength(1);
      }
      expect(await verified()).toBe(true);
    } finally {
      await b.close();
    }
  });

  it('dead-letters a delivery that keeps failing, shows it to the DPO, and delivers it once re-driven', async () => {
    const c = await served();
    sof().setFault({ kind: 'status', status: 503 });
    const res = await emit('sanction-notice', c.cpr);
    expect(res.status).toBe(202);
    const { auditId, deliveries } = res.body as { auditId: string; deliveries: { deliveryId: string }[] };
    const id = deliveries[0]!.deliveryId;
    const dead = await waitFor('dead-lettered after 3 attempts', async () => {
      const row = await env.gateway.store.outbox.get(id);
      return row?.state === 'dead' ? row : undefined;
    });
    expect(dead).toMatchObject({ attempts: 3, lastError: 'RECIPIENT_STATUS', lastStatus: 503 });
    expect(dead.payload).not.toBeNull();
    expect((await records(auditId)).map((r) => r.reasons)).toEqual([queuedReasons(c.cpr), ['DEAD_LETTER', 'RECIPIENT_STATUS']]);

    // The DPO (and operations) see it, without any payload.
    const list = await postAs(env.url, 'dpo-console', '/v1/notifications/dead-letters/search', {
      contract: 'employment.sanction-notice.v1',
      limit: 200,
    });
    expect(list.status).toBe(200);
    const shown = (list.body.deliveries as { id: string }[]).find((x) => x.id === id);
    expect(shown).toMatchObject({
      id,
      auditId,
      state: 'dead',
      attempts: 3,
      lastError: 'RECIPIENT_STATUS',
      payloadAvailable: true,
      recipient: { system: 'sof-case-system' },
    });
    expect(JSON.stringify(list.body)).not.toContain(c.cpr);
    // A case system may not.
    const notAllowed = await postAs(env.url, 'sof-case-system', '/v1/notifications/dead-letters/search', {});
    expect(notAllowed.status).toBe(403);
    expect(notAllowed.body.code).toBe('FORBIDDEN_ROLE');

    sof().setFault(null);
    const redrive = await postAs(env.url, 'dpo-console', `/v1/notifications/dead-letters/${id}/redrive`, {});
    expect(redrive.status).toBe(200);
    expect(redrive.body).toMatchObject({ auditId, delivery: { id, attempts: 0 } });
    await waitFor('delivered after the re-drive', async () => (await env.gateway.store.outbox.get(id))?.state === 'delivered');
    expect(received(auditId)).toHaveLength(1);
    const trail = await waitFor('the delivery is audited', async () => {
      const r = await records(auditId);
      return r.some((x) => x.reasons.includes('DELIVERED')) ? r : undefined;
    });
    expect(trail.map((r) => r.reasons[0])).toEqual(['QUEUED', 'DEAD_LETTER', 'REDRIVEN', 'DELIVERED']);
    expect(trail[2]!.caller).toEqual({ system: 'dpo-console', administration: 'DPO' });

    // Operations see every attempt in the operational log: one line each, never the CPR number or the payload.
    const attempts = await waitFor('four attempts logged', () => {
      const lines = readFileSync(env.logFile, 'utf8')
        .split('\n')
        .filter((l) => l.includes(id))
        .map((l) => JSON.parse(l) as Record<string, unknown>)
        .filter((l) => l.message === 'outbox: delivery attempt');
      return lines.length >= 4 ? lines : undefined;
    });
    const common = { system: 'sof-case-system', sender: 'bif-jobcentre-system', contract: 'employment.sanction-notice.v1', delivery: id };
    expect(attempts.map((l) => [l.outcome, l.status, l.error, l.attempt])).toEqual([
      ['retry', 503, 'RECIPIENT_STATUS', 1],
      ['retry', 503, 'RECIPIENT_STATUS', 2],
      ['dead-letter', 503, 'RECIPIENT_STATUS', 3],
      ['delivered', 202, undefined, 1],
    ]);
    for (const l of attempts) {
      expect(l).toMatchObject({ ...common, auditId, ms: expect.any(Number) });
      expect(JSON.stringify(l)).not.toContain(c.cpr);
      expect(JSON.stringify(l)).not.toContain(c.employment!.benefit);
    }
    expect(attempts[2]!.level).toBe('warn');

    // Only a dead letter can be re-driven.
    const again = await postAs(env.url, 'dpo-console', `/v1/notifications/dead-letters/${id}/redrive`, {});
    expect(again.status).toBe(404);
    expect(again.body.code).toBe('DEAD_LETTER_NOT_FOUND');
  });
  // Last: its retention pass, run as if the retention had passed, deletes every ended row.
  it('forgets a delivered notification and its Idempotency-Key answer once finishedRetentionMs has passed; the audit trail keeps them', async () => {
    const c = await served();
    const key = `bif-event-${c.cpr.slice(-4)}-${Date.now()}-retention`;
    const event = simulatedEvent('sanction-notice', c.cpr);
    const first = await emit('sanction-notice', c.cpr, key, event);
    expect(first.status).toBe(202);
    const { auditId, deliveries } = first.body as { auditId: string; deliveries: { deliveryId: string }[] };
    const id = deliveries[0]!.deliveryId;
    await waitFor('the outbox marks it delivered', async () => (await env.gateway.store.outbox.get(id))?.state === 'delivered');
    const digest = keyDigest('bif-jobcentre-system', key);
    expect(await env.gateway.store.outbox.accepted(digest)).toMatchObject({ auditId });

    // The gateway's own worker, one retention period and a minute later.
    const gw = env.gateway;
    const later = new OutboxWorker({
      outbox: gw.store.outbox,
      trail: gw.trail,
      upstream: gw.deps.upstream,
      rules: gw.deps.rules,
      consent: gw.deps.consent,
      owner: 'retention-test',
      settings: gw.config.notifications,
      now: () => Date.now() + gw.config.notifications.finishedRetentionMs + 60_000,
    });
    await later.runOnce();
    expect(await gw.store.outbox.get(id)).toBeUndefined();
    expect(await gw.store.outbox.accepted(digest)).toBeUndefined();
    expect((await records(auditId)).map((r) => r.reasons[0])).toEqual(['QUEUED', 'DELIVERED']);

    // Past the window, the same key and body are a new notification.
    const again = await emit('sanction-notice', c.cpr, key, event);
    expect(again.status).toBe(202);
    expect((again.body as { auditId: string }).auditId).not.toBe(auditId);
    await waitFor('the new one is delivered', async () => received((again.body as { auditId: string }).auditId).length > 0);
  });
});
