import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import type { DeliveryState, OutboxStore, QueuedNotification } from '../outbox/types.js';
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
import type { PgRead, PgTransaction } from './postgres-consents.js';

const FORGET = forgetSql('$1', '$2');

const COLS = OUTBOX_COLUMNS.join(', ');
const TYPES: Record<(typeof OUTBOX_COLUMNS)[number], string> = {
  id: 'text',
  audit_id: 'text',
  request_id: 'text',
  contract: 'text',
  recipient_system: 'text',
  recipient_administration: 'text',
  subject: 'text',
  state: 'text',
  attempts: 'int',
  next_attempt_at: 'bigint',
  lease_owner: 'text',
  lease_id: 'text',
  lease_until: 'bigint',
  last_error: 'text',
  last_status: 'int',
  created_at: 'bigint',
  updated_at: 'bigint',
  finished_at: 'bigint',
  meta: 'text',
  payload: 'text',
};
/** One INSERT for a whole notification: each column travels as one array parameter. */
const INSERT = `INSERT INTO outbox (${COLS}) SELECT * FROM unnest(${OUTBOX_COLUMNS.map((c, i) => `$${i + 1}::${TYPES[c]}[]`).join(', ')})`;
const ACCEPTED_COLS = ACCEPTED_COLUMNS.join(', ');
/** Takes Idempotency-Keys, in the order given; returns the keys it took (a taken key waits for the commit that is taking it). */
const ACCEPT =
  `INSERT INTO notification_request (${ACCEPTED_COLS}) SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[]) ` +
  'ON CONFLICT (key_digest) DO NOTHING RETURNING key_digest';
const ACCEPTED = `SELECT ${ACCEPTED_COLS} FROM notification_request WHERE key_digest = $1`;

/**
 * Writes notifications in the transaction `c` is in (the audit append's, or enqueue's): the
 * Idempotency-Keys first, in key order (so that two commits taking the same keys wait for each
 * other instead of deadlocking), then the deliveries of those whose key was free. Returns the
 * positions of the notifications whose key was taken, by an earlier commit or by an earlier
 * notification in the list; their deliveries are not written.
 */
export async function queueNotifications(c: pg.ClientBase, notifications: readonly QueuedNotification[]): Promise<number[]> {
  const taken = new Set<number>();
  const firstOfKey = new Map<string, number>();
  notifications.forEach((n, i) => {
    if (n.accepted === undefined) return;
    if (firstOfKey.has(n.accepted.keyDigest)) taken.add(i);
    else firstOfKey.set(n.accepted.keyDigest, i);
  });
  if (firstOfKey.size > 0) {
    const accepted = [...firstOfKey.values()]
      .map((i) => toAcceptedRow(notifications[i]!.accepted!))
      .sort((a, b) => (a.key_digest < b.key_digest ? -1 : a.key_digest > b.key_digest ? 1 : 0));
    const { rows } = await c.query<{ key_digest: string }>(
      ACCEPT,
      ACCEPTED_COLUMNS.map((col) => accepted.map((r) => r[col])),
    );
    const took = new Set(rows.map((r) => r.key_digest));
    for (const [key, i] of firstOfKey) if (!took.has(key)) taken.add(i);
  }
  const rows = notifications.flatMap((n, i) => (taken.has(i) ? [] : n.deliveries.map(toOutboxRow)));
  if (rows.length > 0)
    await c.query(
      INSERT,
      OUTBOX_COLUMNS.map((col) => rows.map((r) => r[col])),
    );
  return [...taken].sort((a, b) => a - b);
}

/**
 * The notification outbox on PostgreSQL, shared by every gateway instance. A claim leases due
 * rows with SELECT ... FOR UPDATE SKIP LOCKED inside one UPDATE: concurrent workers skip each
 * other's rows instead of waiting, and no row is leased twice while its lease holds.
 */
