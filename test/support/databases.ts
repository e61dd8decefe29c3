import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { openStore } from '../../src/store/index.js';
import type { PostgresStoreOptions } from '../../src/store/postgres.js';
import type { SqliteStoreOptions } from '../../src/store/sqlite.js';
import type { Store } from '../../src/store/types.js';

/** The PostgreSQL server the suite uses (a test fails, never skips, when it is unreachable). */
export const ADMIN_URL = process.env.SNITFLADE_TEST_PG ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/** Store options beyond where the database is; each kind reads the ones it knows. */
export type OpenOptions = Omit<SqliteStoreOptions, 'file'> & Omit<PostgresStoreOptions, 'url' | 'onError'>;

/** A fresh, empty database of one kind, that several stores (gateway instances) can open. */
export interface TestDatabase {
  readonly kind: 'sqlite' | 'postgres';
  /** What a gateway's config.store takes. */
  readonly storeConfig: { kind: 'sqlite'; file: string } | { kind: 'postgres'; url: string };
  /** A new store on the database (PostgreSQL: a pool of 4 unless told otherwise); cleanup closes it. */
  open(options?: OpenOptions): Promise<Store>;
  /** Raw SQL with ? placeholders, on a connection of its own: the tamperer's tool. */
  exec(sql: string, params?: unknown[]): Promise<void>;
  /** Raw SQL with ? placeholders returning rows, on the same connection as exec. */
  query<T>(sql: string, params?: unknown[]): Promise<T[]>;
  /**
   * Makes every INSERT into `table` fail (true), as a full disk or a broken table would, or work
   * again (false): a fault injected into one write of whatever transaction makes it.
   */
  failInserts(table: string, fail: boolean): Promise<void>;
  cleanup(): Promise<void>;
}

/** A database in a SQLite file of its own, in a new temporary folder. */
export async function sqliteDatabase(name: string): Promise<TestDatabase> {
  const dir = mkdtempSync(path.join(tmpdir(), `snitflade-${name}-`));
  const file = path.join(dir, 'snitflade.db');
  const opened: Store[] = [];
  let raw: Database.Database | undefined;
  const connection = (): Database.Database => (raw ??= new Database(file, { timeout: 5000 }));
  return {
    kind: 'sqlite',
    storeConfig: { kind: 'sqlite', file },
    async open(options = {}) {
      const s = await openStore({ ...options, kind: 'sqlite', file });
      opened.push(s);
      return s;
    },
    async exec(sql, params = []) {
      connection()
        .prepare(sql)
        .run(...params.map((p) => (p === undefined ? null : p)));
    },
    async query<T>(sql: string, params: unknown[] = []) {
      return connection()
        .prepare(sql)
        .all(...params) as T[];
    },
    async failInserts(table, fail) {
      connection().exec(
        fail
          ? `CREATE TRIGGER test_fail_${table} BEFORE INSERT ON ${table} BEGIN SELECT RAISE(ABORT, 'injected fault: ${table} cannot be written'); END`
          : `DROP TRIGGER IF EXISTS test_fail_${table}`,
      );
    },
    async cleanup() {
      for (const s of opened) await s.close().catch(() => undefined);
      raw?.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** ? placeholders as PostgreSQL's $1, $2, … */
const toDollars = (sql: string): string => {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
};

/** A database of its own on the PostgreSQL server at ADMIN_URL, dropped by cleanup. */
export async function postgresDatabase(name: string): Promise<TestDatabase> {
  const db = `snitflade_${name.replace(/[^a-z0-9]/g, '_')}_${randomBytes(5).toString('hex')}`;
  const admin = new pg.Client({ connectionString: ADMIN_URL, connectionTimeoutMillis: 5000 });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${db}`);
  await admin.end();
  const url = new URL(ADMIN_URL);
  url.pathname = `/${db}`;
  const opened: Store[] = [];
  let raw: Promise<pg.Client> | undefined;
  const connection = (): Promise<pg.Client> =>
    (raw ??= (async () => {
      const client = new pg.Client({ connectionString: url.toString() });
      await client.connect();
      return client;
    })());
  return {
    kind: 'postgres',
    storeConfig: { kind: 'postgres', url: url.toString() },
    async open(options = {}) {
      const s = await openStore({ poolSize: 4, ...options, kind: 'postgres', url: url.toString() });
      opened.push(s);
      return s;
    },
    async exec(sql, params = []) {
      await (await connection()).query(toDollars(sql), params);
    },
    async query<T>(sql: string, params: unknown[] = []) {
      return (await (await connection()).query(toDollars(sql), params)).rows as T[];
    },
    async failInserts(table, fail) {
      await (
        await connection()
      ).query(
        fail
          ? "CREATE OR REPLACE FUNCTION test_fail_insert() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'injected fault: % cannot be written', TG_TABLE_NAME; END $$; " +
              `CREATE TRIGGER test_fail_${table} BEFORE INSERT ON ${table} FOR EACH ROW EXECUTE FUNCTION test_fail_insert()`
          : `DROP TRIGGER IF EXISTS test_fail_${table} ON ${table}`,
      );
    },
    async cleanup() {
      for (const s of opened) await s.close().catch(() => undefined);
      await (await raw?.catch(() => undefined))?.end();
      const a = new pg.Client({ connectionString: ADMIN_URL });
      await a.connect();
      await a.query(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
      await a.end();
    },
  };
}

/** Both kinds, for describe.each. */
export const DATABASES: readonly (readonly [string, (name: string) => Promise<TestDatabase>])[] = [
  ['SQLite', sqliteDatabase],
  ['PostgreSQL', postgresDatabase],
];

/**
 * Every text the database holds, for a scan for content that should be gone: a SQLite database's
 * files as bytes (WAL written back first, so free pages and the log are read too), a PostgreSQL
 * database's rows of the tables named (or matching a LIKE pattern) as text.
 *
 * @example
 * expect(await databaseText(db, ['audit_record'])).not.toContain('sof-cw-0042');
 */
export async function databaseText(db: TestDatabase, tables: readonly string[]): Promise<string> {
  if (db.storeConfig.kind === 'sqlite') {
    await db.query('PRAGMA wal_checkpoint(TRUNCATE)');
    const dir = path.dirname(db.storeConfig.file);
    return readdirSync(dir)
      .map((f) => readFileSync(path.join(dir, f)).toString('latin1'))
      .join('\n');
  }
  const names: string[] = [];
  for (const t of tables) {
    if (!t.includes('%')) names.push(t);
    else
      names.push(
        ...(
          await db.query<{ t: string }>("SELECT tablename AS t FROM pg_tables WHERE schemaname = 'public' AND tablename LIKE ?", [t])
        ).map((r) => r.t),
      );
  }
  const parts: string[] = [];
  for (const t of names) parts.push(...(await db.query<{ row: string }>(`SELECT ${t}::text AS row FROM ${t}`)).map((r) => r.row));
  return parts.join('\n');
}
