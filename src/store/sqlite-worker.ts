import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { AuditRecord } from '../audit/types.js';
import { CodedError } from '../errors.js';
import { canonicalText } from './rows.js';
import { sqliteChainLease, sqliteRetentionLease } from './sqlite-audit-checkpoints.js';
import {
  ROUTES,
  reviveError,
  type Call,
  type Request,
  type Response,
  type SubStores,
  type Target,
  type ThreadData,
} from './sqlite-thread-protocol.js';
import type { Store, StoreDurability, StoreStats } from './types.js';

/**
 * The SQLite store, run in a worker thread. better-sqlite3 is synchronous: in the gateway's
 * thread every statement and every fsync of a commit would stall TLS, HTTP and token checks
 * for as long as it takes. Here the in-thread store (SqliteStore in sqlite.ts) runs inside a
 * worker (sqlite-thread.ts), and this class forwards each Store method to it: calls made in
 * one turn of the event loop travel in one message, in call order, and the worker runs them in
 * that order, so the store behaves as the in-thread one does (group commit included).
 *
 * - Errors keep their class and own properties across the boundary (ChainConflictError,
 *   InvalidCursorError, TypeError, SqliteError with its `code` ...), see sqlite-thread-protocol.ts.
 * - `stats` is kept here, from the counters each answer of the worker carries.
 * - The chain lease (checkpoints.lockChain) and the retention job's (lockRetention) are taken in this thread, where they are held.
 * - If the worker dies, every pending and every later call rejects with StoreThreadError.
 * - close() waits for the calls already made, closes the database, and ends the worker. The
 *   worker keeps the process alive only while calls are pending.
 */

/** The store's worker thread stopped without being closed; the store cannot be used any more. */
export class StoreThreadError extends CodedError {
  readonly code = 'ERR_STORE_THREAD_STOPPED';
}

/** Opens the SQLite store in a worker thread; rejects as the in-thread open would (same error class, message and code). */
export async function openSqliteWorkerStore(options: { readonly file: string; readonly busyTimeoutMs: number }): Promise<Store> {
  const store = new SqliteWorkerStore(options);
  await store.opened;
  return store;
}

/**
 * When the process exits (process.exit, an uncaught exception), Node terminates every worker
 * thread at once. A better-sqlite3 statement that fails in a thread being terminated (e.g.
 * SQLITE_BUSY at the end of a lock wait) aborts the whole process (SIGABRT, "FATAL ERROR:
 * v8::ToLocalChecked Empty MaybeLocal"). So on exit each live store's worker is asked to stop
 * between two statements, and this thread waits for it (at most the store's busy timeout and a
 * margin) before letting Node go on.
 */
const stopOnExit = new Set<() => void>();
let exitHooked = false;

function hookExit(stop: () => void): void {
  stopOnExit.add(stop);
  if (exitHooked) return;
  exitHooked = true;
  process.on('exit', () => {
    for (const s of stopOnExit) s();
  });
}

interface Pending {
  resolve(value: unknown): void;
  reject(err: unknown): void;
}

type HereMethods<T extends Target> = {
  [K in keyof (typeof ROUTES)[T]]: (typeof ROUTES)[T][K] extends 'here' ? K : never;
}[keyof (typeof ROUTES)[T]] &
  keyof SubStores[T];

/**
 * The worker's entry: the compiled sqlite-thread.js beside this module (dist/), or, when running
 * from the TypeScript sources (jest, a TypeScript loader), sqlite-thread.ts with module hooks
 * that transpile it (sqlite-thread-dev-hooks.mjs, registered in the worker only).
 */
function threadEntry(): { url: URL; execArgv?: string[] } {
  const compiled = new URL('./sqlite-thread.js', import.meta.url);
  if (existsSync(fileURLToPath(compiled))) return { url: compiled };
  const source = new URL('./sqlite-thread.ts', import.meta.url);
  const hooks = new URL('./sqlite-thread-dev-hooks.mjs', import.meta.url);
  if (!existsSync(fileURLToPath(source)) || !existsSync(fileURLToPath(hooks)))
    throw new Error(`openSqliteStore: the store thread's entry is missing beside ${import.meta.url}`);
  const register = `data:text/javascript,import { register } from 'node:module'; register(${JSON.stringify(hooks.href)});`;
  return { url: source, execArgv: ['--import', register] };
}

export class SqliteWorkerStore implements Store {
  readonly kind = 'sqlite' as const;
  readonly audit: SubStores['audit'];
  readonly replay: SubStores['replay'];
  readonly consents: SubStores['consents'];
  readonly relations: SubStores['relations'];
  readonly outbox: SubStores['outbox'];
  readonly checkpoints: SubStores['checkpoints'];
  readonly dpo: SubStores['dpo'];
  readonly policyHistory: SubStores['policyHistory'];
  /** Settles once the worker has opened the database (or failed to, and ended). */
  readonly opened: Promise<void>;

