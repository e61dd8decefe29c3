import { hash } from 'node:crypto';
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

/**
 * recordHash, computed from a record's stored text instead of the record: SHA-256 over
 * `prevHash`, a newline, and `text` without its characters [cutStart, cutEnd). When `text` is
 * canonical JSON (canonicalMembers in canonical-text.ts) and the cut is its top-level `"hash"`
 * member with one comma beside it, what is left is canonicalJson of the record without its
 * hash, so this equals recordHash(prevHash, JSON.parse(text)); the verifier relies on that.
 */
export function storedRecordHash(prevHash: string, text: string, cutStart: number, cutEnd: number): string {
  return hash('sha256', `${prevHash}\n${text.slice(0, cutStart)}${text.slice(cutEnd)}`, 'hex');
}
