import type { IncomingMessage, ServerResponse } from 'node:http';
import { isValidCpr } from '../lib/cpr.js';
import type { GatewayTokenVerifier } from './gateway-token.js';

/**
 * The receiving side of the simulated systems: how a recipient system takes notifications
 * from the gateway.
 *
 * Recipient protocol:
 *   POST /snitflade/v1/notifications/{contractId}   body {"cpr": "...", "event": {...}}
 *   Authorization: Bearer <ES256 JWT by the gateway for this system, bound to the body and path>
 *   Idempotency-Key: <the delivery's id; the same on every retry of one delivery>
 *   202 {"status":"received"}    new: kept in the inbox
 *   200 {"status":"duplicate"}   this key was received before: not kept again
 *   401 TOKEN_INVALID, 403 CLIENT_FORBIDDEN, 400 REQUEST_INVALID / IDEMPOTENCY_KEY_MISSING,
 *   404 CONTRACT_UNKNOWN (this system does not receive that notification)
 *
 * The event holds only the fields the recipient's policy permits, so required properties of
 * the contract's event schema may be missing: a recipient must accept a minimised event.
 */

/** Which notification contracts each simulated system receives. */
export const SIMULATED_RECEIVES: Readonly<Record<string, readonly string[]>> = {
  'sof-case-system': ['employment.sanction-notice.v1', 'employment.summons-copy.v1'],
  'bif-jobcentre-system': [],
};

export interface ReceivedNotification {
  readonly idempotencyKey: string;
  readonly contract: string;
  /** From the gateway's token. */
  readonly auditId: string;
  readonly policy: string;
  readonly purpose: string;
  readonly cpr: string;
  readonly event: Readonly<Record<string, unknown>>;
  readonly receivedAt: string;
}

/**
 * What a simulated recipient received, deduplicated on the Idempotency-Key. Pass the same inbox
 * to a restarted simulator to model a recipient that keeps its data across a restart.
 */
export class NotificationInbox {
  readonly #byKey = new Map<string, ReceivedNotification>();
  #deliveries = 0;
  #duplicates = 0;
  #loseAcks = 0;

  /** Each notification once, in the order first received. */
  get received(): readonly ReceivedNotification[] {
    return [...this.#byKey.values()];
  }

  /** Every delivery that passed the checks, duplicates included. */
  get deliveries(): number {
    return this.#deliveries;
  }

  get duplicates(): number {
    return this.#duplicates;
  }

  /**
   * The next `n` new notifications are kept but answered 503, as if the acknowledgement were lost
   * on the way back: the gateway must send them again and the inbox must not keep them twice.
   */
  loseAcknowledgements(n: number): void {
    if (!Number.isInteger(n) || n < 0) throw new TypeError('loseAcknowledgements: n must be a non-negative integer');
    this.#loseAcks = n;
  }

  /** Records a delivery; returns 'new', 'duplicate', or 'new-ack-lost'. */
  accept(n: ReceivedNotification): 'new' | 'duplicate' | 'new-ack-lost' {
    this.#deliveries += 1;
    if (this.#byKey.has(n.idempotencyKey)) {
      this.#duplicates += 1;
      return 'duplicate';
    }
    this.#byKey.set(n.idempotencyKey, n);
    if (this.#loseAcks > 0) {
      this.#loseAcks -= 1;
      return 'new-ack-lost';
    }
    return 'new';
  }

  clear(): void {
    this.#byKey.clear();
    this.#deliveries = 0;
    this.#duplicates = 0;
    this.#loseAcks = 0;
  }
}

const IDEMPOTENCY_KEY = /^[A-Za-z0-9._:-]{8,128}$/;

export type NotificationProblem = 'TOKEN_INVALID' | 'CONTRACT_UNKNOWN' | 'REQUEST_INVALID' | 'IDEMPOTENCY_KEY_MISSING' | 'BODY_TOO_LARGE';

export interface RecipientContext {
  readonly system: string;
  readonly inbox: NotificationInbox;
  readonly verifyToken: GatewayTokenVerifier;
  readBody(req: IncomingMessage): Promise<Buffer | undefined>;
  send(res: ServerResponse, status: number, body: string, type: string): void;
  problem(res: ServerResponse, code: NotificationProblem | 'SIMULATED_FAULT', status?: number): number;
}

/** A JSON object body whose `cpr` is valid in form, or undefined. */
export function parseCitizenBody(body: Buffer): (Record<string, unknown> & { cpr: string }) | undefined {
  let value: unknown;
  try {
    value = JSON.parse(body.toString('utf8'));
  } catch {
    return undefined;
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined;
  const { cpr } = value as Record<string, unknown>;
  return typeof cpr === 'string' && isValidCpr(cpr) ? (value as Record<string, unknown> & { cpr: string }) : undefined;
}

function parseNotification(body: Buffer): { cpr: string; event: Record<string, unknown> } | undefined {
  const parsed = parseCitizenBody(body);
  if (!parsed) return undefined;
  const { cpr, event } = parsed;
  if (event === null || typeof event !== 'object' || Array.isArray(event)) return undefined;
  return { cpr, event: event as Record<string, unknown> };
}

/**
 * Handles one notification delivery once the caller is known to be the gateway (mutual TLS,
 * checked by the server) and no fault has answered it. Returns the status sent.
 */
export async function receiveNotification(
  ctx: RecipientContext,
  req: IncomingMessage,
  res: ServerResponse,
  contractId: string,
): Promise<number> {
  if (!(SIMULATED_RECEIVES[ctx.system] ?? []).includes(contractId)) return ctx.problem(res, 'CONTRACT_UNKNOWN');
  const body = await ctx.readBody(req);
  if (body === undefined) return ctx.problem(res, 'BODY_TOO_LARGE');
  const token = await ctx.verifyToken(req.headers.authorization, body, `/snitflade/v1/notifications/${contractId}`);
  if (token === undefined) return ctx.problem(res, 'TOKEN_INVALID');
  const key = req.headers['idempotency-key'];
  if (typeof key !== 'string' || !IDEMPOTENCY_KEY.test(key)) return ctx.problem(res, 'IDEMPOTENCY_KEY_MISSING', 400);
  const parsed = parseNotification(body);
  if (parsed === undefined) return ctx.problem(res, 'REQUEST_INVALID');
  const outcome = ctx.inbox.accept({
    idempotencyKey: key,
    contract: contractId,
    auditId: token.auditId,
    policy: token.policy,
    purpose: token.purpose,
    cpr: parsed.cpr,
    event: parsed.event,
    receivedAt: new Date().toISOString(),
  });
  if (outcome === 'new-ack-lost') return ctx.problem(res, 'SIMULATED_FAULT', 503);
  const status = outcome === 'duplicate' ? 200 : 202;
  ctx.send(res, status, JSON.stringify({ status: outcome === 'duplicate' ? 'duplicate' : 'received' }), 'application/json');
  return status;
}