  readonly #worker: Worker;
  readonly #exited: Promise<void>;
  #state: 'opening' | 'open' | 'closing' | 'closed' | 'dead' = 'opening';
  #stats: StoreStats = { commits: 0, auditRecords: 0, replayClaims: 0 };
  #nextId = 1;
  readonly #pending = new Map<number, Pending>();
  #queue: Call[] = [];
  #flushScheduled = false;
  /** Why the worker stopped, once it did without being closed. */
  #failure: StoreThreadError | undefined;
  /** What the worker reported: the open's error, or the inner close's. */
  #reported: Error | undefined;
  #closedCleanly = false;
  #aborted = false;
  #closing: Promise<void> | undefined;
  /** An error the worker raised before exiting (uncaught exception, out of memory). */
  #crash: unknown;

  constructor(options: { readonly file: string; readonly busyTimeoutMs: number }) {
    const entry = threadEntry();
    const data: ThreadData = { ...options, stopped: new Int32Array(new SharedArrayBuffer(4)) };
    this.#worker = new Worker(entry.url, { workerData: data, ...(entry.execArgv !== undefined ? { execArgv: entry.execArgv } : {}) });
    const worker = this.#worker;
    const stopForExit = (): void => {
      if (this.#state === 'closed' || this.#state === 'dead' || this.#closedCleanly) return;
      try {
        worker.postMessage({ type: 'abort' } satisfies Request);
        Atomics.wait(data.stopped, 0, 0, options.busyTimeoutMs + 2000);
      } catch {
        // the thread is gone already
      }
    };
    hookExit(stopForExit);

    let opened!: { resolve(): void; reject(err: unknown): void };
    this.opened = new Promise<void>((resolve, reject) => {
      opened = { resolve, reject };
    });
    let exited!: () => void;
    this.#exited = new Promise<void>((resolve) => {
      exited = resolve;
    });

    worker.on('message', (message: Response) => this.#receive(message, opened));
    worker.on('error', (err) => {
      // An uncaught exception in the worker: it is ending. Fail fast; 'exit' follows.
      this.#crash = err;
      if (this.#state === 'open' || this.#state === 'closing') this.#die(`the SQLite store's thread failed: ${err.message}`);
    });
    worker.on('messageerror', (err) => {
      // An answer that could not be read: whose it was is unknown, so nothing can be trusted.
      this.#crash = err;
      this.#die('an answer from the SQLite store thread could not be read');
      worker.postMessage({ type: 'close' } satisfies Request); // let it finish its statement and close the database
    });
    worker.on('exit', (code) => {
      if (this.#state === 'opening') {
        this.#state = 'dead';
        const why = this.#crash instanceof Error ? `: ${this.#crash.message}` : '';
        this.#failure = new StoreThreadError(`the SQLite store's thread stopped while opening (exit code ${code})${why}`, {
          cause: this.#crash,
        });
        opened.reject(this.#reported ?? this.#failure);
      } else if (this.#state === 'closing' && this.#closedCleanly) {
        this.#state = 'closed';
        this.#rejectAll(new StoreThreadError("the SQLite store's thread ended before it answered"));
      } else {
        this.#die(
          this.#aborted
            ? "the SQLite store's thread was stopped (abort)"
            : `the SQLite store's thread stopped unexpectedly (exit code ${code})`,
        );
      }
      stopOnExit.delete(stopForExit);
      exited();
    });

