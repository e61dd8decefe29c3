/**
 * A dedicated PostgreSQL database per test file, and the faults a DBA or a crash can cause in
 * it, without touching the machine's cluster or anyone else's databases: its connections
 * terminated, new connections refused, the database made read-only.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';

const ADMIN_URL = process.env.SNITFLADE_TEST_PG ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export interface TestDatabase {
  readonly name: string;
  readonly url: string;
  /** Ends every connection to this database (as a crash or restart of the server would). */
  terminate(): Promise<number>;
  /** Refuses (false) or accepts (true) new connections, and ends the open ones when refusing. */
  allowConnections(allow: boolean): Promise<void>;
  /** Makes new transactions read-only (true) or writable again; open connections are ended when switching to read-only. */
  readOnly(on: boolean): Promise<void>;
  drop(): Promise<void>;
}

export async function createTestDatabase(prefix: string): Promise<TestDatabase> {
  const name = `snitflade_${prefix}_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: ADMIN_URL, connectionTimeoutMillis: 5000 });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  const terminate = async (): Promise<number> => {
    const { rows } = await admin.query<{ n: string }>('SELECT count(pg_terminate_backend(pid))::text AS n FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [name]);
    return Number(rows[0]?.n ?? 0);
  };
  return {
    name,
    url: url.toString(),
    terminate,
    async allowConnections(allow) {
      await admin.query(`ALTER DATABASE ${name} WITH ALLOW_CONNECTIONS ${allow ? 'true' : 'false'}`);
      if (!allow) await terminate();
    },
    async readOnly(on) {
      await admin.query(on ? `ALTER DATABASE ${name} SET default_transaction_read_only = on` : `ALTER DATABASE ${name} RESET default_transaction_read_only`);
      if (on) await terminate();
    },
    async drop() {
      await admin.query(`ALTER DATABASE ${name} WITH ALLOW_CONNECTIONS true`).catch(() => undefined);
      await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin.end();
    },
  };
}
