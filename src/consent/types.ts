import type { DataCategory } from '../contracts/types.js';
import type { ConsentEvidence } from '../policy/types.js';

/** What a consent must cover for one release. Holds the CPR number: never log or store it. */
export interface ConsentQuery {
  readonly cpr: string;
  /** The receiving administration. */
  readonly recipient: string;
  readonly purpose: string;
  readonly contract: string;
  /** Categories of the fields that would be released. */
  readonly categories: readonly DataCategory[];
  readonly fields: readonly string[];
  readonly at: Date;
}

/**
 * Where consents are looked up. The embedded default is the gateway's own registry; an adapter
 * to a national or municipal consent service implements the same interface. A look-up that
 * fails or times out must resolve { status: 'unavailable' } or throw: both deny (fail closed).
 * No implementation may cache an answer beyond one request: a withdrawal takes effect at once.
 */
export interface ConsentSource {
  check(query: ConsentQuery): Promise<ConsentEvidence>;
}
