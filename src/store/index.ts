import path from 'node:path';
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

/** The store configuration (GatewayConfig['store']): the embedded SQLite file, or a PostgreSQL URL. */
export type ConfiguredStore =
  | { readonly kind: 'sqlite'; readonly file: string; readonly busyTimeoutMs?: number | undefined }
  | { readonly kind: 'postgres'; readonly url: string };

/** Opens the store the configuration names: what the gateway and the operator's tools that write to it open. */
export function openConfiguredStore(store: ConfiguredStore): Promise<Store> {
  return openStore(
    store.kind === 'sqlite'
      ? { kind: 'sqlite', file: store.file, ...(store.busyTimeoutMs !== undefined ? { busyTimeoutMs: store.busyTimeoutMs } : {}) }
      : { kind: 'postgres', url: store.url },
  );
}

/**
 * Which store this is, for a person: the SQLite file's absolute path, or PostgreSQL's user, host,
 * port and database; never the password or the URL's parameters.
 *
 * @example
 *   describeStore({ kind: 'postgres', url: 'postgres://gw:secret@db:5432/snitflade' }) // 'PostgreSQL gw@db:5432/snitflade'
 */
export function describeStore(store: ConfiguredStore): string {
  if (store.kind === 'sqlite') return `SQLite file ${path.resolve(store.file)}`;
  let url: URL;
  try {
    url = new URL(store.url);
  } catch {
    return 'PostgreSQL (connection string not shown)';
  }
  const user = url.username ? `${decodeURIComponent(url.username)}@` : '';
  const host = url.host || url.searchParams.get('host') || 'localhost';
  const database = decodeURIComponent(url.pathname.replace(/^\//, '')) || '(default database)';
  return `PostgreSQL ${user}${host}/${database}`;
}

export { Batcher } from './batch.js';
export { ChainConflictError, InvalidCursorError, MAX_SEARCH_LIMIT } from './types.js';
export { StoreThreadError } from './sqlite-worker.js';
export type { AuditQuery, AuditStore, ReplayCache, Store, StoreStats, StoredAuditRow } from './types.js';
