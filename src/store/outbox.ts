import {
  InvalidDeliveryCursorError,
  MAX_DELIVERY_PAGE,
  type AcceptedNotification,
  type Delivery,
  type DeliveryMeta,
  type DeliveryQuery,
  type DeliveryState,
  type NewDelivery,
} from '../outbox/types.js';
import { canonicalJson } from '../lib/digest.js';

/**
 * What the SQLite and PostgreSQL outboxes (sqlite-outbox.ts, postgres-outbox.ts) share: the
 * columns and their mapping to the outbox's types (src/outbox/types.ts), the cursor of a list,
 * and the SQL both dialects run alike.
 */

/**
 * What forget() deletes, in either dialect (`before` and `limit` are the placeholders of the
 * cut-off and the limit): ended deliveries without a payload, oldest first by the created_at
 * index (a delivery ends after it was made), and Idempotency-Key answers by theirs
 * (migration 8).
 */
export function forgetSql(before: string, limit: string): { readonly deliveries: string; readonly requests: string } {
  return {
    deliveries:
      `DELETE FROM outbox WHERE id IN (SELECT id FROM outbox WHERE created_at < ${before} AND finished_at < ${before} AND payload IS NULL ` +
      `AND state IN ('delivered', 'cancelled', 'dead') ORDER BY created_at, id LIMIT ${limit})`,
    requests: `DELETE FROM notification_request WHERE key_digest IN (SELECT key_digest FROM notification_request WHERE created_at < ${before} ORDER BY created_at LIMIT ${limit})`,
  };
}

/** The outbox columns, as both dialects store them. */
export interface OutboxRow {
  id: string;
  audit_id: string;
  request_id: string;
  contract: string;
  recipient_system: string;
  recipient_administration: string;
  subject: string;
  state: string;
  attempts: number | string;
  next_attempt_at: number | string;
  lease_owner: string | null;
  lease_id: string | null;
  lease_until: number | string | null;
  last_error: string | null;
  last_status: number | null;
  created_at: number | string;
  updated_at: number | string;
  finished_at: number | string | null;
  meta: string;
  payload: string | null;
}

export const OUTBOX_COLUMNS = [
  'id',
  'audit_id',
  'request_id',
  'contract',
  'recipient_system',
  'recipient_administration',
  'subject',
  'state',
  'attempts',
  'next_attempt_at',
  'lease_owner',
  'lease_id',
  'lease_until',
  'last_error',
  'last_status',
  'created_at',
  'updated_at',
  'finished_at',
  'meta',
  'payload',
] as const satisfies readonly (keyof OutboxRow)[];

export function toOutboxRow(d: NewDelivery): OutboxRow {
  if (typeof d?.id !== 'string' || d.id.length === 0 || typeof d.payload !== 'string')
    throw new TypeError('OutboxStore.enqueue: a delivery needs an id and a payload');
  if (!Number.isSafeInteger(d.createdAt)) throw new TypeError('OutboxStore.enqueue: createdAt must be ms since the epoch');
  return {
    id: d.id,
    audit_id: d.auditId,
    request_id: d.requestId,
    contract: d.contract,
    recipient_system: d.recipient.system,
    recipient_administration: d.recipient.administration,
    subject: d.subject,
    state: 'pending',
    attempts: 0,
    next_attempt_at: d.createdAt,
    lease_owner: null,
    lease_id: null,
    lease_until: null,
    last_error: null,
    last_status: null,
    created_at: d.createdAt,
    updated_at: d.createdAt,
    finished_at: null,
    meta: canonicalJson(d.meta),
    payload: d.payload,
  };
}

const num = (v: number | string): number => Number(v);

export function fromOutboxRow(r: OutboxRow): Delivery {
  return {
    id: r.id,
    auditId: r.audit_id,
    requestId: r.request_id,
    contract: r.contract,
    recipient: { system: r.recipient_system, administration: r.recipient_administration },
    subject: r.subject,
    meta: JSON.parse(r.meta) as DeliveryMeta,
    createdAt: num(r.created_at),
    state: r.state as DeliveryState,
    attempts: num(r.attempts),
    nextAttemptAt: num(r.next_attempt_at),
    lease:
      r.lease_owner !== null && r.lease_id !== null && r.lease_until !== null
        ? { owner: r.lease_owner, id: r.lease_id, until: num(r.lease_until) }
        : null,
    lastError: r.last_error,
    lastStatus: r.last_status === null ? null : Number(r.last_status),
    updatedAt: num(r.updated_at),
    finishedAt: r.finished_at === null ? null : num(r.finished_at),
    payload: r.payload,
  };
}

