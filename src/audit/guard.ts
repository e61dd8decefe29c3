import { CodedError } from '../errors.js';
import { mayHoldCpr } from '../lib/cpr.js';
import { PSEUDONYM } from './pseudonym.js';
import type { AuditEntry } from './types.js';

/**
 * An audit entry that would put personal data in the trail (invariant 5): a subject that is
 * not a pseudonym, or a CPR number in a text field. Nothing is written. The message names the
 * field, never the value.
 */
export class PersonalDataInAuditError extends CodedError {
  readonly code = 'ERR_AUDIT_PERSONAL_DATA';
  readonly field: string;
  constructor(field: string, message: string) {
    super(message);
    this.field = field;
  }
}

/** Digests and hashes: not free text, never checked (hex and base64url may hold digit runs). */
const DIGEST_FIELDS = new Set(['tokenDigest', 'responseDigest', 'consent', 'policySet', 'hash', 'prevHash']);

/** Throws PersonalDataInAuditError unless the entry holds only pseudonyms and no CPR number. */
export function assertNoPersonalData(entry: AuditEntry): void {
  if (entry.subject !== null && (typeof entry.subject !== 'string' || !PSEUDONYM.test(entry.subject))) {
    throw new PersonalDataInAuditError(
      'subject',
      'audit entry subject is not a pseudonym ("<keyId>:<base64url>"); pseudonymise the CPR number first',
    );
  }
  const visit = (value: unknown, field: string): void => {
    if (typeof value === 'string') {
      if (mayHoldCpr(value)) throw new PersonalDataInAuditError(field, `audit entry field ${field} holds what looks like a CPR number`);
    } else if (Array.isArray(value)) {
      value.forEach((v) => visit(v, field));
    } else if (value !== null && typeof value === 'object') {
      for (const [k, v] of Object.entries(value)) if (!DIGEST_FIELDS.has(k)) visit(v, `${field}.${k}`);
    }
  };
  for (const [k, v] of Object.entries(entry)) if (k !== 'subject' && !DIGEST_FIELDS.has(k)) visit(v, k);
}
