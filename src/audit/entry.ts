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

/** A notification's entry about one recipient system (the caller is the sender). */
export function withRecipient(entry: AuditEntry, recipient: NonNullable<AuditEntry['recipient']>): AuditEntry {
  return { ...entry, recipient: { system: recipient.system, administration: recipient.administration } };
}
