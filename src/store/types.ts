import type { AuditRecord } from '../audit/types.js';

/**
 * Stores are interfaces with a SQLite and a PostgreSQL implementation that pass one shared test
 * suite. No SQL outside src/store/. Every write method resolves only once the write is durable.
 */

export interface AuditQuery {
  readonly subject?: string;
  readonly callerSystem?: string;
  readonly caseworker?: string;
  readonly contract?: string;
  readonly purpose?: string;
  readonly policy?: string;
  readonly decision?: 'permit' | 'deny';
  readonly reason?: string;
  readonly auditId?: string;
  readonly from?: string; // ISO time, inclusive
  readonly to?: string; // ISO time, exclusive
  /** Opaque cursor from a previous page. */
  readonly after?: string;
  readonly limit: number;
}

export interface AuditStore {
  /** The last record of a chain, or undefined for an empty chain. */
  head(chain: string): Promise<AuditRecord | undefined>;
  /** Appends records already placed on their chain; durable when resolved. All or nothing. */
  append(records: readonly AuditRecord[]): Promise<void>;
  /** Records of a chain in seq order, from `fromSeq` (inclusive), at most `limit`. */
  range(chain: string, fromSeq: number, limit: number): Promise<AuditRecord[]>;
  chains(): Promise<string[]>;
  search(query: AuditQuery): Promise<{ records: AuditRecord[]; next?: string }>;
}

export interface ReplayCache {
  /** Remembers the key until expiresAt; resolves false if it was already there (a replay). */
  claim(key: string, expiresAt: Date): Promise<boolean>;
  /** Forgets keys that expired before `now`. */
  prune(now: Date): Promise<number>;
}

export interface Store {
  readonly kind: 'sqlite' | 'postgres';
  readonly audit: AuditStore;
  readonly replay: ReplayCache;
  /** Throws if the store cannot write right now (used by /readyz). */
  checkWritable(): Promise<void>;
  close(): Promise<void>;
}
