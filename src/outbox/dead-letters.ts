import type { Client } from '../auth/clients.js';
import type { RequestToken } from '../auth/token.js';
import type { AuditTrail } from '../audit/trail.js';
import { callerSchemaErrors, contractAjv } from '../contracts/ajv.js';
import { CONTRACT_ID } from '../contracts/meta-schema.js';
import { GatewayError } from '../errors.js';
import { auditEntry, withRecipient } from '../audit/entry.js';
import { NOTIFICATION_AUDIT } from '../audit/reasons.js';
import { writeAudit } from '../audit/write.js';
import {
  DELIVERY_STATES,
  InvalidDeliveryCursorError,
  MAX_DELIVERY_PAGE,
  type Delivery,
  type DeliveryState,
  type OutboxStore,
} from './types.js';

export interface DeadLetterDeps {
  readonly outbox: OutboxStore;
  readonly trail: AuditTrail;
  /** Wakes the delivery worker after a re-drive. */
  readonly wake?: () => void;
}

/** A delivery as operations and the DPO see it: where it stands, never its payload. */
export interface DeliveryView {
  readonly id: string;
  readonly auditId: string;
  readonly contract: string;
  readonly recipient: { readonly system: string; readonly administration: string };
  readonly state: DeliveryState;
  readonly attempts: number;
  readonly lastError: string | null;
  readonly lastStatus: number | null;
  readonly createdAt: string;
  readonly updatedAt: string;
  /** When it was delivered, dead-lettered or cancelled. */
  readonly finishedAt: string | null;
  readonly nextAttemptAt: string | null;
  /** False once the payload is erased (delivered, cancelled, or a dead letter past its retention): it can no longer be re-driven. */
  readonly payloadAvailable: boolean;
}

export function deliveryView(d: Delivery): DeliveryView {
  const iso = (ms: number): string => new Date(ms).toISOString();
  return {
    id: d.id,
    auditId: d.auditId,
    contract: d.contract,
    recipient: d.recipient,
    state: d.state,
    attempts: d.attempts,
    lastError: d.lastError,
    lastStatus: d.lastStatus,
    createdAt: iso(d.createdAt),
    updatedAt: iso(d.updatedAt),
    finishedAt: d.finishedAt === null ? null : iso(d.finishedAt),
    nextAttemptAt: d.state === 'pending' ? iso(d.nextAttemptAt) : null,
    payloadAvailable: d.payload !== null,
  };
}

/** The body of POST /v1/notifications/dead-letters/search. */
export const deadLetterSearchSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    state: { enum: DELIVERY_STATES },
    contract: { type: 'string', pattern: CONTRACT_ID, maxLength: 128 },
    recipient: { type: 'string', pattern: '^[a-z0-9][a-z0-9-]{1,62}$', maxLength: 63 },
    auditId: { type: 'string', minLength: 1, maxLength: 100, format: 'no-cpr' },
    limit: { type: 'integer', minimum: 1, maximum: MAX_DELIVERY_PAGE },
    after: { type: 'string', minLength: 1, maxLength: 512, format: 'no-cpr' },
  },
} as const;
const validateSearch = contractAjv().compile(deadLetterSearchSchema);

interface SearchBody {
  state?: DeliveryState;
  contract?: string;
  recipient?: string;
  auditId?: string;
  limit?: number;
  after?: string;
}

/**
 * POST /v1/notifications/dead-letters/search: dead letters (or, with `state`, deliveries in
 * another state), newest first, paged. No payloads and no personal data: the audit id leads the
 * DPO to the trail.
 */
export async function searchDeliveries(deps: DeadLetterDeps, body: unknown): Promise<{ deliveries: DeliveryView[]; next?: string }> {
  if (!validateSearch(body)) {
    throw new GatewayError('REQUEST_INVALID', { errors: callerSchemaErrors(validateSearch.errors) });
  }
  const b = body as SearchBody;
  try {
    const page = await deps.outbox.list({
      state: b.state ?? 'dead',
      ...(b.contract !== undefined ? { contract: b.contract } : {}),
      ...(b.recipient !== undefined ? { recipientSystem: b.recipient } : {}),
      ...(b.auditId !== undefined ? { auditId: b.auditId } : {}),
      ...(b.after !== undefined ? { after: b.after } : {}),
      limit: b.limit ?? 50,
    });
    return { deliveries: page.deliveries.map(deliveryView), ...(page.next !== undefined ? { next: page.next } : {}) };
  } catch (err) {
    if (err instanceof InvalidDeliveryCursorError)
      throw new GatewayError('REQUEST_INVALID', { errors: [{ path: '/after', message: 'not a cursor this gateway handed out' }] });
    throw new GatewayError('OUTBOX_UNAVAILABLE', {}, { cause: err });
  }
}

const DELIVERY_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * POST /v1/notifications/dead-letters/{id}/redrive: a dead letter goes back to pending with a
 * fresh count of attempts. The re-drive is audited (kind notification, REDRIVEN, on the
 * notification's audit id, with who asked), before it takes effect.
 */
export async function redriveDelivery(
  deps: DeadLetterDeps,
  caller: { requestId: string; client: Client; token: RequestToken },
  id: string,
  now: Date = new Date(),
): Promise<{ delivery: DeliveryView; auditId: string }> {
  if (!DELIVERY_ID.test(id)) throw new GatewayError('DEAD_LETTER_NOT_FOUND');
  let d: Delivery | undefined;
  try {
    d = await deps.outbox.get(id);
  } catch (err) {
    throw new GatewayError('OUTBOX_UNAVAILABLE', {}, { cause: err });
  }
  if (!d || d.state !== 'dead') throw new GatewayError('DEAD_LETTER_NOT_FOUND');
  if (d.payload === null) throw new GatewayError('DEAD_LETTER_EXPIRED');
  await writeAudit(
    deps.trail,
    withRecipient(
      auditEntry('notification', {
        auditId: d.auditId,
        requestId: caller.requestId,
        caller: { system: caller.client.id, administration: caller.client.administration },
        caseworker: caller.token.caseworker,
        caseRef: caller.token.caseRef,
        contract: d.contract,
        subject: d.subject,
        purpose: d.meta.purpose,
        policy: d.meta.policy,
        policySet: d.meta.policySet,
        legalBasis: d.meta.legalBasis,
        reasons: [NOTIFICATION_AUDIT.redriven],
        tokenDigest: caller.token.digest,
        status: 200,
      }),
      d.recipient,
    ),
  );
  let outcome: Awaited<ReturnType<OutboxStore['redrive']>>;
  try {
    outcome = await deps.outbox.redrive(id, now.getTime());
  } catch (err) {
    throw new GatewayError('OUTBOX_UNAVAILABLE', {}, { cause: err });
  }
  if (outcome === 'not-found') throw Object.assign(new GatewayError('DEAD_LETTER_NOT_FOUND'), { auditId: d.auditId });
  if (outcome === 'expired') throw Object.assign(new GatewayError('DEAD_LETTER_EXPIRED'), { auditId: d.auditId });
  deps.wake?.();
  // The row as the re-drive left it (not read back: the worker may already be on its next attempt).
  return {
    delivery: deliveryView({
      ...d,
      state: 'pending',
      attempts: 0,
      nextAttemptAt: now.getTime(),
      finishedAt: null,
      updatedAt: now.getTime(),
    }),
    auditId: d.auditId,
  };
}
