/**
 * The PostgreSQL audit append (src/store/postgres.ts): one statement per commit that reads the
 * chain's head and inserts only if the batch continues it, still refusing every writer that
 * does not continue the chain, including a concurrent one on the same chain; synchronous commit
 * kept on whatever the database's setting becomes; the chain lease's generation checked by every
 * append and checkpoint. Counts statements, never time.
 * PostgreSQL must be reachable (SNITFLADE_TEST_PG, default postgres://postgres@127.0.0.1:5432/postgres).
 */
import { jest } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { recordHash } from '../src/audit/chain.js';
import { AuditTrail } from '../src/audit/trail.js';
import type { AuditEntry, AuditRecord } from '../src/audit/types.js';
import { verifyChain } from '../src/audit/verify.js';
import { AUDIT_COLUMNS, toRow } from '../src/store/rows.js';
import { ChainConflictError, type Store } from '../src/store/types.js';
import { auditEntry, testPseudonyms } from './support/audit-entries.js';
import { postgresDatabase, type TestDatabase } from './support/databases.js';

/** Entry n of a planted trail: caseworkers cw-0, cw-1 and cw-2 in turn, up to 100 citizens. */
const entry = (n: number): AuditEntry =>
  auditEntry({ caseworker: `cw-${n % 3}`, subject: testPseudonyms.pseudonym(`01019099${String(n % 100).padStart(2, '0')}`) });

/** Another record for the place after `head` (seq and prevHash), hashed. */
function nextAfter(template: AuditRecord, head: { seq: number; hash: string }, id: string): AuditRecord {
  const unhashed = { ...template, id, seq: head.seq + 1, prevHash: head.hash };
  return { ...unhashed, hash: recordHash(unhashed.prevHash, unhashed) };
}

let db: TestDatabase;
let store: Store;
let raw: pg.Client;
let chainCounter = 0;
const freshChain = (prefix: string): string => `${prefix}-${++chainCounter}-${randomBytes(3).toString('hex')}`;

/** Statements the store sends, by their text (named statements included). */
function recordStatements(): { readonly texts: string[]; stop(): void } {
  const texts: string[] = [];
  const original = pg.Client.prototype.query;
  const spy = jest.spyOn(pg.Client.prototype, 'query').mockImplementation(function (this: pg.Client, ...args: unknown[]) {
    const config = args[0];
    texts.push(typeof config === 'string' ? config : String((config as { text?: string }).text));
    return (original as (...a: unknown[]) => unknown).apply(this, args);
  } as typeof original);
  return { texts, stop: () => spy.mockRestore() };
}

beforeAll(async () => {
  db = await postgresDatabase('pg-append');
  store = await db.open();
  raw = new pg.Client({ connectionString: (db.storeConfig as { url: string }).url });
  await raw.connect();
});

afterAll(async () => {
  await raw?.end();
  await db?.cleanup();
});

it('commits an append without replay claims as one statement: one round trip', async () => {
  const trail = await AuditTrail.open(store, { chain: freshChain('one') });
  await trail.append(entry(0));
  const commits = store.stats.commits;
  const statements = recordStatements();
  try {
    await trail.append(entry(1));
  } finally {
    statements.stop();
  }
  expect(statements.texts).toHaveLength(1);
  expect(statements.texts[0]).toMatch(/^WITH expect AS .*INSERT INTO audit_record /);
  expect(store.stats.commits).toBe(commits + 1);
  expect(await verifyChain(store, trail.chain)).toMatchObject({ ok: true, checked: 2 });
});

it('keeps synchronous commit on on its own connections when the database is switched to asynchronous commit while it runs', async () => {
  const name = new URL((db.storeConfig as { url: string }).url).pathname.slice(1);
  const running = await db.open();
  const trail = await AuditTrail.open(running, { chain: freshChain('sync') });
  await trail.append(entry(0));
  await raw.query(`ALTER DATABASE ${name} SET synchronous_commit = off`);
  try {
    // Every connection the store had is ended: the ones it opens now start under the new default.
    await raw.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND application_name = 'snitflade'", [name]);
    const fresh = new pg.Client({ connectionString: (db.storeConfig as { url: string }).url });
    await fresh.connect();
    expect((await fresh.query<{ synchronous_commit: string }>('SHOW synchronous_commit')).rows[0]?.synchronous_commit).toBe('off');
    await fresh.end();
    let durability;
    for (let i = 0; i < 5 && durability === undefined; i++) durability = await running.checkWritable().catch(() => undefined); // the first may meet a terminated connection
    expect(durability).toEqual({ setting: 'synchronous_commit', value: 'on', durable: true });
    let appended = false;
    for (let i = 0; i < 5 && !appended; i++)
      appended = await trail.append(entry(1)).then(
        () => true,
        () => false,
      );
    expect(appended).toBe(true);
    expect(await verifyChain(running, trail.chain)).toMatchObject({ ok: true, checked: 2 });
  } finally {
    await raw.query(`ALTER DATABASE ${name} RESET synchronous_commit`);
  }
});

