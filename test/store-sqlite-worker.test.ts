/**
 * The SQLite store runs its database work in a worker thread (src/store/sqlite-worker.ts). The
 * shared store suites prove it behaves as a store; this file proves what the thread boundary
 * could break: errors keep their class and code, every argument and the canonical text of each
 * record reach the worker, the counters are kept, close() waits for the calls already made, a
 * worker that dies fails every call instead of hanging, and an idle worker does not keep the
 * process alive.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import Database from 'better-sqlite3';
import { AuditTrail } from '../src/audit/trail.js';
import type { AuditEntry, AuditRecord } from '../src/audit/types.js';
import { canonicalJson } from '../src/lib/digest.js';
import { CheckpointConflictError, ChainInUseError } from '../src/store/audit-checkpoints.js';
import { openStore } from '../src/store/index.js';
import { InvalidDeliveryCursorError } from '../src/outbox/types.js';
import { rememberCanonical } from '../src/store/rows.js';
import { openSqliteStore } from '../src/store/sqlite.js';
import { SqliteWorkerStore, StoreThreadError } from '../src/store/sqlite-worker.js';
import { ChainConflictError, InvalidCursorError, ReplayedClaimError, type Store } from '../src/store/types.js';
import { auditEntry, CASE_V2_ENTRY, randomDigest, testPseudonyms } from './support/audit-entries.js';

const ROOT = process.cwd();

const entry = (over: Partial<AuditEntry> = {}): AuditEntry =>
  auditEntry({ ...CASE_V2_ENTRY, subject: testPseudonyms.pseudonym('0101909901'), tokenDigest: randomDigest(), ...over });

/** Well-formed records of a new chain, seq 1..n, made by a trail on a scratch in-memory store. */
async function chainOf(n: number): Promise<AuditRecord[]> {
  const scratch = await openSqliteStore({ file: ':memory:', thread: false });
  try {
    const trail = await AuditTrail.open(scratch, { chain: `c-${randomBytes(4).toString('hex')}` });
    return await Promise.all(Array.from({ length: n }, () => trail.append(entry())));
  } finally {
    await scratch.close();
  }
}

/** What a rejection is, for comparing the worker's errors with the in-thread store's. */
function identity(err: unknown): { class: string; name: string; message: string; code: unknown } {
  const e = err as Error & { code?: unknown };
  return { class: Object.getPrototypeOf(e)?.constructor?.name as string, name: e.name, message: e.message, code: e.code };
}

async function rejection(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    () => {
      throw new Error('expected a rejection');
    },
    (err: unknown) => err,
  );
}

let dir: string;
const opened: Store[] = [];

async function open(file: string, options: { busyTimeoutMs?: number; thread?: boolean } = {}): Promise<Store> {
  const store = await openSqliteStore({ file, ...options });
  opened.push(store);
  return store;
}

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'snitflade-sqlite-worker-'));
});

afterAll(async () => {
  for (const s of opened) await s.close().catch(() => undefined);
  rmSync(dir, { recursive: true, force: true });
});

const fresh = (name: string): string => path.join(dir, `${name}-${randomBytes(3).toString('hex')}.db`);