export function postgresOutbox(read: PgRead, transaction: PgTransaction): OutboxStore {
  return {
    async enqueue(deliveries, accepted) {
      if (deliveries.length === 0 && accepted === undefined) return undefined;
      return transaction(async (c) => {
        if ((await queueNotifications(c, [accepted === undefined ? { deliveries } : { deliveries, accepted }])).length === 0)
          return undefined;
        // Taken, by a commit before this one (the insert waited for it if it was in flight).
        return fromAcceptedRow((await c.query<AcceptedRow>(ACCEPTED, [accepted!.keyDigest])).rows[0]!);
      });
    },
    async accepted(keyDigest) {
      const rows = await read<AcceptedRow>(ACCEPTED, [keyDigest]);
      return rows[0] === undefined ? undefined : fromAcceptedRow(rows[0]);
    },
    async claim(owner, now, leaseMs, limit) {
      // Most polls find nothing: look first, without a write transaction.
      const due = await read<{ one: number }>(
        "SELECT 1 AS one FROM outbox WHERE (state = 'pending' AND next_attempt_at <= $1) OR (state = 'delivering' AND lease_until <= $1) LIMIT 1",
        [now],
      );
      if (due.length === 0) return [];
      const rows = await transaction(async (c) => {
        const { rows } = await c.query<OutboxRow & { lease_seed: string }>(
          `UPDATE outbox o SET state = 'delivering', lease_owner = $1, lease_id = $2 || ':' || o.id, lease_until = $3, attempts = o.attempts + 1, updated_at = $4
             WHERE o.id IN (
               SELECT id FROM outbox
                WHERE (state = 'pending' AND next_attempt_at <= $4) OR (state = 'delivering' AND lease_until <= $4)
                ORDER BY next_attempt_at, id
                LIMIT $5
                FOR UPDATE SKIP LOCKED)
           RETURNING ${OUTBOX_COLUMNS.map((col) => `o.${col}`).join(', ')}`,
          [owner, randomUUID(), now + leaseMs, now, limit],
        );
        return rows;
      });
      return rows.map(fromOutboxRow).sort((a, b) => a.nextAttemptAt - b.nextAttemptAt || (a.id < b.id ? -1 : 1));
    },
    async finish(id, leaseId, o) {
      const erase = o.state === 'delivered' || o.state === 'cancelled';
      const finished = o.state === 'pending' ? null : o.at;
      const next = o.state === 'pending' ? o.nextAttemptAt : o.at;
      return transaction(async (c) => {
        const r = await c.query(
          `UPDATE outbox SET state = $3, lease_owner = NULL, lease_id = NULL, lease_until = NULL, next_attempt_at = $4, last_error = $5, last_status = $6,
                  updated_at = $7, finished_at = $8, payload = CASE WHEN $9::boolean THEN NULL ELSE payload END
            WHERE id = $1 AND lease_id = $2 AND state = 'delivering'`,
          [id, leaseId, o.state, next, o.error, o.status, o.at, finished, erase],
        );
        return r.rowCount === 1;
      });
    },
    async release(owner, now) {
      return transaction(async (c) => {
        const r = await c.query(
          "UPDATE outbox SET state = 'pending', lease_owner = NULL, lease_id = NULL, lease_until = NULL, updated_at = $2 WHERE state = 'delivering' AND lease_owner = $1",
          [owner, now],
        );
        return r.rowCount ?? 0;
      });
    },
    async get(id) {
      const rows = await read<OutboxRow>(`SELECT ${COLS} FROM outbox WHERE id = $1`, [id]);
      return rows[0] === undefined ? undefined : fromOutboxRow(rows[0]);
    },
    async list(query) {
      const q = deliveryListSql((n) => `$${n}`, query);
      return deliveryPage(await read<OutboxRow>(q.sql, q.params), q.limit);
    },
    async redrive(id, now) {
      return transaction(async (c) => {
        const r = await c.query(
          "UPDATE outbox SET state = 'pending', attempts = 0, next_attempt_at = $2, finished_at = NULL, updated_at = $2 WHERE id = $1 AND state = 'dead' AND payload IS NOT NULL",
          [id, now],
        );
        if (r.rowCount === 1) return 'redriven' as const;
        const dead = await c.query("SELECT 1 FROM outbox WHERE id = $1 AND state = 'dead'", [id]);
        return dead.rowCount === 0 ? ('not-found' as const) : ('expired' as const);
      });
    },
    async expire(before) {
      return transaction(
        async (c) =>
          (await c.query("UPDATE outbox SET payload = NULL WHERE state = 'dead' AND finished_at < $1 AND payload IS NOT NULL", [before]))
            .rowCount ?? 0,
      );
    },
    async forget(before, limit) {
      return transaction(async (c) => ({
        deliveries: (await c.query(FORGET.deliveries, [before, limit])).rowCount ?? 0,
        requests: (await c.query(FORGET.requests, [before, limit])).rowCount ?? 0,
      }));
    },
    async counts() {
      const out = emptyCounts();
      for (const r of await read<{ state: DeliveryState; n: string }>('SELECT state, count(*) AS n FROM outbox GROUP BY state', []))
        out[r.state] = Number(r.n);
      return out;
    },
  };
}
