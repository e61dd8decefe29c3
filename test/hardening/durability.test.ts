/**
 * Durability cannot be switched off from outside: a PostgreSQL server of its own is switched to
 * asynchronous commit while the store runs (ALTER SYSTEM and a reload, as a database
 * administrator might), then crashes. Every record the trail acknowledged is there after the
 * restart, and the chain verifies. The WAL writer is made slow, so that a commit acknowledged
 * without waiting for its WAL flush would be lost by the crash.
 */
import { jest } from '@jest/globals';
import pg from 'pg';
import { AuditTrail } from '../../src/audit/trail.js';
import { verifyChain } from '../../src/audit/verify.js';
import { openStore } from '../../src/store/index.js';
import type { ChainLease } from '../../src/store/audit-checkpoints.js';
import type { Store } from '../../src/store/types.js';
import { auditEntry } from '../support/audit-entries.js';
import { createOwnCluster, type OwnCluster } from './pg.js';

jest.setTimeout(120_000);

let cluster: OwnCluster | undefined;
let store: Store | undefined;
let lease: ChainLease | undefined;

afterAll(async () => {
  await lease?.release(); // it would keep trying to take the chain back on the crashed server
  await store?.close().catch(() => undefined);
  await cluster?.destroy();
});

it('PostgreSQL switched to synchronous_commit = off at run time, then crashed: every acknowledged record survives', async () => {
  cluster = await createOwnCluster({ wal_writer_delay: '10000ms', wal_writer_flush_after: '1GB' });
  const admin = new pg.Client({ connectionString: cluster.url });
  await admin.connect();
  store = await openStore({ kind: 'postgres', url: cluster.url, poolSize: 4 });
  lease = await store.checkpoints.lockChain('gw-durable');
  const trail = await AuditTrail.open(store, { chain: 'gw-durable', lease });
  const acknowledged: number[] = [];
  const appendSome = async (n: number): Promise<void> => {
    const records = await Promise.all(Array.from({ length: n }, (_, i) => trail.append(auditEntry({ caseworker: `cw-${i % 3}` }))));
    acknowledged.push(...records.map((r) => r.seq));
  };
  await appendSome(20);

  await admin.query('ALTER SYSTEM SET synchronous_commit = off');
  await admin.query('SELECT pg_reload_conf()');
  await admin.query('SELECT pg_sleep(0.2)'); // every backend takes the reload before its next statement
  expect((await admin.query<{ synchronous_commit: string }>('SHOW synchronous_commit')).rows[0]?.synchronous_commit).toBe('off');
  await admin.end();
  // The store's own connections keep committing synchronously, and say so.
  expect(await store.checkWritable()).toEqual({ setting: 'synchronous_commit', value: 'on', durable: true });
  for (let k = 0; k < 5; k++) await appendSome(10);

  await cluster.crash();
  await lease.release();
  lease = undefined;
  await store.close().catch(() => undefined);
  store = undefined;
  await cluster.start();

  store = await openStore({ kind: 'postgres', url: cluster.url, poolSize: 2 });
  expect((await store.audit.head('gw-durable'))?.seq).toBe(Math.max(...acknowledged));
  expect(acknowledged).toHaveLength(70);
  expect(await verifyChain(store, 'gw-durable')).toMatchObject({ ok: true, checked: 70 });
});
