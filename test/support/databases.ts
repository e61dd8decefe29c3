import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { openStore } from '../../src/store/index.js';
import type { Store } from '../../src/store/types.js';

/** The PostgreSQL server the suite uses (a test fails, never skips, when it is unreachable). */
export const ADMIN_URL = process.env.SNITFLADE_TEST_PG ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/** A fresh, empty database of one kind, that several stores (gateway instances) can open. */
export interface TestDatabase {
  readonly kind: 'sqlite' | 'postgres';
  /** What a gateway's config.store takes. */
  readonly storeConfig: { kind: 'sqlite'; file: string } | { kind: 'postgres'; url: string };
  open(): Promise<Store>;
  cleanup(): Promise<void>;
}

export async function sqliteDatabase(name: string): Promise<TestDatabase> {
  const dir = mkdtempSync(path.join(tmpdir(), `snitflade-${name}-`));
  const file = path.join(dir, 'snitflade.db');
  const opened: Store[] = [];
  return {
    kind: 'sqlite',
    storeConfig: { kind: 'sqlite', file },
    async open() {
      const s = await openStore({ kind: 'sqlite', file });
      opened.push(s);
      return s;
    },
    async cleanup() {
      for (const s of opened) await s.close().catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export async function postgresDatabase(name: string): Promise<TestDatabase> {
  const db = `snitflade_${name.replace(/[^a-z0-9]/g, '_')}_${randomBytes(5).toString('hex')}`;
  const admin = new pg.Client({ connectionString: ADMIN_URL, connectionTimeoutMillis: 5000 });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${db}`);
  await admin.end();
  const url = new URL(ADMIN_URL);
  url.pathname = `/${db}`;
  const opened: Store[] = [];
  return {
    kind: 'postgres',
    storeConfig: { kind: 'postgres', url: url.toString() },
    async open() {
      const s = await openStore({ kind: 'postgres', url: url.toString(), poolSize: 4 });
      opened.push(s);
      return s;
    },
    async cleanup() {
      for (const s of opened) await s.close().catch(() => undefined);
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
