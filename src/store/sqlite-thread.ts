import { parentPort, workerData } from 'node:worker_threads';
import type { AuditRecord } from '../audit/types.js';
import { rememberCanonical } from './rows.js';
import { openSqliteStore } from './sqlite.js';
import {
  runsInThread,
  serializeError,
  type Call,
  type Reply,
  type Request,
  type Response,
  type ThreadData,
} from './sqlite-thread-protocol.js';
import type { Store } from './types.js';

/**
 * The SQLite store's worker thread (started by sqlite-worker.ts): opens the in-thread store
 * and runs the calls it receives, in the order received. Answers of one turn of this thread's
 * event loop go back in one message, with the store's counters.
 */

if (parentPort === null) throw new Error('sqlite-thread runs only as a worker thread (see sqlite-worker.ts)');
const port = parentPort;
const data = workerData as ThreadData;

/** Posts a message; if some value in it cannot be cloned, answers by answer, each such answer an error. */
function send(message: Response): void {
  try {
    port.postMessage(message);
  } catch (err) {
    if (message.type !== 'replies') throw err;
    for (const reply of message.replies) {
      try {
        port.postMessage({ ...message, replies: [reply] });
      } catch (cloneErr) {
        const error = serializeError(
          new TypeError(`the store's answer cannot be passed back from its thread (${(cloneErr as Error).message})`),
        );
        port.postMessage({ ...message, replies: [{ id: reply.id, ok: false, error }] });
      }
    }
  }
}

/** Ends this thread now, between two statements, so that no statement is cut short (see ThreadData.stopped). */
function abort(): never {
  Atomics.store(data.stopped, 0, 1);
  Atomics.notify(data.stopped, 0);
  process.exit(1);
}

/** The in-thread store, or undefined (and the failure reported) when it cannot be opened. */
async function open(): Promise<Store | undefined> {
  try {
    return await openSqliteStore({ file: data.file, busyTimeoutMs: data.busyTimeoutMs, thread: false });
  } catch (err) {
    send({ type: 'open-failed', error: serializeError(err) });
    port.close(); // nothing else keeps this thread alive: it ends
    return undefined;
  }
}

// An abort is obeyed whenever it arrives, opening included (it arrives only between two statements).
port.on('message', (message: Request) => {
  if (message.type === 'abort') abort();
});

const opened = await open();
if (opened !== undefined) serve(opened);

function serve(store: Store): void {
  const inflight = new Set<Promise<void>>();
  let replies: Reply[] = [];
  let flushScheduled = false;

  function flush(): void {
    flushScheduled = false;
    if (replies.length === 0) return;
    const batch = replies;
    replies = [];
    send({ type: 'replies', replies: batch, stats: store.stats });
  }

  function answer(reply: Reply): void {
    replies.push(reply);
    if (!flushScheduled) {
      flushScheduled = true;
      // After this turn: the answers of the calls that settle in it (a group commit of replay
      // claims settles a whole batch at once) go back together.
      setImmediate(flush);
    }
  }

  function run(call: Call): void {
    let result: Promise<unknown>;
    try {
      if (!runsInThread(call.target, call.method))
        throw new TypeError(`the store thread has no method ${String(call.target)}.${String(call.method)}`);
      const target = (call.target === 'store' ? store : store[call.target]) as unknown as Record<
        string,
        (...args: unknown[]) => Promise<unknown>
      >;
      const args = call.canonical !== undefined ? [recordsOf(call.canonical), ...call.args.slice(1)] : call.args;
      result = Promise.resolve(target[call.method]!.apply(target, args as unknown[]));
    } catch (err) {
      result = Promise.reject(err);
    }
    const settled = result.then(
      (value) => answer({ id: call.id, ok: true, value }),
      (err: unknown) => answer({ id: call.id, ok: false, error: serializeError(err) }),
    );
    inflight.add(settled);
    void settled.finally(() => inflight.delete(settled));
  }

  /** The records of an append, from their canonical texts; each text is remembered for its record. */
  function recordsOf(texts: readonly string[]): AuditRecord[] {
    return texts.map((text) => {
      const record = JSON.parse(text) as AuditRecord;
      rememberCanonical(record, text);
      return record;
    });
  }

  let closing = false;

  async function close(): Promise<void> {
    closing = true;
    while (inflight.size > 0) await Promise.allSettled([...inflight]);
    flush();
    let error: Response | undefined;
    try {
      await store.close();
    } catch (err) {
      error = { type: 'closed', error: serializeError(err) };
    }
    send(error ?? { type: 'closed' });
    port.close();
  }

  port.on('message', (message: Request) => {
    if (closing) return; // the gateway's side sends nothing after 'close' but an abort
    if (message.type === 'calls') for (const call of message.calls) run(call);
    else if (message.type === 'close') void close();
  });
  send({ type: 'ready', stats: store.stats });
}
