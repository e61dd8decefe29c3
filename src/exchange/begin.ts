import { randomUUID } from 'node:crypto';
import { verifyRequestToken, type RequestToken } from '../auth/token.js';
import { isGatewayError } from '../errors.js';
import { auditEntry, writeAudit, type ExchangeFacts } from './audit-step.js';
import type { ExchangeDeps, ExchangeRequest, Rules } from './deps.js';

export type MutableFacts = { -readonly [K in keyof ExchangeFacts]: ExchangeFacts[K] };

export const elapsedMs = (since: number): number => Math.round((performance.now() - since) * 1000) / 1000;

export interface Exchange {
  /** The rules in force for this whole request. */
  readonly rules: Rules;
  readonly at: Date;
  /** What is known so far; every audit record of the exchange is built from it. */
  readonly facts: MutableFacts;
  /** Audits a refusal (unless the trail itself failed) and rethrows it with its audit id. */
  refuse(err: unknown): Promise<never>;
  /** Step 2, token: verifies the caller's token and records who asks, why and for which case. */
  verifyToken(): Promise<RequestToken>;
}

/** Step 1 is done by the HTTP shell (the client is identified); this opens the exchange. */
export function beginExchange(deps: ExchangeDeps, req: ExchangeRequest): Exchange {
  const rules = deps.rules();
  const facts: MutableFacts = {
    auditId: randomUUID(),
    requestId: req.requestId,
    caller: { system: req.client.id, administration: req.client.administration },
    policySet: rules.policies.digest,
  };
  return {
    rules,
    at: new Date(),
    facts,
    async refuse(err) {
      const code = isGatewayError(err) ? err.code : 'INTERNAL';
      if (code !== 'AUDIT_UNAVAILABLE') {
        const status = isGatewayError(err) ? err.status : 500;
        await writeAudit(deps.trail, auditEntry('refusal', { ...facts, reasons: [code], status, latencyMs: elapsedMs(req.receivedAt) }), deps.observe);
        if (isGatewayError(err)) err.auditId = facts.auditId;
      }
      throw err;
    },
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
      facts.tokenDigest = token.digest;
      facts.caseworker = token.caseworker;
      facts.caseRef = token.caseRef;
      if (rules.policies.purposes.has(token.purpose)) facts.purpose = token.purpose;
      return token;
    },
  };
}
