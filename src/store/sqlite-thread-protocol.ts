import Database from 'better-sqlite3';
import { ChainInUseError, CheckpointConflictError, ErasureConflictError } from './audit-checkpoints.js';
import { IdempotencyKeyTakenError, InvalidDeliveryCursorError, OutboxWriteError } from '../outbox/types.js';
import { RelationConflictError } from '../relations/types.js';
import { ChainConflictError, InvalidCursorError, ReplayedClaimError, type Store, type StoreStats } from './types.js';

/**
 * What the gateway's thread and the SQLite store's worker thread say to each other
 * (sqlite-worker.ts is the gateway's side, sqlite-thread.ts the worker's). Every call names a
 * sub-store of Store, one of its methods and the arguments, which travel by structured clone;
 * the answer is the method's result or its error, rebuilt as the same class on arrival.
 */

/** The sub-stores of Store whose methods are called across the thread boundary, and Store's own (close is a message of its own). */
export type SubStores = Pick<Store, 'audit' | 'replay' | 'consents' | 'relations' | 'outbox' | 'checkpoints' | 'dpo' | 'policyHistory'> & {
  readonly store: Pick<Store, 'checkWritable'>;
};

export type Target = keyof SubStores;

/**
 * Where each method runs: 'thread' (forwarded to the worker) or 'here' (on the caller's side;
 * the gateway's thread implements it itself). Typed so that a method added to one of the
 * interfaces does not compile until it is routed here, and a method that is not asynchronous
 * cannot be forwarded at all.
 */
type Routes<T> = {
  readonly [K in keyof T]-?: NonNullable<T[K]> extends (...args: never[]) => Promise<unknown> ? 'thread' | 'here' : never;
};

export const ROUTES = {
  audit: { head: 'thread', append: 'thread', range: 'thread', scan: 'thread', scanPage: 'thread', chains: 'thread', search: 'thread' },
  replay: { claim: 'thread', prune: 'thread' },
  consents: { add: 'thread', get: 'thread', bySubject: 'thread', withdraw: 'thread' },
  relations: {
    save: 'thread',
    get: 'thread',
    byCaseRef: 'thread',
    byCaseRefs: 'thread',
    byAdministration: 'thread',
    search: 'thread',
    active: 'thread',
    sharedCitizens: 'thread',
    shortLived: 'thread',
  },
  outbox: {
    enqueue: 'thread',
    accepted: 'thread',
    claim: 'thread',
    finish: 'thread',
    release: 'thread',
    get: 'thread',
    list: 'thread',
    redrive: 'thread',
    expire: 'thread',
    forget: 'thread',
    counts: 'thread',
  },
  checkpoints: {
    add: 'thread',
    chains: 'thread',
    latest: 'thread',
    list: 'thread',
    atOrBefore: 'thread',
    lastBefore: 'thread',
    nodes: 'thread',
    recordExport: 'thread',
    exports: 'thread',
    retention: 'thread',
    markRetention: 'thread',
    deleteThrough: 'thread',
    expiring: 'thread',
    erase: 'thread',
    forgetErasures: 'thread',
    erasures: 'thread',
    erasedBy: 'thread',
    erasureMarks: 'thread',
    markErasure: 'thread',
    addErasureSignature: 'thread',
    erasureSignature: 'thread',
    // The chain lease is a lock file and a set of the chains this process holds: it must live in
    // the gateway's thread, where the lease is used and released (a worker has a set of its own).
    // So must the retention job's lease, for the same reason.
    lockChain: 'here',
    lockRetention: 'here',
  },
  dpo: {
    rollupWatermarks: 'thread',
    addToRollups: 'thread',
    trafficByDay: 'thread',
    trafficBy: 'thread',
    reasons: 'thread',
    caseworkers: 'thread',
    systemCitizens: 'thread',
    withheld: 'thread',
    offHours: 'thread',
    consentUses: 'thread',
    consentWithdrawals: 'thread',
    consentRecordings: 'thread',
    consentPermits: 'thread',
    record: 'thread',
    createSession: 'thread',
    session: 'thread',
    touchSession: 'thread',
    deleteSession: 'thread',
    pruneSessions: 'thread',
    saveSearch: 'thread',
    savedSearch: 'thread',
  },
  policyHistory: { get: 'thread', putInForce: 'thread' },
  store: { checkWritable: 'thread' },
} as const satisfies { readonly [T in Target]: Routes<SubStores[T]> };

/** Whether `method` of `target` is one the worker may run (an own, routed name: no prototype tricks). */
export function runsInThread(target: string, method: string): boolean {
  if (!Object.hasOwn(ROUTES, target)) return false;
  const routes = ROUTES[target as Target] as Readonly<Record<string, 'thread' | 'here'>>;
  return Object.hasOwn(routes, method) && routes[method] === 'thread';
}

/** Opens the store inside the worker. */
export interface ThreadData {
  readonly file: string;
  readonly busyTimeoutMs: number;
  /**
   * One Int32 (a SharedArrayBuffer): the worker sets it to 1 when it stops on an 'abort', between
   * two statements. The gateway's thread waits for it when the process exits (see sqlite-worker.ts).
   */
  readonly stopped: Int32Array;
}

