/**
 * The notification outbox's store, one suite for SQLite and PostgreSQL: durable rows, leases
 * that no two workers share, retries, dead letters, re-drive and payload erasure.
 */
import { randomUUID } from 'node:crypto';
import type { DeliveryMeta } from '../src/outbox/types.js';
import { AuditTrail } from '../src/audit/trail.js';
import { verifyChain } from '../src/audit/verify.js';
import { keyDigest } from '../src/outbox/idempotency-key.js';
import {
  IdempotencyKeyTakenError,
  OutboxWriteError,
  type AcceptedNotification,
  type NewDelivery,
  type QueuedNotification,
} from '../src/outbox/types.js';
import type { Store } from '../src/store/types.js';
import { auditEntry } from './support/audit-entries.js';
import { DATABASES, type TestDatabase } from './support/databases.js';

const T0 = 1_760_000_000_000;
const LEASE = 10_000;

const meta: DeliveryMeta = {
  purpose: 'sanction-notice',
  policy: { id: 'bif-notifies-sof-of-sanctions', version: 1 },
  policySet: 'a'.repeat(64),
  legalBasis: 'Art. 6(1)(e); example',
  consent: null,
  consentCheck: null,
  fields: { requested: ['sanctionDate', 'caseworkerNote'], released: ['sanctionDate'], withheld: ['caseworkerNote'] },
  caller: { system: 'bif-jobcentre-system', administration: 'BIF' },
  caseworker: 'bif-cw-0007',
  caseRef: 'BIF-2026-0001',
  tokenDigest: 'digest',
};

function delivery(over: Partial<NewDelivery> = {}): NewDelivery {
  return {
    id: randomUUID(),
    auditId: randomUUID(),
    requestId: randomUUID(),
    contract: 'employment.sanction-notice.v1',
    recipient: { system: 'sof-case-system', administration: 'SOF' },
    subject: 'k1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA',
    meta,
    payload: JSON.stringify({ cpr: '0101909901', event: { sanctionDate: '2026-01-05' } }),
    createdAt: T0,
    ...over,
  };
}

