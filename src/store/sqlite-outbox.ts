import { randomUUID } from 'node:crypto';
import type Database from 'better-sqlite3';
import type { AcceptedNotification, DeliveryState, OutboxStore, QueuedNotification } from '../outbox/types.js';
import {
  ACCEPTED_COLUMNS,
  OUTBOX_COLUMNS,
  deliveryListSql,
  forgetSql,
  deliveryPage,
  emptyCounts,
  fromAcceptedRow,
  fromOutboxRow,
  toAcceptedRow,
  toOutboxRow,
  type AcceptedRow,
  type OutboxRow,
} from './outbox.js';

/**
 * The notification outbox on SQLite. Claims run in one IMMEDIATE transaction (select the due
 * rows, then lease them), so even two processes on one file never lease the same row twice.
 * `queue` writes notifications inside a transaction the caller holds (the audit append's): it
 * returns the positions of those whose Idempotency-Key is taken, whose rows it did not write.
 */
export function sqliteOutbox(
  db: Database.Database,
  write: <T>(fn: () => T) => T,
): { outbox: OutboxStore; queue(notifications: readonly QueuedNotification[]): number[] } {
  const cols = OUTBOX_COLUMNS.join(', ');
  const sql = {
    insert: db.prepare(`INSERT INTO outbox (${cols}) VALUES (${OUTBOX_COLUMNS.map((c) => `@${c}`).join(', ')})`),
    due: db
      .prepare(
        `SELECT id FROM outbox WHERE (state = 'pending' AND next_attempt_at <= @now) OR (state = 'delivering' AND lease_until <= @now) ` +
          'ORDER BY next_attempt_at, id LIMIT @limit',
      )
      .pluck(),
    anyDue: db
      .prepare(
        "SELECT 1 FROM outbox WHERE (state = 'pending' AND next_attempt_at <= @now) OR (state = 'delivering' AND lease_until <= @now) LIMIT 1",
      )
      .pluck(),
    lease: db.prepare(
      "UPDATE outbox SET state = 'delivering', lease_owner = @owner, lease_id = @lease, lease_until = @until, attempts = attempts + 1, updated_at = @now WHERE id = @id",
    ),
    get: db.prepare(`SELECT ${cols} FROM outbox WHERE id = ?`),
    finish: db.prepare(
      'UPDATE outbox SET state = @state, lease_owner = NULL, lease_id = NULL, lease_until = NULL, next_attempt_at = @next, last_error = @error, ' +
        'last_status = @status, updated_at = @at, finished_at = @finished, payload = CASE WHEN @erase = 1 THEN NULL ELSE payload END ' +
        "WHERE id = @id AND lease_id = @lease AND state = 'delivering'",
    ),
    release: db.prepare(
      "UPDATE outbox SET state = 'pending', lease_owner = NULL, lease_id = NULL, lease_until = NULL, updated_at = @now WHERE state = 'delivering' AND lease_owner = @owner",
    ),
    redrive: db.prepare(
      "UPDATE outbox SET state = 'pending', attempts = 0, next_attempt_at = @now, finished_at = NULL, updated_at = @now WHERE id = @id AND state = 'dead' AND payload IS NOT NULL",
    ),
    deadState: db.prepare("SELECT payload IS NOT NULL AS has FROM outbox WHERE id = ? AND state = 'dead'").pluck(),
    expire: db.prepare("UPDATE outbox SET payload = NULL WHERE state = 'dead' AND finished_at < ? AND payload IS NOT NULL"),
    counts: db.prepare('SELECT state, count(*) AS n FROM outbox GROUP BY state'),
    forgetDeliveries: db.prepare(forgetSql('@before', '@limit').deliveries),
    forgetRequests: db.prepare(forgetSql('@before', '@limit').requests),
    accept: db.prepare(
      `INSERT INTO notification_request (${ACCEPTED_COLUMNS.join(', ')}) VALUES (${ACCEPTED_COLUMNS.map((c) => `@${c}`).join(', ')}) ON CONFLICT (key_digest) DO NOTHING`,
    ),
    accepted: db.prepare(`SELECT ${ACCEPTED_COLUMNS.join(', ')} FROM notification_request WHERE key_digest = ?`),
  };

  /** Writes one notification; false (nothing written) when its key is taken. */
  const queueOne = (rows: readonly OutboxRow[], accepted: AcceptedNotification | undefined): boolean => {
    if (accepted !== undefined && sql.accept.run(toAcceptedRow(accepted)).changes === 0) return false;
    for (const r of rows) sql.insert.run(r);
    return true;
  };

  const queue = (notifications: readonly QueuedNotification[]): number[] => {
    const rows = notifications.map((n) => n.deliveries.map(toOutboxRow));
    const taken: number[] = [];
    notifications.forEach((n, i) => {
      if (!queueOne(rows[i]!, n.accepted)) taken.push(i);
    });
    return taken;
  };

  const outbox: OutboxStore = {
    async enqueue(deliveries, accepted) {
      if (deliveries.length === 0 && accepted === undefined) return undefined;
      const rows = deliveries.map(toOutboxRow);
      return write(() => (queueOne(rows, accepted) ? undefined : fromAcceptedRow(sql.accepted.get(accepted!.keyDigest) as AcceptedRow)));
    },
    async accepted(keyDigest) {
      const row = sql.accepted.get(keyDigest) as AcceptedRow | undefined;
      return row === undefined ? undefined : fromAcceptedRow(row);
    },
    async claim(owner, now, leaseMs, limit) {
      // Most polls find nothing: look first without taking the write lock.
      if (sql.anyDue.get({ now }) === undefined) return [];
      return write(() => {
        const ids = sql.due.all({ now, limit }) as string[];
        return ids.map((id) => {
          sql.lease.run({ id, owner, lease: randomUUID(), until: now + leaseMs, now });
          return fromOutboxRow(sql.get.get(id) as OutboxRow);
        });
      });
    },
    async finish(id, leaseId, o) {
      const erase = o.state === 'delivered' || o.state === 'cancelled';
      const finished = o.state === 'pending' ? null : o.at;
      const next = o.state === 'pending' ? o.nextAttemptAt : o.at;
      return write(
        () =>
          sql.finish.run({
            id,
            lease: leaseId,
            state: o.state,
            next,
            error: o.error,
            status: o.status,
            at: o.at,
            finished,
            erase: erase ? 1 : 0,
          }).changes === 1,
      );
    },
    async release(owner, now) {
      return write(() => sql.release.run({ owner, now }).changes);
    },
    async get(id) {
      const row = sql.get.get(id) as OutboxRow | undefined;
      return row === undefined ? undefined : fromOutboxRow(row);
    },
    async list(query) {
      const q = deliveryListSql(() => '?', query);
      return deliveryPage(db.prepare(q.sql).all(...q.params) as OutboxRow[], q.limit);
    },
    async redrive(id, now) {
      return write(() => {
        if (sql.redrive.run({ id, now }).changes === 1) return 'redriven' as const;
        const has = sql.deadState.get(id) as number | undefined;
        return has === undefined ? ('not-found' as const) : ('expired' as const);
      });
    },
    async expire(before) {
      return write(() => sql.expire.run(before).changes);
    },
    async forget(before, limit) {
      return write(() => ({
        deliveries: sql.forgetDeliveries.run({ before, limit }).changes,
        requests: sql.forgetRequests.run({ before, limit }).changes,
      }));
    },
    async counts() {
      const out = emptyCounts();
      for (const r of sql.counts.all() as { state: DeliveryState; n: number }[]) out[r.state] = Number(r.n);
      return out;
    },
  };
  return { outbox, queue };
}
