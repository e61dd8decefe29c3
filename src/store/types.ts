import type { AuditKind, AuditRecord } from '../audit/types.js';
import type { ConsentStore } from './consents.js';
import type { RelationStore, RelationWrite } from '../relations/types.js';
import type { OutboxStore, QueuedNotification } from '../outbox/types.js';
import type { DpoStore } from './dpo-types.js';
import type { PolicyHistoryStore } from './policy-history.js';
import { CodedError } from '../errors.js';
import { ChainError, type AuditCheckpointStore, type ChainFence } from './audit-checkpoints.js';

/**
 * Stores are interfaces with a SQLite and a PostgreSQL implementation that pass one shared test
 * suite. No SQL outside src/store/. Every write method resolves only once the write is durable.
 */

export interface AuditQuery {
  /** A pseudonym, or several (the same citizen under every pseudonym key, see Pseudonymizer.all). */
  readonly subject?: string | readonly string[];
  readonly callerSystem?: string;
  readonly administration?: string;
  readonly caseworker?: string;
  readonly contract?: string;
  readonly purpose?: string;
  /** Policy id (any version). */
  readonly policy?: string;
  /**
   * 'permit': permitted records. 'deny': every refused request, as the DPO overview counts
   * refusals: records whose decision is deny (but not a cancelled delivery or a recipient skipped
   * for need to know) and refusal records (which carry no decision).
   */
  readonly decision?: 'permit' | 'deny';
  /** One reason code the record must carry. */
  readonly reason?: string;
  readonly auditId?: string;
  readonly kind?: AuditKind;
  readonly chain?: string;
  readonly from?: string; // ISO time, inclusive
  readonly to?: string; // ISO time, exclusive
  /** Opaque cursor from a previous page. */
  readonly after?: string;
  /** Page size, 1..500 (larger values are capped at MAX_SEARCH_LIMIT). */
  readonly limit: number;
}

/** Search pages hold at most this many records, whatever the query asks for. */
export const MAX_SEARCH_LIMIT = 500;

/**
 * One stored row as the verifier sees it: the position it is stored at, the canonical record
 * (undefined if the stored JSON cannot be read), and the names of the search columns that do
 * not agree with the canonical record (a row edited behind the trail's back).
 */
export interface StoredAuditRow {
  readonly seq: number;
  readonly record: AuditRecord | undefined;
  readonly columnMismatch: readonly string[];
}

/**
 * Stored rows of a chain in seq order, as AuditStore.scanPage returns them, column by column
 * (element i of each array is the i-th row), so that a page is cheap to pass between threads:
 * the record's text as stored, `time` and `reasons` as toStoredRow reads them (ISO text, or null
 * where the store cannot write it so; JSON text), and the other search columns together as one
 * text per row (ENCODED_COLUMNS in rows.ts).
 */
export interface StoredAuditPage {
  readonly seq: readonly number[];
  readonly record: readonly string[];
  readonly time: readonly (string | null)[];
  readonly reasons: readonly string[];
  /** ENCODED_COLUMNS of each row as encodeColumns writes them; null for a value that encoding has no form for. */
  readonly columns: readonly (string | null)[];
}

export interface AuditStore {
  /** The last record of a chain, or undefined for an empty chain. */
  head(chain: string): Promise<AuditRecord | undefined>;
  /**
   * Appends records already placed on their chain; durable when resolved. All or nothing.
   * The records of one chain must continue its head without a gap (seq head+1, head+2 ... and
   * prevHash = head's hash), otherwise the call rejects with ChainConflictError and writes nothing.
   * `claims` are replay-cache keys claimed in the same transaction (see ReplayClaim): if a
   * required one is already in the cache, the call rejects with ReplayedClaimError and writes
   * nothing, neither records nor claims.
   * `notifications` are outbox rows (and Idempotency-Key answers) written in the same
   * transaction: if a key is taken, the call rejects with IdempotencyKeyTakenError naming the
   * notifications that lost; if the outbox cannot be written, with OutboxWriteError; either way
   * nothing is written. With a fence (the chain lease's, see ChainLease), the store checks in
   * the same transaction that it is still the chain's current one, and otherwise rejects with
   * ChainLeaseLostError and writes nothing; a store whose lease cannot be lost while its
   * process lives (SQLite) has nothing to check.
   * `relations` are relations register writes (RelationStore.save's) made in the same
   * transaction, so that a relation and its audit record are one commit: if one of them lost to
   * another write, the call rejects with RelationConflictError naming them, and writes nothing.
   */
  append(
    records: readonly AuditRecord[],
    claims?: readonly ReplayClaim[],
    notifications?: readonly QueuedNotification[],
    fence?: ChainFence,
    relations?: readonly RelationWrite[],
  ): Promise<void>;
  /** Records of a chain in seq order, from `fromSeq` (inclusive), at most `limit`. */
  range(chain: string, fromSeq: number, limit: number): Promise<AuditRecord[]>;
  /** Like range, but row by row as stored, for verification (see StoredAuditRow). */
  scan(chain: string, fromSeq: number, limit: number): Promise<StoredAuditRow[]>;
  /**
   * The rows scan reads, unparsed and column by column (see StoredAuditPage): what verifyChain
   * reads. Optional: a store without it is verified through scan, more slowly.
   */
  scanPage?(chain: string, fromSeq: number, limit: number): Promise<StoredAuditPage>;
  chains(): Promise<string[]>;
  /**
   * Records matching every given filter, newest first: ordered by (time, chain, seq)
   * descending, a total order, so that paging with `next` neither repeats nor skips a record.
   */
  search(query: AuditQuery): Promise<{ records: AuditRecord[]; next?: string }>;
}