export interface Call {
  readonly id: number;
  readonly target: Target;
  readonly method: string;
  readonly args: readonly unknown[];
  /**
   * audit.append only: the records as their canonical texts (canonicalText), in place of args[0]
   * (sent as null). The worker parses them and remembers each text for its record, so that it
   * writes the text the trail hashed.
   */
  readonly canonical?: readonly string[];
}

export type Reply =
  | { readonly id: number; readonly ok: true; readonly value: unknown }
  | { readonly id: number; readonly ok: false; readonly error: SerializedError };

/** Gateway's thread to worker. */
export type Request =
  | { readonly type: 'calls'; readonly calls: readonly Call[] }
  /** Run what was received, answer, close the database, end. */
  | { readonly type: 'close' }
  /** End now, between two statements, answering nothing more (SqliteWorkerStore.abort). */
  | { readonly type: 'abort' };

/** Worker to gateway's thread. Every `replies` carries the store's counters as they are after those calls. */
export type Response =
  | { readonly type: 'ready'; readonly stats: StoreStats }
  | { readonly type: 'open-failed'; readonly error: SerializedError }
  | { readonly type: 'replies'; readonly replies: readonly Reply[]; readonly stats: StoreStats }
  | { readonly type: 'closed'; readonly error?: SerializedError };

// ---------------------------------------------------------------------------------------------
// Errors across the boundary

/**
 * The error classes that keep their identity across the boundary, most specific first.
 * Callers check these with instanceof (and read `code`, `chain`...). A store error class that
 * callers tell apart must be listed here; any other error arrives as its nearest listed base.
 */
const ERROR_CLASSES = {
  ChainConflictError,
  ReplayedClaimError,
  IdempotencyKeyTakenError,
  OutboxWriteError,
  RelationConflictError,
  InvalidCursorError,
  InvalidDeliveryCursorError,
  CheckpointConflictError,
  ErasureConflictError,
  ChainInUseError,
  SqliteError: Database.SqliteError,
  TypeError,
  RangeError,
  SyntaxError,
  Error,
} as const satisfies Record<string, abstract new (...args: never[]) => Error>;

type ErrorClass = keyof typeof ERROR_CLASSES;

export interface SerializedError {
  readonly class: ErrorClass;
  readonly message: string;
  readonly stack: string | undefined;
  /** Own properties with plain data values (name, code, errno, chain, keys ...). */
  readonly props: Readonly<Record<string, PlainData>>;
  readonly cause?: SerializedError;
}

type PlainData = string | number | boolean | null | readonly PlainData[] | { readonly [key: string]: PlainData };

/** Strings, numbers, booleans, null, and arrays and plain objects of them (a few levels deep). */
function isPlainData(value: unknown, depth: number): value is PlainData {
  if (value === null || typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return true;
  if (depth >= 4 || typeof value !== 'object') return false;
  if (Array.isArray(value)) return value.every((v) => isPlainData(v, depth + 1));
  const proto: unknown = Object.getPrototypeOf(value);
  return (proto === Object.prototype || proto === null) && Object.values(value).every((v) => isPlainData(v, depth + 1));
}

/** Something thrown, as data that survives structured clone. Anything that is not an Error becomes a plain Error. */
export function serializeError(err: unknown, depth = 0): SerializedError {
  if (!(err instanceof Error)) return { class: 'Error', message: `non-error thrown: ${typeof err}`, stack: undefined, props: {} };
  const cls = (Object.keys(ERROR_CLASSES) as ErrorClass[]).find((k) => err instanceof ERROR_CLASSES[k]) ?? 'Error';
  const props: Record<string, PlainData> = {};
  for (const key of Object.getOwnPropertyNames(err)) {
    if (key === 'message' || key === 'stack' || key === 'cause') continue;
    const value = (err as unknown as Record<string, unknown>)[key];
    if (isPlainData(value, 0)) props[key] = value;
  }
  const cause = (err as { cause?: unknown }).cause;
  return {
    class: cls,
    message: err.message,
    stack: err.stack,
    props,
    ...(cause !== undefined && depth < 3 ? { cause: serializeError(cause, depth + 1) } : {}),
  };
}

/**
 * The error again, as an instance of its class (a native error object whose prototype is the
 * class's, with the same own properties; the class's constructor is not run, so that classes
 * that build their message from arguments keep the message they had).
 */
export function reviveError(s: SerializedError): Error {
  const cls = Object.hasOwn(ERROR_CLASSES, s.class) ? ERROR_CLASSES[s.class] : Error;
  const base = cls === TypeError || cls === RangeError || cls === SyntaxError ? cls : Error;
  const err = Reflect.construct<[string], Error>(base, [s.message], cls);
  for (const [key, value] of Object.entries(s.props)) {
    Object.defineProperty(err, key, { value, writable: true, enumerable: true, configurable: true });
  }
  if (s.stack !== undefined) Object.defineProperty(err, 'stack', { value: s.stack, writable: true, enumerable: false, configurable: true });
  if (s.cause !== undefined)
    Object.defineProperty(err, 'cause', { value: reviveError(s.cause), writable: true, enumerable: false, configurable: true });
  return err;
}
