import type { Pseudonymizer } from '../audit/pseudonym.js';
import { CodedError } from '../errors.js';
import type { ConsentStore } from '../store/consents.js';
import { consentStatus } from './status.js';
import type { ConsentSource } from './types.js';

export interface LedgerConsentSourceOptions {
  /** Longest a look-up may take; a slower one is a failure and denies (fail closed). Default 2000. */
  readonly timeoutMs?: number;
}

/** A consent look-up that did not answer in time. */
export class ConsentLookupTimeoutError extends CodedError {
  readonly code = 'ERR_CONSENT_LOOKUP_TIMEOUT';
  constructor(ms: number) {
    super(`the consent look-up did not answer within ${ms} ms`);
  }
}

/**
 * The gateway's own consent registry as a consent source (the embedded default). Every check
 * reads the store: there is no cache, so a withdrawal recorded through any gateway instance
 * stops the very next release on every instance sharing the store. The citizen is looked up by
 * pseudonym under every pseudonym key (consents recorded before a key rotation still count);
 * the CPR number itself is never stored.
 *
 * A look-up that fails or takes longer than `timeoutMs` rejects; the pipeline turns that into
 * a deny with CONSENT_SOURCE_UNAVAILABLE (fail closed).
 *
 * @example
 *   const consent = ledgerConsentSource(store.consents, pseudonyms, { timeoutMs: 2000 });
 *   await consent.check({ cpr, recipient: 'SOF', purpose: 'summons-copy', contract, categories, fields, at: new Date() });
 */
export function ledgerConsentSource(
  store: { readonly consents: ConsentStore } | ConsentStore,
  pseudonyms: Pseudonymizer,
  options: LedgerConsentSourceOptions = {},
): ConsentSource {
  const consents: ConsentStore = 'consents' in store ? store.consents : store;
  const timeoutMs = options.timeoutMs ?? 2000;
  if (!Number.isInteger(timeoutMs) || timeoutMs < 1) throw new TypeError('ledgerConsentSource: timeoutMs must be a positive integer');
  return {
    async check(query) {
      const subjects = pseudonyms.all(query.cpr);
      const stored = await withTimeout(consents.bySubject(subjects), timeoutMs);
      return consentStatus(stored, query);
    },
  };
}

/** The promise's value, or a ConsentLookupTimeoutError after `ms`. */
export function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new ConsentLookupTimeoutError(ms)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
