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
    const { rows } = await admin.query<{ n: string }>(
      'SELECT count(pg_terminate_backend(pid))::text AS n FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()',
      [name],
    );
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
      await admin.query(
        on ? `ALTER DATABASE ${name} SET default_transaction_read_only = on` : `ALTER DATABASE ${name} RESET default_transaction_read_only`,
      );
      if (on) await terminate();
    },
    async drop() {
      await admin.query(`ALTER DATABASE ${name} WITH ALLOW_CONNECTIONS true`).catch(() => undefined);
      await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin.end();
    },
  };
}

/**
 * A PostgreSQL server of its own (initdb in a temporary folder, on a free port), for the faults
 * that need the whole server: its configuration changed (ALTER SYSTEM) and a crash (immediate
 * stop). Never the shared server at ADMIN_URL. The server runs as the postgres user when the
 * tests run as root (initdb refuses root); destroy() stops it and removes the folder.
 */
export interface OwnCluster {
  /** postgres://postgres@127.0.0.1:<port>/postgres */
  readonly url: string;
  /** An immediate stop: the postmaster and every backend end at once, as in a crash; WAL not yet written is lost. */
  crash(): Promise<void>;
  /** Starts the server again (crash recovery replays the WAL). */
  start(): Promise<void>;
  destroy(): Promise<void>;
}

export async function createOwnCluster(settings: Readonly<Record<string, string>> = {}): Promise<OwnCluster> {
  const { execFileSync } = await import('node:child_process');
  const { chownSync, mkdtempSync, rmSync } = await import('node:fs');
  const net = await import('node:net');
  const os = await import('node:os');
  const path = await import('node:path');
  const bin = execFileSync('pg_config', ['--bindir'], { encoding: 'utf8' }).trim();
  const root = process.getuid?.() === 0;
  const run = (tool: string, args: readonly string[]): void => {
    const command = path.join(bin, tool);
    if (root) execFileSync('runuser', ['-u', 'postgres', '--', command, ...args], { stdio: 'pipe' });
    else execFileSync(command, [...args], { stdio: 'pipe' });
  };
  const dir = mkdtempSync(path.join(os.tmpdir(), 'snitflade-pgcluster-'));
  if (root) {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }));
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }));
    chownSync(dir, uid, gid);
  }
  const data = path.join(dir, 'data');
  const port = await new Promise<number>((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as import('node:net').AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
  const options = [
    `-p ${port}`,
    `-k ${dir}`,
    '-c listen_addresses=127.0.0.1',
    ...Object.entries(settings).map(([k, v]) => `-c ${k}=${v}`),
  ].join(' ');
  const start = async (): Promise<void> => run('pg_ctl', ['-D', data, '-l', path.join(dir, 'server.log'), '-o', options, '-w', 'start']);
  let started = false;
  try {
    run('initdb', ['-D', data, '-U', 'postgres', '--auth=trust', '--no-sync', '-E', 'UTF8']);
    await start();
    started = true;
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    async crash() {
      run('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']);
      started = false;
    },
    async start() {
      await start();
      started = true;
    },
    async destroy() {
      if (started) {
        try {
          run('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']);
        } catch {
          // already gone
        }
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