    const here = {
      checkpoints: {
        lockChain: async (chain: string) => sqliteChainLease({ name: options.file, memory: options.file === ':memory:' }, chain),
        lockRetention: async () => sqliteRetentionLease({ name: options.file, memory: options.file === ':memory:' }),
      },
    };
    this.audit = this.#forward('audit', {});
    this.replay = this.#forward('replay', {});
    this.consents = this.#forward('consents', {});
    this.relations = this.#forward('relations', {});
    this.outbox = this.#forward('outbox', {});
    this.checkpoints = this.#forward('checkpoints', here.checkpoints);
    this.dpo = this.#forward('dpo', {});
    this.policyHistory = this.#forward('policyHistory', {});
  }

  get stats(): StoreStats {
    return { ...this.#stats };
  }

  checkWritable(): Promise<StoreDurability> {
    return this.#call('store', 'checkWritable', []) as Promise<StoreDurability>;
  }

  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  /**
   * Stops the thread once the statement it is running ends, without answering the calls it
   * holds: they and every later call reject with StoreThreadError, as when the thread crashes.
   * What was committed stays committed; an unfinished transaction is rolled back. For a stop
   * that cannot wait for close(). (Not worker.terminate(): better-sqlite3 aborts the whole
   * process when a statement fails in a thread that is being terminated.)
   */
  async abort(): Promise<void> {
    if (this.#state === 'open' || this.#state === 'closing') {
      this.#aborted = true;
      this.#flush();
      this.#worker.ref();
      this.#worker.postMessage({ type: 'abort' } satisfies Request);
    }
    await this.#exited;
  }

  async #close(): Promise<void> {
    if (this.#state === 'open') {
      this.#state = 'closing';
      this.#flush(); // calls made before close() go first
      this.#worker.ref();
      this.#worker.postMessage({ type: 'close' } satisfies Request);
    }
    await this.#exited;
    if (this.#reported !== undefined && this.#state === 'closed') throw this.#reported;
  }

  /** A sub-store whose 'thread' methods are forwarded and whose 'here' methods are `here`'s. */
  #forward<T extends Exclude<Target, 'store'>>(target: T, here: Pick<SubStores[T], HereMethods<T>>): SubStores[T] {
    const sub: Record<string, unknown> = {};
    for (const [method, route] of Object.entries(ROUTES[target])) {
      sub[method] =
        route === 'thread' ? (...args: unknown[]) => this.#call(target, method, args) : (here as Record<string, unknown>)[method];
    }
    return sub as unknown as SubStores[T]; // not frozen: wrappers such as forwardingAuditStore (a Proxy) need configurable members
  }

  #call(target: Target, method: string, args: unknown[]): Promise<unknown> {
    if (this.#state !== 'open') {
      return Promise.reject(
        this.#failure !== undefined
          ? new StoreThreadError(this.#failure.message, { cause: this.#failure.cause })
          : new Error('store is closed'),
      );
    }
    let call: Call = { id: this.#nextId++, target, method, args };
    if (target === 'audit' && method === 'append') {
      // The records go as the canonical texts the trail hashed: strings copy to the worker far
      // more cheaply than the objects, and the worker parses them back (off this thread).
      const canonical = canonicalTexts(args[0]);
      if (canonical !== undefined) call = { ...call, args: [null, ...args.slice(1)], canonical };
    }
    return new Promise<unknown>((resolve, reject) => {
      this.#pending.set(call.id, { resolve, reject });
      if (this.#pending.size === 1) this.#worker.ref();
      this.#queue.push(call);
      if (!this.#flushScheduled) {
        this.#flushScheduled = true;
        queueMicrotask(() => this.#flush());
      }
    });
  }

  /** Sends the queued calls in one message (one by one if some argument cannot be cloned). */
  #flush(): void {
    this.#flushScheduled = false;
    if (this.#queue.length === 0) return;
    const calls = this.#queue;
    this.#queue = [];
    try {
      this.#worker.postMessage({ type: 'calls', calls } satisfies Request);
      return;
    } catch {
      // Some argument cannot be cloned (a function, a symbol ...): find it, send the rest.
    }
    for (const call of calls) {
      try {
        this.#worker.postMessage({ type: 'calls', calls: [call] } satisfies Request);
      } catch (err) {
        this.#settle(call.id, (p) =>
          p.reject(
            new TypeError(`${call.target}.${call.method}: an argument cannot be passed to the store thread (${(err as Error).message})`),
          ),
        );
      }
    }
  }

  #receive(message: Response, opened: { resolve(): void; reject(err: unknown): void }): void {
    switch (message.type) {
      case 'ready':
        this.#stats = message.stats;
        this.#state = 'open';
        this.#worker.unref();
        opened.resolve();
        return;
      case 'open-failed':
        this.#reported = reviveError(message.error); // the worker ends next; 'exit' rejects the open with it
        return;
      case 'replies':
        this.#stats = message.stats;
        for (const reply of message.replies) {
          if (reply.ok) this.#settle(reply.id, (p) => p.resolve(reply.value));
          else this.#settle(reply.id, (p) => p.reject(reviveError(reply.error)));
        }
        return;
      case 'closed':
        this.#closedCleanly = true;
        if (message.error !== undefined) this.#reported = reviveError(message.error);
        return;
    }
  }

  #settle(id: number, how: (p: Pending) => void): void {
    const p = this.#pending.get(id);
    if (p === undefined) return;
    this.#pending.delete(id);
    if (this.#pending.size === 0 && this.#state === 'open') this.#worker.unref();
    how(p);
  }

  /** The worker is gone: every pending call and every later one rejects. */
  #die(message: string): void {
    if (this.#state === 'dead' || this.#state === 'closed') return;
    this.#state = 'dead';
    this.#failure = new StoreThreadError(message, { cause: this.#crash });
    this.#queue = [];
    this.#rejectAll(this.#failure);
  }

  #rejectAll(err: Error): void {
    const pending = [...this.#pending.values()];
    this.#pending.clear();
    for (const p of pending) p.reject(err);
  }
}

/** The canonical text of each record (what the trail hashed, and what the worker writes), or undefined for what is not records. */
function canonicalTexts(records: unknown): readonly string[] | undefined {
  if (!Array.isArray(records)) return undefined;
  try {
    return (records as AuditRecord[]).map(canonicalText);
  } catch {
    return undefined; // not records: sent as they are, the worker's argument checks say so, with their error
  }
}
