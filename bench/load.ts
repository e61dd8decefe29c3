import { mkdtempSync, rmSync } from 'node:fs';
import path from 'node:path';
import type { Simulator } from '../src/simulators/server.js';
import { Child, cpuShare, usageNow, type Usage } from './ipc.js';
import type { LoadJob, LoadResult } from './loadgen.js';
import type { BenchOptions, TargetName } from './options.js';
import { postgresBackends, processCpuSeconds } from './procstat.js';
import { PROVIDER_PATH, QUERY_PATH, WORK, createScratchDatabase, type ScratchDatabase } from './setup.js';

/**
 * The load runs, all in one run so that the ratios compare like with like: (a) the provider
 * directly, (b) the bare proxy, (c) the gateway on SQLite, (d) the gateway on PostgreSQL. Every
 * target runs at once (idle ones cost nothing), and the windows are interleaved rate by rate,
 * so a change in the machine's background load hits all four alike.
 */

export const TARGET_LABELS: Readonly<Record<TargetName, string>> = {
  direct: '(a) provider direct',
  proxy: '(b) bare proxy',
  sqlite: '(c) gateway, SQLite',
  postgres: '(d) gateway, PostgreSQL',
};

/** One measured window with what the processes involved used during it. */
export interface Window extends LoadResult {
  /** The measured target's process (the provider for (a)): share of one core, memory in MB. */
  readonly targetCpu: number;
  readonly targetRssMb: number;
  readonly targetMaxRssMb: number;
  /** The simulated provider (and the idle orchestrator it runs in). */
  readonly providerCpu: number;
  readonly loadgenCpu: number;
  /** PostgreSQL backends serving target (d)'s database; null for other targets. */
  readonly databaseCpu: number | null;
  /** Event-loop delay of the target process during the window, ms (null for (a)). */
  readonly targetLoopDelayMs: { readonly p50: number; readonly p99: number; readonly max: number } | null;
  /** Store and trail counters of a gateway target during the window. */
  readonly commits: number | null;
  readonly auditRecords: number | null;
}

export interface LoadReport {
  readonly targets: readonly TargetName[];
  readonly open: readonly Window[];
  readonly closed: readonly Window[];
}

interface Target {
  readonly name: TargetName;
  readonly host: string;
  readonly port: number;
  readonly usage: () => Promise<Usage>;
  readonly jobBase: Pick<LoadJob, 'target' | 'host' | 'port' | 'path' | 'cert' | 'tokens'>;
  stop(): Promise<void>;
}

const MB = 1024 * 1024;

/** BENCH_PROFILE=1: the gateway processes write a V8 CPU profile to bench/results/tmp/profiles/ on exit. */
function profile(): string[] {
  return process.env.BENCH_PROFILE === '1' ? ['--cpu-prof', `--cpu-prof-dir=${path.join(WORK, 'profiles')}`] : [];
}

async function startTarget(
  name: TargetName,
  options: BenchOptions,
  sim: Simulator,
  scratch: { db?: ScratchDatabase; dirs: string[] },
): Promise<Target> {
  const providerUrl = `https://127.0.0.1:${sim.port}`;
  if (name === 'direct') {
    return {
      name,
      host: '127.0.0.1',
      port: sim.port,
      usage: async () => usageNow(),
      jobBase: { target: name, host: '127.0.0.1', port: sim.port, path: PROVIDER_PATH, cert: 'gateway', tokens: 'provider' },
      stop: async () => undefined,
    };
  }
  let child: Child;
  let tokens: LoadJob['tokens'] = 'client';
  let requestPath = QUERY_PATH;
  if (name === 'proxy') {
    child = new Child('proxy', './proxy.js', [], { BENCH_UPSTREAM: providerUrl });
    tokens = 'provider';
    requestPath = PROVIDER_PATH;
  } else if (name === 'sqlite') {
    rmSync(path.join(WORK, 'logs', 'gateway-sqlite.log'), { force: true });
    const dataDir = mkdtempSync(path.join(WORK, 'sqlite-'));
    scratch.dirs.push(dataDir);
    child = new Child(
      'gateway-sqlite',
      './gateway-proc.js',
      [],
      {
        BENCH_STORE: 'sqlite',
        BENCH_DATA_DIR: dataDir,
        BENCH_PROVIDER_URL: sim.url,
        BENCH_LOG_FILE: path.join(WORK, 'logs', 'gateway-sqlite.log'),
      },
      profile(),
    );
  } else {
    rmSync(path.join(WORK, 'logs', 'gateway-postgres.log'), { force: true });
    scratch.db = await createScratchDatabase(options.postgresUrl, 'load');
    child = new Child(
      'gateway-postgres',
      './gateway-proc.js',
      [],
      {
        BENCH_STORE: 'postgres',
        BENCH_DATABASE_URL: scratch.db.url,
        BENCH_PROVIDER_URL: sim.url,
        BENCH_LOG_FILE: path.join(WORK, 'logs', 'gateway-postgres.log'),
      },
      profile(),
    );
  }
  const ready = await child.waitFor<{ port: number }>('ready');
  return {
    name,
    host: '127.0.0.1',
    port: ready.port,
    usage: async () => (await child.request<{ usage: Usage }>({ type: 'usage' })).usage,
    jobBase: { target: name, host: '127.0.0.1', port: ready.port, path: requestPath, cert: 'caller', tokens },
    stop: () => child.stop(),
  };
}

interface Snapshot {
  readonly target: Usage;
  readonly provider: Usage;
  readonly loadgen: number;
  /** CPU seconds of each PostgreSQL backend serving the target's database. */
  readonly db: ReadonlyMap<number, number>;
}

