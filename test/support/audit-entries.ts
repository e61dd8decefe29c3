import { randomBytes, randomUUID } from 'node:crypto';
import { Pseudonymizer } from '../../src/audit/pseudonym.js';
import type { AuditEntry } from '../../src/audit/types.js';

/** Pseudonyms under one random key 'k1', a new key for each test file (jest loads modules per file). */
export const testPseudonyms = new Pseudonymizer({ keys: [{ id: 'k1', secret: randomBytes(32) }], current: 'k1' });

/** 32 random bytes, base64url: a token or response digest, or the body of a made-up pseudonym. */
export const randomDigest = (): string => randomBytes(32).toString('base64url');

/** A UUIDv7 (RFC 9562), the layout of record ids and audit ids. */
export const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/**
 * An audit entry: by default a permitted decision of the social case system about one citizen's
 * employment status (policy version 1, one field requested and released, no token, upstream or
 * response), with a fresh auditId and requestId. `over` replaces whole members.
 */
export function auditEntry(over: Partial<AuditEntry> = {}): AuditEntry {
  return {
    kind: 'decision',
    // Random ids as the gateway makes them (UUIDs): a random hex run glued to letters may read as a CPR number.
    auditId: `aud-${randomUUID()}`,
    requestId: `req-${randomUUID()}`,
    contract: 'employment.citizen-status.v1',
    caller: { system: 'sof-case-system', administration: 'SOF' },
    caseworker: 'cw-1',
    caseRef: 'SAG-1',
    purpose: 'plan-coordination',
    subject: testPseudonyms.pseudonym('0101909901'),
    policy: { id: 'sof-reads-employment-status', version: 1 },
    policySet: 'a'.repeat(64),
    legalBasis: 'Art. 6(1)(e)',
    decision: 'permit',
    reasons: [],
    fields: { requested: ['targetGroup'], released: ['targetGroup'], withheld: [], dropped: [] },
    consent: null,
    tokenDigest: null,
    upstream: null,
    responseDigest: null,
    status: null,
    latencyMs: null,
    ...over,
  };
}

/**
 * Overrides for auditEntry giving the entries of the store and verification suites: caller
 * 'sof-case', case SAG-2024-17, purpose coordination-of-plans, policy version 2, a GDPR/LAS
 * legal basis, two fields requested and none released. Those suites add a random tokenDigest
 * (randomDigest()) per entry.
 */
export const CASE_V2_ENTRY: Partial<AuditEntry> = {
  caller: { system: 'sof-case', administration: 'SOF' },
  caseRef: 'SAG-2024-17',
  purpose: 'coordination-of-plans',
  policy: { id: 'sof-reads-employment-status', version: 2 },
  legalBasis: 'GDPR 6(1)(e); LAS § 11a',
  fields: { requested: ['targetGroup', 'benefit'], released: [], withheld: [], dropped: [] },
};
