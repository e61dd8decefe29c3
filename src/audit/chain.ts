import { canonicalJson, sha256hex } from '../lib/digest.js';
import type { AuditRecord } from './types.js';

/** The prevHash of a chain's first record. */
export const GENESIS = '0'.repeat(64);

/**
 * The hash that links a record into its chain: hex SHA-256 over the previous record's hash, a
 * newline, and the canonical JSON of the record without its own `hash` (its prevHash included).
 * Anyone holding the records can recompute it; see verifyChain.
 *
 * @example
 * const hash = recordHash(GENESIS, { ...firstRecordWithoutHash });
 */
export function recordHash(prevHash: string, record: Omit<AuditRecord, 'hash'> | AuditRecord): string {
  const { hash: _ignored, ...rest } = record as AuditRecord;
  return sha256hex(`${prevHash}\n${canonicalJson(rest)}`);
}
