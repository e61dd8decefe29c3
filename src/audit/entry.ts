import type { Client } from '../auth/clients.js';
import type { RequestToken } from '../auth/token.js';
import type { Policy } from '../policy/types.js';
import type { AuditEntry } from './types.js';

/** Everything known about an exchange when one of its records is written. */
export type ExchangeFacts = Pick<AuditEntry, 'auditId' | 'requestId' | 'caller'> &
  Partial<Omit<AuditEntry, 'auditId' | 'requestId' | 'caller' | 'kind' | 'fields'>> & {
    readonly fields?: Partial<AuditEntry['fields']>;
  };

/**
 * An audit entry of this kind from what is known: every field the facts leave out is null (or
 * empty). The one way an entry is built; write it with writeAudit.
 *
 * @example
 *   auditEntry('refusal', { auditId, requestId, caller, reasons: [err.code], status: err.status })
 */
export function auditEntry(kind: AuditEntry['kind'], f: ExchangeFacts): AuditEntry {
  return {
    kind,
    auditId: f.auditId,
    requestId: f.requestId,
    contract: f.contract ?? null,
    caller: f.caller,
    caseworker: f.caseworker ?? null,
    caseRef: f.caseRef ?? null,
    purpose: f.purpose ?? null,
    subject: f.subject ?? null,
    policy: f.policy ?? null,
    policySet: f.policySet ?? null,
    legalBasis: f.legalBasis ?? null,
    decision: f.decision ?? null,
    reasons: f.reasons ?? [],
    fields: {
      requested: f.fields?.requested ?? [],
      released: f.fields?.released ?? [],
      withheld: f.fields?.withheld ?? [],
      dropped: f.fields?.dropped ?? [],
    },
    consent: f.consent ?? null,
    tokenDigest: f.tokenDigest ?? null,
    upstream: f.upstream ?? null,
    responseDigest: f.responseDigest ?? null,
    status: f.status ?? null,
    latencyMs: f.latencyMs ?? null,
  };
}

/**
 * The policy as a record names it: id, version and, when it is in force with approvals, their
 * digest (left out otherwise, so a record without approvals hashes as records always have).
 */
export function policyRef(policy: Pick<Policy, 'id' | 'version' | 'approvals'>): NonNullable<AuditEntry['policy']> {
  return policy.approvals === undefined
    ? { id: policy.id, version: policy.version }
    : { id: policy.id, version: policy.version, approvals: policy.approvals.digest };
}

/** A notification's entry about one recipient system (the caller is the sender). */
export function withRecipient(entry: AuditEntry, recipient: NonNullable<AuditEntry['recipient']>): AuditEntry {
  return { ...entry, recipient: { system: recipient.system, administration: recipient.administration } };
}

/** A registered system calling with a verified request token: who stands behind a registry operation. */
export interface TokenCaller {
  readonly requestId: string;
  readonly client: Client;
  readonly token: RequestToken;
}

/**
 * What every record of a caller's registry operation (a consent, a relation) holds: the calling
 * system, its caseworker, case and purpose from the token (a purpose the rules do not know is
 * left out), the token's digest as evidence, and the policy set in force.
 */
export function callerFacts(
  caller: TokenCaller,
  policies: { readonly purposes: { has(id: string): boolean }; readonly digest: string },
  auditId: string,
): ExchangeFacts {
  return {
    auditId,
    requestId: caller.requestId,
    caller: { system: caller.client.id, administration: caller.client.administration },
    caseworker: caller.token.caseworker,
    caseRef: caller.token.caseRef,
    purpose: policies.purposes.has(caller.token.purpose) ? caller.token.purpose : null,
    tokenDigest: caller.token.digest,
    policySet: policies.digest,
  };
}
