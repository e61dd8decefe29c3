import type { Store } from '../store/types.js';
import type { ConsentSource } from './types.js';

/**
 * The gateway's own consent registry as a consent source. Until consents can be recorded
 * (POST /v1/consents), the registry is empty: every policy that requires consent denies with
 * CONSENT_MISSING, which is the default-deny answer.
 */
export function ledgerConsentSource(_store: Store): ConsentSource {
  return {
    async check() {
      return { status: 'missing' };
    },
  };
}
