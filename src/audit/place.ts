import { canonicalJson, sha256hex } from '../lib/digest.js';
import type { AuditEntry, AuditRecord } from './types.js';

/**
 * An entry's top-level members as canonical JSON text, sorted by key as canonicalJson sorts
 * them: serialised once, when the entry is submitted, and joined with the chain members when
 * the record is placed. Throws TypeError as canonicalJson does.
 */
export type CanonicalMembers = readonly (readonly [key: string, text: string])[];

/** The members placing adds to an entry; an entry's own members of these names are replaced. */
const PLACED_KEYS = new Set(['id', 'chain', 'seq', 'time', 'prevHash', 'hash']);

export function entryMembers(entry: AuditEntry): CanonicalMembers {
  const members: [string, string][] = [];
  for (const key of Object.keys(entry).sort()) {
    const value = (entry as unknown as Record<string, unknown>)[key];
    if (value === undefined || PLACED_KEYS.has(key)) continue;
    members.push([key, canonicalJson(value)]);
  }
  return members;
}

const byKey = (a: readonly [string, string], b: readonly [string, string]): number => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0);
/** The canonical JSON object text of sorted members. */
export const membersText = (members: CanonicalMembers): string => `{${members.map(([k, t]) => `${JSON.stringify(k)}:${t}`).join(',')}}`;

export interface Placed {
  /** The record, frozen. */
  readonly record: AuditRecord;
  /** canonicalJson(record): what the store writes. */
  readonly text: string;
}

/**
 * Places an entry on its chain: the same record, hash and canonical text as
 * `{ ...entry, id, chain, seq, time, prevHash }` hashed by recordHash and serialised by
 * canonicalJson, but with every value serialised only once (the entry's members were serialised
 * at submission). test/audit-place.test.ts holds it to that equivalence.
 */
export function placeRecord(
  snapshot: AuditEntry,
  members: CanonicalMembers,
  chain: { id: string; chain: string; seq: number; time: string; prevHash: string },
): Placed {
  const all: (readonly [string, string])[] = [
    ...members,
    ['chain', JSON.stringify(chain.chain)],
    ['id', JSON.stringify(chain.id)],
    ['prevHash', JSON.stringify(chain.prevHash)],
    ['seq', canonicalJson(chain.seq)],
    ['time', JSON.stringify(chain.time)],
  ];
  all.sort(byKey);
  // Serialised once; the hash member goes in at its sorted place for the stored text.
  const parts = all.map(([k, t]) => `${JSON.stringify(k)}:${t}`);
  const hash = sha256hex(`${chain.prevHash}\n{${parts.join(',')}}`);
  const at = all.findIndex(([k]) => k > 'hash');
  parts.splice(at === -1 ? parts.length : at, 0, `"hash":${JSON.stringify(hash)}`);
  const record = Object.freeze({
    ...snapshot,
    id: chain.id,
    chain: chain.chain,
    seq: chain.seq,
    time: chain.time,
    prevHash: chain.prevHash,
    hash,
  }) as AuditRecord;
  return { record, text: `{${parts.join(',')}}` };
}