it("refuses an append or a checkpoint carrying a lease generation that is no longer the chain's, and writes nothing", async () => {
  const chain = freshChain('fence');
  const other = await db.open();
  const first = await store.checkpoints.lockChain(chain);
  const old = first.fence!;
  expect(old).toEqual({ chain, generation: expect.any(Number) });
  const trail = await AuditTrail.open(store, { chain, lease: first });
  const [record] = await trail.appendMany([entry(0)]);
  // The holder's lock connection is cut (a database restart for it); another process takes the chain at once.
  const name = new URL((db.storeConfig as { url: string }).url).pathname.slice(1);
  await raw.query(
    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND application_name = 'snitflade-chain-lease'",
    [name],
  );
  let second;
  for (let i = 0; i < 50 && second === undefined; i++) {
    second = await other.checkpoints.lockChain(chain).catch(() => undefined);
    if (second === undefined) await new Promise((resolve) => setTimeout(resolve, 20));
  }
  try {
    expect(second!.fence!.generation).toBeGreaterThan(old.generation);
    const next = nextAfter(record!, { seq: record!.seq, hash: record!.hash }, 'old-holder-1');
    await expect(store.audit.append([next], [], [], old)).rejects.toMatchObject({
      name: 'ChainLeaseLostError',
      code: 'ERR_AUDIT_CHAIN_LEASE_LOST',
      chain,
    });
    await expect(
      store.audit.append(
        [next],
        [{ key: `fence-${randomBytes(4).toString('hex')}`, expiresAt: Date.now() + 60_000, required: true }],
        [],
        old,
      ),
    ).rejects.toMatchObject({ code: 'ERR_AUDIT_CHAIN_LEASE_LOST' });
    // The old holder's trail refuses by itself too, however the lease is doing.
    await expect(trail.append(entry(1))).rejects.toMatchObject({ code: 'ERR_AUDIT_CHAIN_LEASE_LOST' });
    const checkpoint = { chain, seq: 1, time: new Date().toISOString(), head: record!.hash, root: 'x', prev: 0, jws: 'x', frontier: '{}' };
    await expect(store.checkpoints.add(checkpoint, [], old)).rejects.toMatchObject({ code: 'ERR_AUDIT_CHAIN_LEASE_LOST' });
    expect(await store.checkpoints.latest(chain)).toBeUndefined();
    expect((await store.audit.head(chain))?.seq).toBe(1);
    // The new holder writes under its own generation.
    await other.audit.append([next], [], [], second!.fence);
    expect((await store.audit.head(chain))?.id).toBe('old-holder-1');
  } finally {
    await second?.release();
    await first.release();
  }
});

it('refuses records that do not continue the stored head, and writes none of the batch', async () => {
  const trail = await AuditTrail.open(store, { chain: freshChain('gap') });
  const [first, second] = await trail.appendMany([entry(0), entry(1)]);
  const head = { seq: second!.seq, hash: second!.hash };
  const gap = nextAfter(first!, { seq: head.seq + 1, hash: head.hash }, 'gap-1');
  const fork = nextAfter(first!, { seq: head.seq, hash: first!.hash }, 'fork-1');
  const good = nextAfter(first!, head, 'good-1');
  await expect(store.audit.append([gap])).rejects.toThrow(
    new ChainConflictError(trail.chain, `audit append to chain ${trail.chain} does not continue its head (seq 2); refused`),
  );
  await expect(store.audit.append([fork])).rejects.toBeInstanceOf(ChainConflictError);
  // A good record first and a broken link after it: refused before anything is sent.
  const broken = nextAfter(first!, { seq: good.seq, hash: 'f'.repeat(64) }, 'broken-1');
  await expect(store.audit.append([good, broken])).rejects.toBeInstanceOf(ChainConflictError);
  // A batch over two chains is refused whole when one of them does not continue.
  const other = await AuditTrail.open(store, { chain: freshChain('gap-other') });
  const [o1] = await other.appendMany([entry(2)]);
  const otherNext = nextAfter(o1!, { seq: o1!.seq, hash: o1!.hash }, 'other-2');
  await expect(store.audit.append([otherNext, fork])).rejects.toBeInstanceOf(ChainConflictError);
  expect((await store.audit.head(trail.chain))?.id).toBe(second!.id);
  expect((await store.audit.head(other.chain))?.id).toBe(o1!.id);
  await store.audit.append([good, nextAfter(first!, { seq: good.seq, hash: good.hash }, 'good-2')]);
  expect(await verifyChain(store, trail.chain)).toMatchObject({ ok: true, checked: 4 });
});

