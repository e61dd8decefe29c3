import { openPostgresStore, type PostgresStoreOptions } from './postgres.js';
import { openSqliteStore, type SqliteStoreOptions } from './sqlite.js';
import type { Store } from './types.js';

export type StoreOptions = ({ readonly kind: 'sqlite' } & SqliteStoreOptions) | ({ readonly kind: 'postgres' } & PostgresStoreOptions);

/**
 * Opens the configured store, creating or upgrading its schema. SQLite does its database work
 * in a worker thread of its own unless `thread: false` (see SqliteStoreOptions).
 *
 * @example
 * const store = await openStore({ kind: 'sqlite', file: 'data/snitflade.db' });
 */
export function openStore(options: StoreOptions): Promise<Store> {
  switch (options.kind) {
    case 'sqlite':
      return openSqliteStore(options);
    case 'postgres':
      return openPostgresStore(options);
    default:
      return Promise.reject(new TypeError(`openStore: unknown store kind ${String((options as { kind: unknown }).kind)}`));
  }
}

export { Batcher } from './batch.js';
export { ChainConflictError, InvalidCursorError, MAX_SEARCH_LIMIT } from './types.js';
export { StoreThreadError } from './sqlite-worker.js';
export type { AuditQuery, AuditStore, ReplayCache, Store, StoreStats, StoredAuditRow } from './types.js';