/** Runs one job and measures the processes during its timed window. */
async function measured(loadgen: Child, target: Target, job: LoadJob, database: string | undefined): Promise<Window> {
  const snap = async (): Promise<Snapshot> => {
    const dbPids = database !== undefined ? postgresBackends(database) : [];
    return {
      target: await target.usage(),
      provider: usageNow(),
      loadgen: processCpuSeconds(loadgen.pid),
      db: new Map(dbPids.map((pid) => [pid, processCpuSeconds(pid)])),
    };
  };
  let start: Promise<Snapshot> | undefined;
  let end: Promise<Snapshot> | undefined;
  const off = loadgen.onMessage((msg) => {
    if (msg.type !== 'window') return;
    if (msg.phase === 'start') start = snap();
    else end = snap();
  });
  let result: LoadResult;
  try {
    result = (await loadgen.request<{ result: LoadResult }>({ type: 'run', job })).result;
  } finally {
    off();
  }
  const a = await start;
  const b = await end;
  if (!a || !b) throw new Error(`load generator did not report the window of ${job.target}`);
  const wall = (b.provider.at - a.provider.at) / 1000;
  // Backends that appeared during the window count from zero.
  let dbSeconds = 0;
  for (const [pid, cpu] of b.db) dbSeconds += cpu - (a.db.get(pid) ?? 0);
  const extraA = a.target.extra as { store?: { commits: number; auditRecords: number } } | undefined;
  const extraB = b.target.extra as
    { store?: { commits: number; auditRecords: number }; eventLoop?: { p50: number; p99: number; max: number } } | undefined;
  return {
    ...result,
    targetCpu: cpuShare(a.target, b.target),
    targetRssMb: b.target.rss / MB,
    targetMaxRssMb: b.target.maxRss / MB,
    targetLoopDelayMs: extraB?.eventLoop ?? null,
    providerCpu: cpuShare(a.provider, b.provider),
    loadgenCpu: wall > 0 ? (b.loadgen - a.loadgen) / wall : 0,
    databaseCpu: database !== undefined && wall > 0 ? dbSeconds / wall : null,
    commits: extraA?.store && extraB?.store ? extraB.store.commits - extraA.store.commits : null,
    auditRecords: extraA?.store && extraB?.store ? extraB.store.auditRecords - extraA.store.auditRecords : null,
  };
}

export async function runLoad(options: BenchOptions, sim: Simulator, log: (line: string) => void): Promise<LoadReport> {
  const scratch: { db?: ScratchDatabase; dirs: string[] } = { dirs: [] };
  const targets: Target[] = [];
  const loadgen = new Child('loadgen', './loadgen.js');
  try {
    await loadgen.waitFor('ready');
    for (const name of options.targets) {
      targets.push(await startTarget(name, options, sim, scratch));
      log(`  started ${TARGET_LABELS[name]} on port ${targets[targets.length - 1]!.port}`);
    }
    const job = (t: Target, over: Partial<LoadJob>): LoadJob => ({
      ...t.jobBase,
      mode: 'open',
      rate: 0,
      concurrency: options.concurrency,
      warmupSeconds: options.warmupSeconds,
      durationSeconds: options.durationSeconds,
      connections: options.connections,
      tokensPerSecond: options.closedTokensPerSecond,
      timeoutMs: 10_000,
      ...over,
    });
    const dbName = (t: Target): string | undefined => (t.name === 'postgres' ? scratch.db?.name : undefined);

    // Warm every target up once (JIT, connections on both sides, the stores' first pages).
    for (const t of targets) {
      await loadgen.request({
        type: 'run',
        job: job(t, { mode: 'closed', concurrency: 16, warmupSeconds: 0, durationSeconds: options.quick ? 1 : 3, tokensPerSecond: 2000 }),
      });
    }

    const open: Window[] = [];
    for (const rate of options.rates) {
      for (const t of targets) {
        const w = await measured(loadgen, t, job(t, { mode: 'open', rate }), dbName(t));
        open.push(w);
        log(
          `  ${TARGET_LABELS[t.name].padEnd(26)} ${String(rate).padStart(5)} rps: ${w.throughput.toFixed(0).padStart(5)} ok/s  p50 ${w.latencyMs.p50.toFixed(2)} ms  p99 ${w.latencyMs.p99.toFixed(2)} ms  errors ${w.errors}  cpu ${(w.targetCpu * 100).toFixed(0)}%`,
        );
      }
    }
    const closed: Window[] = [];
    for (const t of targets) {
      const w = await measured(loadgen, t, job(t, { mode: 'closed', durationSeconds: options.closedSeconds }), dbName(t));
      closed.push(w);
      log(
        `  ${TARGET_LABELS[t.name].padEnd(26)} closed loop x${options.concurrency}: ${w.throughput.toFixed(0).padStart(5)} ok/s  p50 ${w.latencyMs.p50.toFixed(2)} ms  p99 ${w.latencyMs.p99.toFixed(2)} ms  errors ${w.errors}${w.tokensExhausted ? ' (tokens ran out: raise BENCH_CLOSED_TOKENS_PER_SECOND)' : ''}`,
      );
    }
    return { targets: options.targets, open, closed };
  } finally {
    await loadgen.stop();
    for (const t of targets) await t.stop().catch(() => undefined);
    if (scratch.db) await scratch.db.drop().catch((err: unknown) => log(`  could not drop ${scratch.db!.name}: ${(err as Error).message}`));
    if (process.env.BENCH_KEEP !== '1') for (const d of scratch.dirs) rmSync(d, { recursive: true, force: true });
  }
}