it('refuses a concurrent writer on the same chain: of two instances appending at once, one wins each time', async () => {
  const other = await db.open();
  const chain = freshChain('race');
  for (let round = 0; round < 10; round++) {
    const [a, b] = await Promise.all([AuditTrail.open(store, { chain }), AuditTrail.open(other, { chain })]);
    const outcomes = await Promise.allSettled([a.append(entry(round)), b.append(entry(round + 1))]);
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
    const refused = outcomes.find((o) => o.status === 'rejected') as PromiseRejectedResult;
    expect(refused.reason).toBeInstanceOf(ChainConflictError);
    await Promise.all([a.close(), b.close()]);
  }
  expect(await verifyChain(store, chain)).toMatchObject({ ok: true, checked: 10 });
});

it('refuses a writer whose seq another transaction inserted after the head was read, before it committed', async () => {
  const chain = freshChain('uncommitted');
  const trail = await AuditTrail.open(store, { chain });
  const [first] = await trail.appendMany([entry(0)]);
  const head = { seq: first!.seq, hash: first!.hash };
  const theirs = nextAfter(first!, head, 'theirs-1');
  const ours = nextAfter(first!, head, 'ours-1');
  const row = toRow(theirs);
  await raw.query('BEGIN');
  let committed = false;
  try {
    await raw.query(
      `INSERT INTO audit_record (${AUDIT_COLUMNS.join(', ')}) VALUES (${AUDIT_COLUMNS.map((c, i) => (c === 'reasons' ? `$${i + 1}::jsonb` : `$${i + 1}`)).join(', ')})`,
      AUDIT_COLUMNS.map((c) => row[c]),
    );
    // Ours reads the head (seq 1: theirs is not committed) and waits on the primary key.
    const settled = store.audit.append([ours]).then(
      () => undefined,
      (err: unknown) => err,
    );
    const db_ = new URL((db.storeConfig as { url: string }).url).pathname.slice(1);
    let waiting = false;
    for (let i = 0; i < 200 && !waiting; i++) {
      const { rows } = await raw.query(
        "SELECT 1 FROM pg_stat_activity WHERE datname = $1 AND application_name = 'snitflade' AND wait_event_type = 'Lock'",
        [db_],
      );
      waiting = rows.length > 0;
      if (!waiting) await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect(waiting).toBe(true);
    await raw.query('COMMIT');
    committed = true;
    expect(await settled).toBeInstanceOf(ChainConflictError);
  } finally {
    if (!committed) await raw.query('ROLLBACK');
  }
  expect((await store.audit.head(chain))?.id).toBe('theirs-1');
});

it('with replay claims, a refused append takes back its claims', async () => {
  const chain = freshChain('claims');
  const trail = await AuditTrail.open(store, { chain });
  const [first, second] = await trail.appendMany([entry(0), entry(1)]);
  const stale = nextAfter(first!, { seq: first!.seq, hash: first!.hash }, 'stale-1'); // seq 2 is taken
  const key = `claim-${randomBytes(6).toString('hex')}`;
  await expect(store.audit.append([stale], [{ key, expiresAt: Date.now() + 60_000, required: true }])).rejects.toBeInstanceOf(
    ChainConflictError,
  );
  expect(await store.replay.claim(key, new Date(Date.now() + 60_000))).toBe(true); // was not kept
  const next = nextAfter(first!, { seq: second!.seq, hash: second!.hash }, 'next-1');
  const key2 = `claim-${randomBytes(6).toString('hex')}`;
  await store.audit.append([next], [{ key: key2, expiresAt: Date.now() + 60_000, required: true }]);
  expect(await store.replay.claim(key2, new Date(Date.now() + 60_000))).toBe(false);
  expect(await verifyChain(store, chain)).toMatchObject({ ok: true, checked: 3 });
});