describe('the SQLite store in a worker thread', () => {
  it('is what openStore and openSqliteStore return by default; thread: false keeps it in this thread', async () => {
    const file = fresh('default');
    const viaIndex = await openStore({ kind: 'sqlite', file });
    opened.push(viaIndex);
    expect(viaIndex).toBeInstanceOf(SqliteWorkerStore);
    expect(await open(file)).toBeInstanceOf(SqliteWorkerStore);
    expect(await open(file, { thread: false })).not.toBeInstanceOf(SqliteWorkerStore);
    await expect(openSqliteStore({ file, thread: 'yes' as unknown as boolean })).rejects.toThrow(
      new TypeError('openSqliteStore: thread must be a boolean'),
    );
  });

  describe('errors keep their class, message and code across the thread boundary', () => {
    it('ChainConflictError, with its chain', async () => {
      const store = await open(fresh('conflict'));
      const [first, second] = await chainOf(2);
      const err = await rejection(store.audit.append([second as AuditRecord]));
      expect(err).toBeInstanceOf(ChainConflictError);
      expect(err).toMatchObject({ name: 'ChainConflictError', code: 'ERR_AUDIT_CHAIN_CONFLICT', chain: first?.chain });
      expect((err as Error).message).toMatch(/does not continue its head/);
      expect(await store.audit.head(first?.chain as string)).toBeUndefined();
    });

    it('InvalidCursorError and InvalidDeliveryCursorError', async () => {
      const store = await open(fresh('cursor'));
      const audit = await rejection(store.audit.search({ after: 'not-a-cursor', limit: 10 }));
      expect(audit).toBeInstanceOf(InvalidCursorError);
      expect(audit).toMatchObject({ code: 'ERR_AUDIT_CURSOR_INVALID', message: 'the search cursor is not valid' });
      const outbox = await rejection(store.outbox.list({ after: '!!', limit: 10 }));
      expect(outbox).toBeInstanceOf(InvalidDeliveryCursorError);
      expect(outbox).toMatchObject({ code: 'ERR_OUTBOX_CURSOR_INVALID' });
    });

    it('CheckpointConflictError keeps the message its constructor made', async () => {
      const store = await open(fresh('checkpoint'));
      const checkpoint = {
        chain: 'gw-1',
        seq: 1,
        time: new Date().toISOString(),
        head: 'a'.repeat(64),
        root: 'b'.repeat(64),
        prev: 0,
        jws: 'x.y.z',
        frontier: '[]',
      };
      await store.checkpoints.add(checkpoint, []);
      const err = await rejection(store.checkpoints.add(checkpoint, []));
      expect(err).toBeInstanceOf(CheckpointConflictError);
      expect(err).toMatchObject({ code: 'ERR_AUDIT_CHECKPOINT_CONFLICT', message: 'a checkpoint of chain gw-1 at seq 1 already exists' });
    });

    it('TypeError from the argument checks, as the in-thread store gives it', async () => {
      const file = fresh('types');
      const worker = await open(file);
      const inThread = await open(file, { thread: false });
      const calls: ((s: Store) => Promise<unknown>)[] = [
        (s) => s.replay.claim('', new Date()),
        (s) => s.replay.claim('k', new Date(Number.NaN)),
        (s) => s.outbox.list({ limit: 0 }),
        (s) => s.audit.append([{ chain: 7 } as unknown as AuditRecord]),
      ];
      for (const call of calls) {
        const here = await rejection(call(inThread));
        const there = await rejection(call(worker));
        expect(here).toBeInstanceOf(TypeError);
        expect(there).toBeInstanceOf(TypeError);
        expect(identity(there)).toEqual(identity(here));
      }
    });

    it('an argument that cannot be cloned rejects that call with a TypeError, and the calls beside it go through', async () => {
      const store = await open(fresh('clone'));
      const key = `k-${randomBytes(4).toString('hex')}`;
      const [bad, good] = await Promise.allSettled([
        store.dpo.trafficByDay({ fromDay: '2024-01-01', toDay: (() => 'x') as unknown as string }),
        store.replay.claim(key, new Date(Date.now() + 60_000)),
      ]);
      expect(bad).toMatchObject({ status: 'rejected', reason: expect.any(TypeError) });
      expect((bad as PromiseRejectedResult).reason.message).toMatch(/^dpo\.trafficByDay: an argument cannot be passed to the store thread/);
      expect(good).toEqual({ status: 'fulfilled', value: true });
    });

    it('SqliteError with its code (SQLITE_BUSY) while another process holds the write lock', async () => {
      const file = fresh('busy');
      const store = await open(file, { busyTimeoutMs: 50 });
      const locker = new Database(file);
      locker.exec('BEGIN EXCLUSIVE');
      try {
        const err = await rejection(store.checkWritable());
        expect(err).toBeInstanceOf(Database.SqliteError);
        expect(err).toMatchObject({ name: 'SqliteError', code: 'SQLITE_BUSY', message: 'database is locked' });
        const claim = await rejection(store.replay.claim('busy-key', new Date(Date.now() + 1000)));
        expect(claim).toBeInstanceOf(Database.SqliteError);
        expect(claim).toMatchObject({ code: 'SQLITE_BUSY' });
      } finally {
        locker.exec('ROLLBACK');
        locker.close();
      }
      await expect(store.checkWritable()).resolves.toMatchObject({ durable: true });
    });

    it("ReplayedClaimError, with its keys: the append's second argument reaches the worker", async () => {
      const store = await open(fresh('claims'));
      const [first, second] = await chainOf(2);
      const key = `jti-${randomBytes(4).toString('hex')}`;
      const claim = { key, expiresAt: Date.now() + 60_000, required: true };
      await store.audit.append([first as AuditRecord], [claim]);
      expect(await store.replay.claim(key, new Date(Date.now() + 60_000))).toBe(false); // claimed by the append
      const err = await rejection(store.audit.append([second as AuditRecord], [claim]));
      expect(err).toBeInstanceOf(ReplayedClaimError);
      expect(err).toMatchObject({ code: 'ERR_REPLAYED_CLAIM', keys: [key] });
      expect((await store.audit.head(first?.chain as string))?.seq).toBe(1);
    });
  });

  describe('opening fails as it does in this thread', () => {
    const both = async (file: string): Promise<[unknown, unknown]> => [
      await rejection(openSqliteStore({ file, busyTimeoutMs: 50, thread: false })),
      await rejection(openSqliteStore({ file, busyTimeoutMs: 50 })),
    ];

    it('a file that is not a database', async () => {
      const file = fresh('garbage');
      writeFileSync(file, 'this is not a database, it only has a name like one'.repeat(100));
      const [here, there] = await both(file);
      expect((here as Error).name).toBe('SqliteError'); // the in-thread reference: under jest's module registry its class may come from another copy of better-sqlite3
      expect(there).toBeInstanceOf(Database.SqliteError);
      expect(identity(there)).toEqual(identity(here));
      expect(identity(there).code).toBe('SQLITE_NOTADB');
    });

    it('a migration that fails', async () => {
      const file = fresh('migration');
      const raw = new Database(file);
      raw.exec('CREATE TABLE audit_record (something_else TEXT)'); // in the way of the first migration
      raw.close();
      const [here, there] = await both(file);
      expect(there).toBeInstanceOf(Database.SqliteError);
      expect(identity(there)).toEqual(identity(here));
      expect((there as Error).message).toMatch(/audit_record/);
    });

    it('the file locked by another process', async () => {
      const file = fresh('locked');
      await (await openSqliteStore({ file, thread: false })).close();
      const locker = new Database(file);
      locker.exec('BEGIN EXCLUSIVE');
      try {
        const [here, there] = await both(file);
        expect(there).toBeInstanceOf(Database.SqliteError);
        expect(identity(there)).toEqual(identity(here));
        expect(identity(there).code).toBe('SQLITE_BUSY');
      } finally {
        locker.exec('ROLLBACK');
        locker.close();
      }
    });
  });

  it('writes the canonical text the caller registered for each record, not a serialisation of its own', async () => {
    const file = fresh('canonical');
    const store = await open(file);
    const records = await chainOf(3);
    // A text only the caller knows (the same JSON, spaced differently): if the worker serialised
    // the record itself, the stored text would be canonicalJson(record).
    const texts = records.map((r) => canonicalJson(r).replace(/^\{/, '{ '));
    records.forEach((r, i) => rememberCanonical(r, texts[i] as string));
    await store.audit.append(records);
    const raw = new Database(file, { readonly: true });
    try {
      const stored = raw.prepare('SELECT record FROM audit_record WHERE chain = ? ORDER BY seq').pluck().all(records[0]?.chain);
      expect(stored).toEqual(texts);
    } finally {
      raw.close();
    }
  });

  it('counts commits, records and claims as the in-thread store does, in a fresh snapshot on every read', async () => {
    const run = async (store: Store): Promise<unknown[]> => {
      const seen: unknown[] = [store.stats];
      const records = await chainOf(5);
      await store.audit.append(records.slice(0, 2));
      seen.push(store.stats);
      await store.audit.append(records.slice(2));
      seen.push(store.stats);
      await Promise.all(Array.from({ length: 7 }, (_, i) => store.replay.claim(`k-${i}`, new Date(Date.now() - 1000))));
      seen.push(store.stats);
      await store.replay.prune(new Date());
      await store.consents.get('nothing'); // a read: no commit
      seen.push(store.stats);
      return seen;
    };
    const worker = await open(fresh('stats-worker'));
    const inThread = await open(fresh('stats-here'), { thread: false });
    const there = await run(worker);
    expect(there).toEqual(await run(inThread));
    expect(there[0]).toEqual({ commits: 0, auditRecords: 0, replayClaims: 0 });
    expect(there[there.length - 1]).toEqual({ commits: 4, auditRecords: 5, replayClaims: 7 });
    const snapshot = worker.stats;
    await worker.replay.claim('one-more', new Date(Date.now() + 1000));
    expect(snapshot.replayClaims).toBe(7);
    expect(worker.stats.replayClaims).toBe(8);
  });

  it('close() waits for the appends already made, then refuses new calls', async () => {
    const file = fresh('close');
    const store = await openSqliteStore({ file });
    const records = await chainOf(50);
    const events: string[] = [];
    const calls = [
      ...Array.from({ length: 5 }, (_, i) =>
        store.audit.append(records.slice(i * 10, i * 10 + 10)).then(() => events.push(`appended ${i}`)),
      ),
      ...Array.from({ length: 20 }, (_, i) =>
        store.replay.claim(`close-${i}`, new Date(Date.now() + 60_000)).then((fresh) => events.push(`claimed ${String(fresh)}`)),
      ),
    ];
    await store.close().then(() => events.push('closed'));
    expect(events).toHaveLength(26);
    expect(events.slice(0, 5)).toEqual([0, 1, 2, 3, 4].map((i) => `appended ${i}`));
    expect(events.slice(5, 25)).toEqual(Array(20).fill('claimed true'));
    expect(events[25]).toBe('closed');
    await Promise.all(calls);
    await expect(store.audit.head(records[0]?.chain as string)).rejects.toThrow('store is closed');
    await expect(store.close()).resolves.toBeUndefined();

    const again = await open(file);
    expect((await again.audit.head(records[0]?.chain as string))?.seq).toBe(50);
  });

  it('a worker that dies rejects every pending call and every later one, and the process goes on', async () => {
    const file = fresh('dies');
    const store = (await openSqliteStore({ file, busyTimeoutMs: 1000 })) as SqliteWorkerStore;
    const [record] = await chainOf(1);
    const locker = new Database(file);
    locker.exec('BEGIN EXCLUSIVE');
    try {
      // A write the worker gets stuck in (waiting for the lock), and calls queued behind it; the
      // thread ends after them without answering any, as a thread that crashes does.
      const pending = [
        store.audit.append([record as AuditRecord]),
        store.audit.chains(),
        store.checkWritable(),
        store.dpo.rollupWatermarks(),
      ];
      const stopped = store.abort();
      const results = await Promise.allSettled(pending);
      for (const r of results) {
        expect(r.status).toBe('rejected');
        expect((r as PromiseRejectedResult).reason).toBeInstanceOf(StoreThreadError);
        expect((r as PromiseRejectedResult).reason).toMatchObject({ code: 'ERR_STORE_THREAD_STOPPED' });
      }
      await stopped;
    } finally {
      locker.exec('ROLLBACK');
      locker.close();
    }
    const later = await rejection(store.audit.head('any'));
    expect(later).toBeInstanceOf(StoreThreadError);
    expect((later as Error).message).toBe("the SQLite store's thread was stopped (abort)");
    await expect(store.checkWritable()).rejects.toBeInstanceOf(StoreThreadError);
    await expect(store.close()).resolves.toBeUndefined();
  });

  it('takes the chain lease in this thread: a second store of this process cannot take a held chain', async () => {
    const file = fresh('lease');
    const a = await open(file);
    const b = await open(file);
    const lease = await a.checkpoints.lockChain('gw-1');
    await expect(b.checkpoints.lockChain('gw-1')).rejects.toBeInstanceOf(ChainInUseError);
    await lease.release();
    await (await b.checkpoints.lockChain('gw-1')).release();
  });

  it('lets a process that exits while the thread waits for a lock end with its own exit code, not abort it', () => {
    const file = fresh('exit');
    const script = path.join(dir, 'exits-while-locked.mjs');
    writeFileSync(
      script,
      `const { default: Database } = await import(${JSON.stringify(pathToFileURL(path.join(ROOT, 'node_modules/better-sqlite3/lib/index.js')).href)});
const { openStore } = await import(${JSON.stringify(pathToFileURL(path.join(ROOT, 'src/store/index.ts')).href)});
const store = await openStore({ kind: 'sqlite', file: ${JSON.stringify(file)}, busyTimeoutMs: 1000 });
const locker = new Database(${JSON.stringify(file)});
locker.exec('BEGIN EXCLUSIVE');
void store.checkWritable().catch(() => undefined); // the worker waits for the lock, then fails with SQLITE_BUSY
setTimeout(() => process.exit(3), 200);
`,
    );
    const child = spawnSync(
      process.execPath,
      ['--no-warnings', '--import', pathToFileURL(path.join(ROOT, 'test/support/register-ts.mjs')).href, script],
      {
        cwd: ROOT,
        encoding: 'utf8',
        timeout: 60_000,
      },
    );
    expect(child.stderr).not.toMatch(/FATAL ERROR/);
    expect(child.signal).toBeNull();
    expect(child.status).toBe(3);
  });

  it('keeps the process alive while a call is pending, and not after: a script that never closes its store still ends', () => {
    const file = fresh('alive');
    const script = path.join(dir, 'never-closes.mjs');
    writeFileSync(
      script,
      `const { openStore } = await import(${JSON.stringify(pathToFileURL(path.join(ROOT, 'src/store/index.ts')).href)});
const store = await openStore({ kind: 'sqlite', file: ${JSON.stringify(file)} });
// Nothing but the pending claim keeps this process alive while it is in the worker.
store.replay.claim('only-key', new Date(Date.now() + 60000)).then((fresh) => console.log('claimed', fresh, store.stats.commits));
`,
    );
    const child = spawnSync(
      process.execPath,
      ['--no-warnings', '--import', pathToFileURL(path.join(ROOT, 'test/support/register-ts.mjs')).href, script],
      {
        cwd: ROOT,
        encoding: 'utf8',
        timeout: 60_000,
      },
    );
    expect(child.stderr).toBe('');
    expect(child.stdout).toBe('claimed true 1\n');
    expect(child.status).toBe(0);
  });
});
