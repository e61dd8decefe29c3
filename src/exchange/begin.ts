import { ReplayGuard } from '../auth/replay-guard.js';
import { verifyRequestToken, type RequestToken } from '../auth/token.js';
import type { ReplayClaim } from '../store/types.js';
import { IdempotencyKeyTakenError, type QueuedNotification } from '../outbox/types.js';
import { isGatewayError } from '../errors.js';
import { auditEntry, type ExchangeFacts } from '../audit/entry.js';
import type { AuditEntry } from '../audit/types.js';
import { writeAudit, writeAudits } from '../audit/write.js';
import type { ExchangeDeps, ExchangeRequest } from './deps.js';
import type { Rules } from '../rules/types.js';
import { newAuditId } from '../audit/id.js';
import { cprNamedIn } from './contract-check.js';

export type MutableFacts = { -readonly [K in keyof ExchangeFacts]: ExchangeFacts[K] };

export const elapsedMs = (since: number): number => Math.round((performance.now() - since) * 1000) / 1000;

export interface Exchange {
  /** The rules in force for this whole request. */
  readonly rules: Rules;
  readonly at: Date;
  /** What is known so far; every audit record of the exchange is built from it. */
  readonly facts: MutableFacts;
  /** Audits a refusal (unless the trail itself failed) and rethrows it with its audit id. */
  readonly refuse: (err: unknown) => Promise<never>;
  /** Step 2, token: verifies the caller's token and records who asks, why and for which case. */
  verifyToken(): Promise<RequestToken>;
  /**
   * The token's replay claim, once: for the exchange's first audit record when deps.replay is a
   * ReplayGuard (the jti is then only reserved in this process), otherwise undefined. Required
   * for a decision (a replayed token's decision must not be written), not for a refusal.
   */
  takeClaim(required: boolean): ReplayClaim | undefined;
  /**
   * Steps 5, audit the decision: writes the decision records with the token's required replay
   * claim (and a notification's outbox rows, in the same commit). A token used before is refused
   * (audited as a refusal) with TOKEN_REPLAYED. When nothing was written because the
   * notification's Idempotency-Key is taken (IdempotencyKeyTakenError) or the outbox failed
   * (OUTBOX_UNAVAILABLE), the claim is kept for the exchange's next record.
   */
  recordDecision(entries: readonly AuditEntry[], notification?: QueuedNotification): Promise<void>;
}

/** Step 1 is done by the HTTP shell (the client is identified); this opens the exchange. */
export function beginExchange(deps: ExchangeDeps, req: ExchangeRequest): Exchange {
  const rules = deps.rules();
  const facts: MutableFacts = {
    auditId: newAuditId(),
    requestId: req.requestId,
    caller: { system: req.client.id, administration: req.client.administration },
    policySet: rules.policies.digest,
  };
  let claim: Omit<ReplayClaim, 'required'> | undefined;
  const takeClaim = (required: boolean): ReplayClaim | undefined => {
    const taken = claim;
    claim = undefined;
    return taken === undefined ? undefined : { ...taken, required };
  };
  const refuse = async (err: unknown): Promise<never> => {
    const code = isGatewayError(err) ? err.code : 'INTERNAL';
    if (code !== 'AUDIT_UNAVAILABLE') {
      const status = isGatewayError(err) ? err.status : 500;
      // Refused before the contract check passed, the record still names what the request did:
      // the contract when the path named a known one, and the citizen (as pseudonym) when the
      // body held a well-formed CPR number (see cprNamedIn, also on planted records), so that
      // a DPO's search for the contract or the citizen finds the refusal.
      const named = facts.contract === undefined ? rules.contracts.get(req.contractId) : undefined;
      const cpr = facts.subject === undefined ? cprNamedIn(req.body) : undefined;
      const refused = {
        ...facts,
        ...(named !== undefined ? { contract: named.id } : {}),
        ...(cpr !== undefined ? { subject: deps.pseudonyms.pseudonym(cpr) } : {}),
      };
      await writeAudit(
        deps.trail,
        auditEntry('refusal', { ...refused, reasons: [code], status, latencyMs: elapsedMs(req.receivedAt) }),
        deps.observe,
        { claim: takeClaim(false) },
      );
      if (isGatewayError(err)) err.auditId = facts.auditId;
    }
    throw err;
  };
  return {
    rules,
    at: new Date(),
    facts,
    refuse,
    async verifyToken() {
      const token = await verifyRequestToken({
        authorization: req.authorization,
        client: req.client,
        method: req.method,
        path: req.path,
        body: req.body,
        audience: deps.tokens.audience,
        maxLifetimeSeconds: deps.tokens.maxLifetimeSeconds,
        clockToleranceSeconds: deps.tokens.clockToleranceSeconds,
        replay: deps.replay,
      });
      if (deps.replay instanceof ReplayGuard && token.replayKey !== undefined)
        claim = { key: token.replayKey, expiresAt: token.expiresAt.getTime() };
      facts.tokenDigest = token.digest;
      facts.caseworker = token.caseworker;
      facts.caseRef = token.caseRef;
      if (rules.policies.purposes.has(token.purpose)) facts.purpose = token.purpose;
      return token;
    },
    takeClaim,
    async recordDecision(entries, notification) {
      const taken = claim;
      try {
        await writeAudits(deps.trail, entries, deps.observe, { claim: takeClaim(true), notification });
      } catch (err) {
        if (err instanceof IdempotencyKeyTakenError || (isGatewayError(err) && err.code === 'OUTBOX_UNAVAILABLE')) claim = taken;
        if (isGatewayError(err) && err.code === 'TOKEN_REPLAYED') return refuse(err);
        throw err;
      }
    },
  };
}