/** Cursors are base64url JSON [1, createdAt, id], newest first. */
export function encodeDeliveryCursor(d: { createdAt: number; id: string }): string {
  return Buffer.from(JSON.stringify([1, d.createdAt, d.id]), 'utf8').toString('base64url');
}

/** The position after which the next page starts; throws InvalidDeliveryCursorError for anything we did not hand out. */
export function decodeDeliveryCursor(cursor: string): { createdAt: number; id: string } {
  if (typeof cursor !== 'string' || cursor.length > 512 || !/^[A-Za-z0-9_-]+$/.test(cursor)) throw new InvalidDeliveryCursorError();
  let v: unknown;
  try {
    v = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw new InvalidDeliveryCursorError();
  }
  if (
    !Array.isArray(v) ||
    v.length !== 3 ||
    v[0] !== 1 ||
    !Number.isSafeInteger(v[1]) ||
    typeof v[2] !== 'string' ||
    v[2].length === 0 ||
    v[2].length > 100
  ) {
    throw new InvalidDeliveryCursorError();
  }
  return { createdAt: v[1] as number, id: v[2] };
}

/** The WHERE clause of a list, for a dialect's placeholders. */
export function deliveryListSql(param: (n: number) => string, q: DeliveryQuery): { sql: string; params: unknown[]; limit: number } {
  if (!Number.isFinite(q.limit) || q.limit < 1) throw new TypeError('DeliveryQuery.limit must be a positive number');
  const limit = Math.min(Math.floor(q.limit), MAX_DELIVERY_PAGE);
  const params: unknown[] = [];
  const p = (v: unknown): string => {
    params.push(v);
    return param(params.length);
  };
  const where: string[] = [];
  if (q.state !== undefined) where.push(`state = ${p(q.state)}`);
  if (q.contract !== undefined) where.push(`contract = ${p(q.contract)}`);
  if (q.recipientSystem !== undefined) where.push(`recipient_system = ${p(q.recipientSystem)}`);
  if (q.auditId !== undefined) where.push(`audit_id = ${p(q.auditId)}`);
  if (q.after !== undefined) {
    const at = decodeDeliveryCursor(q.after);
    where.push(`(created_at < ${p(at.createdAt)} OR (created_at = ${p(at.createdAt)} AND id < ${p(at.id)}))`);
  }
  const sql =
    `SELECT ${OUTBOX_COLUMNS.join(', ')} FROM outbox` +
    (where.length > 0 ? ` WHERE ${where.join(' AND ')}` : '') +
    ` ORDER BY created_at DESC, id DESC LIMIT ${p(limit + 1)}`;
  return { sql, params, limit };
}

export function deliveryPage(rows: readonly OutboxRow[], limit: number): { deliveries: Delivery[]; next?: string } {
  const deliveries = rows.slice(0, limit).map(fromOutboxRow);
  const last = deliveries[deliveries.length - 1];
  return rows.length > limit && last !== undefined ? { deliveries, next: encodeDeliveryCursor(last) } : { deliveries };
}

export function emptyCounts(): Record<DeliveryState, number> {
  return { pending: 0, delivering: 0, delivered: 0, dead: 0, cancelled: 0 };
}

/** The columns of notification_request, in AcceptedNotification's order. */
export const ACCEPTED_COLUMNS = ['key_digest', 'sender', 'body_digest', 'audit_id', 'result', 'created_at'] as const;
export type AcceptedRow = {
  key_digest: string;
  sender: string;
  body_digest: string;
  audit_id: string;
  result: string;
  created_at: number | string;
};

export function toAcceptedRow(a: AcceptedNotification): AcceptedRow {
  return {
    key_digest: a.keyDigest,
    sender: a.sender,
    body_digest: a.bodyDigest,
    audit_id: a.auditId,
    result: a.result,
    created_at: a.createdAt,
  };
}

export function fromAcceptedRow(r: AcceptedRow): AcceptedNotification {
  return {
    keyDigest: r.key_digest,
    sender: r.sender,
    bodyDigest: r.body_digest,
    auditId: r.audit_id,
    result: r.result,
    createdAt: Number(r.created_at),
  };
}