describe.each(DATABASES)('%s outbox store', (name, makeDatabase) => {
  let db: TestDatabase;
  let store: Store;
  // Each test works in its own time window, so rows of earlier tests are never due.
  let window = 0;
  const at = (): number => T0 + ++window * 1_000_000_000;

  beforeAll(async () => {
    db = await makeDatabase(`outbox_store_${name.toLowerCase()}`);
    store = await db.open();
  });
  afterAll(async () => {
    await db?.cleanup();
  });

  /** Leaves nothing due behind: every test's rows end delivered. */
  afterEach(async () => {
    const far = T0 + 1e15;
    for (const d of await store.outbox.claim('cleanup', far, LEASE, 1000))
      await store.outbox.finish(d.id, d.lease!.id, { state: 'delivered', at: far, status: 202, error: null });
  });

  it('records a notification under its Idempotency-Key in the commit of its deliveries; a taken key stores nothing and names the first', async () => {
    const now = at();
    const key = keyDigest('bif-jobcentre-system', `event-${randomUUID()}`);
    const accepted = (auditId: string, bodyDigest: string): AcceptedNotification => ({
      keyDigest: key,
      sender: 'bif-jobcentre-system',
      bodyDigest,
      auditId,
      result: JSON.stringify({ auditId }),
      createdAt: now,
    });
    expect(await store.outbox.accepted(key)).toBeUndefined();

    const first = delivery({ createdAt: now });
    expect(await store.outbox.enqueue([first], accepted(first.auditId, 'body-1'))).toBeUndefined();
    expect(await store.outbox.accepted(key)).toEqual(accepted(first.auditId, 'body-1'));

    const second = delivery({ createdAt: now });
    expect(await store.outbox.enqueue([second], accepted(second.auditId, 'body-2'))).toEqual(accepted(first.auditId, 'body-1'));
    expect(await store.outbox.get(second.id)).toBeUndefined();
    expect(await store.outbox.get(first.id)).toMatchObject({ state: 'pending' });
    // The key is per sender: another sender's same key is another key.
    expect(keyDigest('sof-case-system', 'k')).not.toBe(keyDigest('bif-jobcentre-system', 'k'));
  });

  it('lets only one of two concurrent notifications with the same key queue its deliveries', async () => {
    const now = at();
    const key = keyDigest('bif-jobcentre-system', `event-${randomUUID()}`);
    const [a, b] = [delivery({ createdAt: now }), delivery({ createdAt: now })];
    const results = await Promise.all(
      [a, b].map((d) =>
        store.outbox.enqueue([d], {
          keyDigest: key,
          sender: 'bif-jobcentre-system',
          bodyDigest: 'same',
          auditId: d.auditId,
          result: '{}',
          createdAt: now,
        }),
      ),
    );
    expect(results.filter((r) => r === undefined)).toHaveLength(1);
    const winner = results[0] === undefined ? a : b;
    const loser = winner === a ? b : a;
    expect(results.find((r) => r !== undefined)).toMatchObject({ auditId: winner.auditId });
    expect(await store.outbox.get(winner.id)).toBeDefined();
    expect(await store.outbox.get(loser.id)).toBeUndefined();
  });

  it("commits a notification's audit records, deliveries and Idempotency-Key in one append; a taken key or a failed outbox write writes none of them, and the rest of the commit goes on", async () => {
    const trail = await AuditTrail.open(store, { chain: `outbox-${randomUUID().slice(0, 8)}` });
    const now = at();
    const key = keyDigest('bif-jobcentre-system', `event-${randomUUID()}`);
    const notification = (d: NewDelivery): QueuedNotification => ({
      deliveries: [d],
      accepted: { keyDigest: key, sender: 'bif-jobcentre-system', bodyDigest: 'same', auditId: d.auditId, result: '{}', createdAt: now },
    });
    const queued = (d: NewDelivery) => auditEntry({ kind: 'notification', auditId: d.auditId, reasons: ['QUEUED'], status: 202 });
    const recordsOf = async (auditId: string) => (await store.audit.search({ auditId, limit: 10 })).records;

    // Two notifications under one key in one commit, with a query's record beside them: the first
    // takes the key, the second is refused alone, the query's record is written.
    const [a, b] = [delivery({ createdAt: now }), delivery({ createdAt: now })];
    const other = auditEntry();
    const outcomes = await Promise.allSettled([
      trail.appendMany([queued(a)], { notification: notification(a) }),
      trail.appendMany([queued(b)], { notification: notification(b) }),
      trail.append(other),
    ]);
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((outcomes[1] as PromiseRejectedResult).reason).toBeInstanceOf(IdempotencyKeyTakenError);
    expect(await store.outbox.get(a.id)).toMatchObject({ state: 'pending', auditId: a.auditId });
    expect(await store.outbox.accepted(key)).toMatchObject({ auditId: a.auditId });
    expect(await recordsOf(a.auditId)).toHaveLength(1);
    expect(await store.outbox.get(b.id)).toBeUndefined();
    expect(await recordsOf(b.auditId)).toEqual([]);
    expect(await recordsOf(other.auditId)).toHaveLength(1);

    // Taken by an earlier commit: refused the same way.
    const c = delivery({ createdAt: now });
    await expect(trail.appendMany([queued(c)], { notification: notification(c) })).rejects.toBeInstanceOf(IdempotencyKeyTakenError);
    expect(await recordsOf(c.auditId)).toEqual([]);

    // The outbox cannot be written: the notification's records are not written either.
    const d = delivery({ createdAt: now });
    await db.failInserts('outbox', true);
    try {
      await expect(trail.appendMany([queued(d)], { notification: { deliveries: [d] } })).rejects.toBeInstanceOf(OutboxWriteError);
    } finally {
      await db.failInserts('outbox', false);
    }
    expect(await store.outbox.get(d.id)).toBeUndefined();
    expect(await recordsOf(d.auditId)).toEqual([]);
    // And the chain goes on from where it was, verifying.
    await trail.appendMany([queued(d)], { notification: { deliveries: [d] } });
    expect(await store.outbox.get(d.id)).toMatchObject({ state: 'pending' });
    expect((await verifyChain(store, trail.chain)).ok).toBe(true);
  });

  it('keeps an enqueued delivery pending and due, with its payload and meta', async () => {
    const now = at();
    const d = delivery({ createdAt: now });
    await store.outbox.enqueue([d]);
    expect(await store.outbox.get(d.id)).toMatchObject({
      id: d.id,
      state: 'pending',
      attempts: 0,
      nextAttemptAt: now,
      lease: null,
      payload: d.payload,
      meta,
      recipient: d.recipient,
    });
  });

  it('leases a due delivery to one claimer until the lease runs out, counting attempts', async () => {
    const now = at();
    const d = delivery({ createdAt: now });
    await store.outbox.enqueue([d]);
    const [first] = await store.outbox.claim('gw-a', now, LEASE, 10);
    expect(first).toMatchObject({ id: d.id, state: 'delivering', attempts: 1, lease: { owner: 'gw-a', until: now + LEASE } });
    expect(await store.outbox.claim('gw-b', now + LEASE - 1, LEASE, 10)).toEqual([]);
    // gw-a died: once its lease has run out, another instance takes the delivery over.
    const [taken] = await store.outbox.claim('gw-b', now + LEASE, LEASE, 10);
    expect(taken).toMatchObject({ id: d.id, attempts: 2, lease: { owner: 'gw-b' } });
    expect(taken!.lease!.id).not.toBe(first!.lease!.id);
    // The old lease can no longer record anything.
    expect(await store.outbox.finish(d.id, first!.lease!.id, { state: 'delivered', at: now, status: 202, error: null })).toBe(false);
    expect(await store.outbox.finish(d.id, taken!.lease!.id, { state: 'delivered', at: now + LEASE, status: 202, error: null })).toBe(true);
    expect(await store.outbox.get(d.id)).toMatchObject({
      state: 'delivered',
      payload: null,
      lease: null,
      finishedAt: now + LEASE,
      lastStatus: 202,
    });
  });

  it('schedules a failed attempt for later and does not hand it out before then', async () => {
    const now = at();
    const d = delivery({ createdAt: now });
    await store.outbox.enqueue([d]);
    const [c] = await store.outbox.claim('gw-a', now, LEASE, 10);
    expect(
      await store.outbox.finish(d.id, c!.lease!.id, {
        state: 'pending',
        at: now,
        nextAttemptAt: now + 5000,
        status: 503,
        error: 'RECIPIENT_STATUS',
      }),
    ).toBe(true);
    expect(await store.outbox.get(d.id)).toMatchObject({
      state: 'pending',
      attempts: 1,
      nextAttemptAt: now + 5000,
      lastError: 'RECIPIENT_STATUS',
      lastStatus: 503,
      payload: d.payload,
    });
    expect(await store.outbox.claim('gw-a', now + 4999, LEASE, 10)).toEqual([]);
    expect((await store.outbox.claim('gw-a', now + 5000, LEASE, 10)).map((x) => x.attempts)).toEqual([2]);
  });

  it('never leases one delivery to two concurrent claimers (two store handles, as two instances)', async () => {
    const now = at();
    const other = await db.open();
    const rows = Array.from({ length: 24 }, (_, i) => delivery({ createdAt: now + i }));
    await store.outbox.enqueue(rows);
    const claims = await Promise.all([
      store.outbox.claim('gw-a', now + 100, LEASE, 5),
      other.outbox.claim('gw-b', now + 100, LEASE, 5),
      store.outbox.claim('gw-c', now + 100, LEASE, 5),
      other.outbox.claim('gw-d', now + 100, LEASE, 5),
      other.outbox.claim('gw-e', now + 100, LEASE, 5),
    ]);
    const ids = claims.flat().map((d) => d.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.length).toBe(24);
    for (const d of claims.flat()) expect(d.attempts).toBe(1);
  });

  it("dead-letters, lists, re-drives and finally erases a dead letter's payload", async () => {
    const now = at();
    const d = delivery({ createdAt: now });
    await store.outbox.enqueue([d]);
    const [c] = await store.outbox.claim('gw-a', now, LEASE, 10);
    await store.outbox.finish(d.id, c!.lease!.id, { state: 'dead', at: now + 1, status: 503, error: 'RECIPIENT_STATUS' });
    expect(await store.outbox.claim('gw-a', now + 1e9, LEASE, 10)).toEqual([]);
    const dead = await store.outbox.list({ state: 'dead', auditId: d.auditId, limit: 10 });
    expect(dead.deliveries.map((x) => x.id)).toEqual([d.id]);
    expect(dead.deliveries[0]).toMatchObject({ state: 'dead', attempts: 1, finishedAt: now + 1, payload: d.payload });

    expect(await store.outbox.redrive(d.id, now + 2)).toBe('redriven');
    expect(await store.outbox.get(d.id)).toMatchObject({ state: 'pending', attempts: 0, nextAttemptAt: now + 2, finishedAt: null });
    expect(await store.outbox.redrive(d.id, now + 2)).toBe('not-found'); // not dead any more
    const [again] = await store.outbox.claim('gw-a', now + 2, LEASE, 10);
    expect(again).toMatchObject({ id: d.id, attempts: 1 });
    await store.outbox.finish(d.id, again!.lease!.id, { state: 'dead', at: now + 3, status: null, error: 'PROVIDER_UNAVAILABLE' });

    expect(await store.outbox.expire(now + 3)).toBe(0); // died at now + 3: not before it
    expect(await store.outbox.expire(now + 4)).toBeGreaterThanOrEqual(1);
    expect(await store.outbox.get(d.id)).toMatchObject({ state: 'dead', payload: null });
    expect(await store.outbox.redrive(d.id, now + 5)).toBe('expired');
    expect(await store.outbox.redrive(randomUUID(), now + 5)).toBe('not-found');
  });

  it('gives back the leases of an instance that restarts', async () => {
    const now = at();
    const d = delivery({ createdAt: now });
    await store.outbox.enqueue([d]);
    await store.outbox.claim('gw-restart', now, LEASE, 10);
    expect(await store.outbox.release('gw-restart', now + 1)).toBe(1);
    expect(await store.outbox.get(d.id)).toMatchObject({ state: 'pending', lease: null, attempts: 1 });
    expect((await store.outbox.claim('gw-restart', now + 1, LEASE, 10)).map((x) => x.id)).toEqual([d.id]);
  });

  it('cancels with the payload erased, and pages the list newest first', async () => {
    const now = at();
    const auditId = randomUUID();
    const rows = Array.from({ length: 5 }, (_, i) => delivery({ auditId, createdAt: now + i }));
    await store.outbox.enqueue(rows);
    const page1 = await store.outbox.list({ auditId, limit: 2 });
    expect(page1.deliveries.map((d) => d.createdAt)).toEqual([now + 4, now + 3]);
    const page2 = await store.outbox.list({ auditId, limit: 2, after: page1.next! });
    const page3 = await store.outbox.list({ auditId, limit: 2, after: page2.next! });
    expect([...page2.deliveries, ...page3.deliveries].map((d) => d.createdAt)).toEqual([now + 2, now + 1, now]);
    expect(page3.next).toBeUndefined();
    await expect(store.outbox.list({ limit: 2, after: 'not-a-cursor!' })).rejects.toThrow('cursor');

    const [c] = await store.outbox.claim('gw-a', now + 10, LEASE, 1);
    await store.outbox.finish(c!.id, c!.lease!.id, { state: 'cancelled', at: now + 10, status: null, error: 'CONSENT_WITHDRAWN' });
    expect(await store.outbox.get(c!.id)).toMatchObject({ state: 'cancelled', payload: null, lastError: 'CONSENT_WITHDRAWN' });
    const counts = await store.outbox.counts();
    expect(counts.cancelled).toBeGreaterThanOrEqual(1);
    expect(counts.pending).toBeGreaterThanOrEqual(4);
  });

  it("writes a notification's deliveries all or none", async () => {
    const now = at();
    const a = delivery({ createdAt: now });
    await store.outbox.enqueue([a]);
    const b = delivery({ createdAt: now });
    await expect(store.outbox.enqueue([b, { ...delivery({ createdAt: now }), id: a.id }])).rejects.toHaveProperty(
      'message',
      expect.stringMatching(/unique|duplicate/i),
    );
    expect(await store.outbox.get(b.id)).toBeUndefined();
  });
  it('forgets ended deliveries without a payload and Idempotency-Key answers from before the cut-off, and nothing else', async () => {
    const now = at();
    /** Enqueues a delivery made at `now`, claims it and ends it as `state` at `endedAt`. */
    const ended = async (state: 'delivered' | 'cancelled' | 'dead', endedAt: number): Promise<string> => {
      const d = delivery({ createdAt: now });
      await store.outbox.enqueue([d]);
      const [c] = await store.outbox.claim('gw-forget', now, LEASE, 1);
      expect(c?.id).toBe(d.id);
      await store.outbox.finish(
        d.id,
        c!.lease!.id,
        state === 'dead'
          ? { state, at: endedAt, status: 503, error: 'RECIPIENT_STATUS' }
          : { state, at: endedAt, status: null, error: null },
      );
      return d.id;
    };
    const delivered = await ended('delivered', now + 10);
    const cancelled = await ended('cancelled', now + 10);
    const deadErased = await ended('dead', now + 10);
    expect(await store.outbox.expire(now + 20)).toBeGreaterThanOrEqual(1);
    const deadWithPayload = await ended('dead', now + 30); // may still be re-driven
    const deliveredLate = await ended('delivered', now + 1_000);
    // Not ended: one waiting for its first attempt and one being delivered, both made before the cut-offs.
    const pending = delivery({ createdAt: now + 400 }); // not due at `now`, when this test claims
    await store.outbox.enqueue([pending]);
    const inFlight = delivery({ createdAt: now });
    await store.outbox.enqueue([inFlight]);
    expect((await store.outbox.claim('gw-forget', now, LEASE, 1)).map((d) => d.id)).toEqual([inFlight.id]);
    const answer = (key: string, createdAt: number): AcceptedNotification => ({
      keyDigest: keyDigest('bif-jobcentre-system', key),
      sender: 'bif-jobcentre-system',
      bodyDigest: 'b',
      auditId: randomUUID(),
      result: '{}',
      createdAt,
    });
    const oldKey = answer(`old-${randomUUID()}`, now + 100);
    const newKey = answer(`new-${randomUUID()}`, now + 1_000);
    await store.outbox.enqueue([], oldKey);
    await store.outbox.enqueue([], newKey);

    const forgotten = await store.outbox.forget(now + 500, 1_000);
    expect(forgotten.deliveries).toBeGreaterThanOrEqual(3);
    expect(forgotten.requests).toBeGreaterThanOrEqual(1);
    for (const id of [delivered, cancelled, deadErased]) expect(await store.outbox.get(id)).toBeUndefined();
    expect(await store.outbox.get(deadWithPayload)).toMatchObject({ state: 'dead' });
    expect(await store.outbox.get(deliveredLate)).toMatchObject({ state: 'delivered' });
    expect(await store.outbox.get(pending.id)).toMatchObject({ state: 'pending' });
    expect(await store.outbox.get(inFlight.id)).toMatchObject({ state: 'delivering' });
    expect(await store.outbox.accepted(oldKey.keyDigest)).toBeUndefined();
    expect(await store.outbox.accepted(newKey.keyDigest)).toEqual(newKey);
    expect(await store.outbox.forget(now + 500, 1_000)).toEqual({ deliveries: 0, requests: 0 });

    // At most `limit` of each kind per call: a backlog is deleted a batch at a time.
    const later = [await ended('delivered', now + 2_000), await ended('delivered', now + 2_000), await ended('delivered', now + 2_000)];
    const counts: number[] = [];
    for (let n = -1; n !== 0;) {
      n = (await store.outbox.forget(now + 3_000, 2)).deliveries;
      counts.push(n);
    }
    expect(Math.max(...counts)).toBe(2);
    expect(counts.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(4); // the three, and deliveredLate
    for (const id of [...later, deliveredLate]) expect(await store.outbox.get(id)).toBeUndefined();
    expect(await store.outbox.get(pending.id)).toMatchObject({ state: 'pending' });
    expect(await store.outbox.get(inFlight.id)).toMatchObject({ state: 'delivering' });
    expect(await store.outbox.get(deadWithPayload)).toMatchObject({ state: 'dead' });
  });
});
