import { fork, type ChildProcess } from 'node:child_process';
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

/**
 * The benchmark's processes talk over Node's IPC channel: the orchestrator sends
 * { id, type, ... }, the child answers { id, ... } (or { id, error }). A child announces itself
 * with { type: 'ready', ... } once it listens.
 */

export interface Usage {
  /** process.cpuUsage(), µs. */
  readonly userUs: number;
  readonly systemUs: number;
  /** resident set size now, bytes */
  readonly rss: number;
  readonly heapUsed: number;
  /** resourceUsage().maxRSS, bytes */
  readonly maxRss: number;
  readonly voluntarySwitches: number;
  readonly involuntarySwitches: number;
  /** performance.now() of the sample, ms (per process; only differences are meaningful). */
  readonly at: number;
  /** Anything else the process wants to report (store counters, trail stats). */
  readonly extra?: Record<string, unknown>;
}

/**
 * Event-loop delay since the last call (ms), from a histogram the process keeps: a stalled loop
 * (a synchronous fsync, a long hashing loop, a GC pause) delays every request on it.
 */
let loopDelay: IntervalHistogram | undefined;
export function eventLoopDelaySinceLast(): { readonly p50: number; readonly p99: number; readonly max: number } {
  if (loopDelay === undefined) {
    loopDelay = monitorEventLoopDelay({ resolution: 5 });
    loopDelay.enable();
  }
  const out = { p50: loopDelay.percentile(50) / 1e6, p99: loopDelay.percentile(99) / 1e6, max: loopDelay.max / 1e6 };
  loopDelay.reset();
  return out;
}

export function usageNow(extra?: Record<string, unknown>): Usage {
  const cpu = process.cpuUsage();
  const ru = process.resourceUsage();
  const mem = process.memoryUsage();
  return {
    userUs: cpu.user,
    systemUs: cpu.system,
    rss: mem.rss,
    heapUsed: mem.heapUsed,
    maxRss: ru.maxRSS * 1024,
    voluntarySwitches: ru.voluntaryContextSwitches,
    involuntarySwitches: ru.involuntaryContextSwitches,
    at: performance.now(),
    ...(extra !== undefined ? { extra } : {}),
  };
}

/** CPU used between two samples, as a share of one core (1.0 = one core busy all the time). */
export function cpuShare(a: Usage, b: Usage): number {
  const wallUs = (b.at - a.at) * 1000;
  return wallUs <= 0 ? 0 : (b.userUs - a.userUs + b.systemUs - a.systemUs) / wallUs;
}

/** A forked child process of the benchmark with request/answer messaging. */
export class Child {
  readonly name: string;
  readonly process: ChildProcess;
  #next = 1;
  readonly #waiting = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  readonly #listeners = new Set<(msg: Record<string, unknown>) => void>();
  #exited: Promise<number | null>;

  constructor(name: string, module: string, args: readonly string[] = [], env: NodeJS.ProcessEnv = {}, execArgv: readonly string[] = []) {
    this.name = name;
    const file = fileURLToPath(new URL(module, import.meta.url));
    this.process = fork(file, [...args], {
      env: { ...process.env, ...env },
      execArgv: [...process.execArgv, ...execArgv],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      serialization: 'advanced',
    });
    this.process.on('message', (raw) => {
      const msg = raw as Record<string, unknown>;
      const id = msg.id as number | undefined;
      if (id !== undefined && this.#waiting.has(id)) {
        const w = this.#waiting.get(id)!;
        this.#waiting.delete(id);
        if (typeof msg.error === 'string') w.reject(new Error(`${name}: ${msg.error}`));
        else w.resolve(msg);
        return;
      }
      for (const l of this.#listeners) l(msg);
    });
    this.#exited = new Promise((resolve) => {
      this.process.once('exit', (code) => {
        for (const w of this.#waiting.values()) w.reject(new Error(`${name} exited (code ${code ?? 'signal'})`));
        this.#waiting.clear();
        resolve(code);
      });
    });
  }

  get pid(): number {
    return this.process.pid!;
  }

  /** Waits for a message of this type that is not an answer (e.g. 'ready'). */
  waitFor<T>(type: string, timeoutMs = 60_000): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#listeners.delete(listener);
        reject(new Error(`${this.name}: no "${type}" message within ${timeoutMs} ms`));
      }, timeoutMs);
      const listener = (msg: Record<string, unknown>): void => {
        if (msg.type === 'failed') {
          clearTimeout(timer);
          this.#listeners.delete(listener);
          reject(new Error(`${this.name}: ${String(msg.error)}`));
        } else if (msg.type === type) {
          clearTimeout(timer);
          this.#listeners.delete(listener);
          resolve(msg as T);
        }
      };
      this.#listeners.add(listener);
      void this.#exited.then((code) => {
        clearTimeout(timer);
        if (this.#listeners.delete(listener)) reject(new Error(`${this.name} exited (code ${code ?? 'signal'}) before "${type}"`));
      });
    });
  }

  /** Every non-answer message, until the returned function is called. */
  onMessage(listener: (msg: Record<string, unknown>) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  request<T>(message: Record<string, unknown>): Promise<T> {
    const id = this.#next++;
    return new Promise<T>((resolve, reject) => {
      this.#waiting.set(id, { resolve: resolve, reject });
      this.process.send({ ...message, id });
    });
  }

  /** Asks the child to stop ({ type: 'stop' }), and kills it if it has not exited within the grace period. */
  async stop(graceMs = 15_000): Promise<void> {
    if (this.process.exitCode !== null || this.process.signalCode !== null) return;
    try {
      this.process.send({ type: 'stop', id: 0 });
    } catch {
      // channel already closed
    }
    const timer = setTimeout(() => this.process.kill('SIGKILL'), graceMs);
    await this.#exited;
    clearTimeout(timer);
  }

  kill(): void {
    if (this.process.exitCode === null && this.process.signalCode === null) this.process.kill('SIGKILL');
  }
}

/** In a child: answers requests with `handle`; 'stop' calls `stop` then exits. */
export function serveParent(handle: (msg: Record<string, unknown>) => Promise<Record<string, unknown>>, stop: () => Promise<void>): void {
  process.on('message', (raw) => {
    const msg = raw as Record<string, unknown>;
    if (msg.type === 'stop') {
      void stop().finally(() => process.exit(0));
      return;
    }
    handle(msg).then(
      (answer) => process.send?.({ ...answer, id: msg.id }),
      (err: unknown) => process.send?.({ id: msg.id, error: err instanceof Error ? err.message : String(err) }),
    );
  });
  process.on('disconnect', () => {
    void stop().finally(() => process.exit(0));
  });
}

/** In a child: reports a start-up failure to the parent and exits. */
export function failStartup(err: unknown): void {
  const message = err instanceof Error ? err.message : String(err);
  process.send?.({ type: 'failed', error: message }, () => process.exit(1));
  setTimeout(() => process.exit(1), 1000).unref();
}
