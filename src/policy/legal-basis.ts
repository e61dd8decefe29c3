import type { Policy } from './types.js';

/**
 * A policy's legal basis as audit records, disclosures and deliveries cite it: the GDPR article,
 * the Art. 9 basis if any, and the national provision, separated by "; ".
 */
export function legalBasisText(policy: Policy): string {
  const b = policy.legalBasis;
  return [b.gdpr, b.gdprSpecial, b.national].filter((x) => x !== undefined && x !== '').join('; ');
}