/**
 * A replay-cache key claimed together with audit records, so that a request's token is claimed
 * by the same durable commit as the request's first record instead of a commit of its own.
 */
export interface ReplayClaim {
  readonly key: string;
  /** Unix milliseconds after which the key may be forgotten. */
  readonly expiresAt: number;
  /**
   * Required: the records must not be written if the key was already claimed (a decision about
   * a replayed token). Not required: claim it if it is free, write the records either way (a
   * refusal, which is true whatever the token's history).
   */
  readonly required: boolean;
}

export interface ReplayCache {
  /** Remembers the key until expiresAt; resolves false if it was already there (a replay). */
  claim(key: string, expiresAt: Date): Promise<boolean>;
  /** Forgets keys that expired before `now`. */
  prune(now: Date): Promise<number>;
}

/**
 * The setting that makes the store's commits durable, as read on the store's own connection:
 * PostgreSQL's synchronous_commit, SQLite's synchronous pragma. `durable` is false when a
 * commit could be acknowledged before it reached the disk.
 */
export interface StoreDurability {
  readonly setting: string;
  readonly value: string;
  readonly durable: boolean;
}

/** Counters since the store was opened (tests and /metrics). */
export interface StoreStats {
  /** Write transactions committed (audit appends, replay claims, prunes). */
  readonly commits: number;
  readonly auditRecords: number;
  readonly replayClaims: number;
}

export interface Store {
  readonly kind: 'sqlite' | 'postgres';
  readonly audit: AuditStore;
  readonly replay: ReplayCache;
  /** The consent registry (consents.ts): no CPR numbers, only pseudonyms. */
  readonly consents: ConsentStore;
  /** The relations register (src/relations/types.ts): who serves which citizen; pseudonyms only. */
  readonly relations: RelationStore;
  /** The durable outbox of notification deliveries (src/outbox/types.ts; SQL in sqlite-outbox.ts, postgres-outbox.ts). */
  readonly outbox: OutboxStore;
  /** Signed checkpoints, Merkle nodes, exports, retention and the chain lease of the audit trail (audit-checkpoints.ts). */
  readonly checkpoints: AuditCheckpointStore;
  /** Rollups, record look-up, sessions and saved searches of the DPO review pages (dpo-types.ts). */
  readonly dpo: DpoStore;
  /** The policies put in force: the highest version of each, those taken out of force, each instance's set (policy-history.ts). */
  readonly policyHistory: PolicyHistoryStore;
  /** The store's counters as of now (a fresh snapshot on every read). */
  readonly stats: StoreStats;
  /** Throws if the store cannot write right now; else the durability in force on its connection (used by src/server/readiness.ts). */
  checkWritable(): Promise<StoreDurability>;
  close(): Promise<void>;
}

/**
 * An append that does not continue its chain: another writer got there first, or the caller's
 * idea of the head is stale. Nothing was written.
 */
export class ChainConflictError extends ChainError {
  readonly code = 'ERR_AUDIT_CHAIN_CONFLICT';
}

/** A search cursor that this store did not hand out (hostile or corrupted input). */
export class InvalidCursorError extends CodedError {
  readonly code = 'ERR_AUDIT_CURSOR_INVALID';
  constructor() {
    super('the search cursor is not valid');
  }
}

/** An append whose required replay claims were already taken: nothing was written. */
export class ReplayedClaimError extends CodedError {
  readonly code = 'ERR_REPLAYED_CLAIM';
  /** The required keys that were already claimed. */
  readonly keys: readonly string[];
  constructor(keys: readonly string[]) {
    super(`audit append refused: ${keys.length} replay claim(s) already taken; nothing was written`);
    this.keys = keys;
  }
}

/**
 * The required claims that `fresh` (the keys this transaction inserted) does not cover. A key
 * required twice in one transaction is fresh for one of them at most.
 */
export function replayedClaims(claims: readonly ReplayClaim[], fresh: ReadonlySet<string>): string[] {
  const granted = new Set<string>();
  const replayed: string[] = [];
  for (const c of claims) {
    if (!c.required) continue;
    if (fresh.has(c.key) && !granted.has(c.key)) granted.add(c.key);
    else replayed.push(c.key);
  }
  return replayed;
}
