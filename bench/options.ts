/**
 * The benchmark's settings: defaults sized for the 15-minute budget on a 2-core machine,
 * overridden by environment variables (BENCH_*), then by command-line flags.
 *
 *   npm run bench                       everything: load (a-d) and micro-benchmarks
 *   npm run bench -- --quick            a smoke run (short windows, small data sets)
 *   npm run bench -- --micro            only the micro-benchmarks
 *   npm run bench -- --load             only the load runs
 *   npm run bench -- --import           only the relations import (100,000 rows, each store)
 *   npm run bench -- --search-10m       also the 10,000,000-record audit search step (long)
 *   npm run bench -- --help
 */

export const TARGETS = ['direct', 'proxy', 'sqlite', 'postgres'] as const;
export type TargetName = (typeof TARGETS)[number];

export interface BenchOptions {
  readonly quick: boolean;
  readonly load: boolean;
  readonly micro: boolean;
  /** The relations import benchmark (`snitflade relations import` on a synthetic file, each store). */
  readonly import: boolean;
  /** Rows of the synthetic import file. */
  readonly importRows: number;
  /** The import's --in-flight (undefined: its default). */
  readonly importInFlight: number | undefined;
  readonly targets: readonly TargetName[];
  /** Offered rates of the open-loop windows, requests per second. */
  readonly rates: readonly number[];
  /** Seconds per measured open-loop window. */
  readonly durationSeconds: number;
  /** Seconds of warm-up at the same rate before each window (not measured). */
  readonly warmupSeconds: number;
  /** Seconds of the closed-loop (maximum throughput) window. */
  readonly closedSeconds: number;
  /** Requests in flight in the closed-loop run. */
  readonly concurrency: number;
  /** Keep-alive connections the load generator may open to a target. */
  readonly connections: number;
  /** Most tokens minted for a closed-loop window, per second of it (the run ends early if they run out). */
  readonly closedTokensPerSecond: number;
  /** Audit records for the search benchmark. */
  readonly searchRecords: number;
  /** Also grow the trail to 10,000,000 records and search again. */
  readonly search10m: boolean;
  /** Records verified for the verification speed (the tail of the bulk-loaded chain). */
  readonly verifyRecords: number;
  /** Seconds of each durable-append run. */
  readonly appendSeconds: number;
  /** Where bench/results/*.json, .md and .svg are written. */
  readonly outDir: string;
  /** PostgreSQL server for targets and micro-benchmarks (a fresh database is created and dropped). */
  readonly postgresUrl: string;
  readonly postgres: boolean;
  /** Re-render the report files from this results JSON (targets recomputed) instead of running. */
  readonly render: string | undefined;
}

const HELP = `npm run bench [-- flags]

  --quick                 smoke run: 3 s windows, rates 200,500, small data sets
  --micro                 only the micro-benchmarks
  --load                  only the load runs (a-d)
  --import                only the relations import benchmark
  --import-rows=N         rows of the synthetic import file (BENCH_IMPORT_ROWS, default 100000)
  --import-in-flight=N    the import's --in-flight (BENCH_IMPORT_IN_FLIGHT, default: the tool's)
  --targets=a,b           of direct,proxy,sqlite,postgres (default all)
  --rates=200,500,...     open-loop rates in requests/s (BENCH_RATES)
  --duration=S            seconds per open-loop window (BENCH_DURATION, default 10)
  --warmup=S              warm-up seconds before each window (BENCH_WARMUP, default 2)
  --closed=S              seconds of the closed-loop run (BENCH_CLOSED, default 10)
  --concurrency=N         requests in flight in the closed-loop run (BENCH_CONCURRENCY, default 64)
  --connections=N         keep-alive connections of the load generator (BENCH_CONNECTIONS, default 64)
  --search-records=N      audit records for the search benchmark (BENCH_SEARCH_RECORDS, default 1000000)
  --search-10m            also grow the trail to 10,000,000 records (adds 35 minutes or more)
  --verify-records=N      records verified for the verification speed (default 250000)
  --append-seconds=S      seconds of each durable-append run (default 5)
  --no-postgres           leave out PostgreSQL (target d and the PostgreSQL micro-benchmarks)
  --pg=URL                PostgreSQL admin URL (BENCH_PG_URL, default postgres://postgres@127.0.0.1:5432/postgres)
  --out=DIR               results folder (default bench/results)
  --render=FILE.json      write the .md and .svg (and the targets) again from a results file, without running
`;

function num(name: string, raw: string | undefined, fallback: number, min: number, max: number): number {
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < min || n > max) throw new TypeError(`bench: ${name} must be a number from ${min} to ${max}, got "${raw}"`);
  return n;
}

function list(name: string, raw: string | undefined, fallback: readonly number[]): number[] {
  if (raw === undefined || raw === '') return [...fallback];
  const values = raw.split(',').map((s) => num(name, s.trim(), 0, 1, 100_000));
  if (values.length === 0) throw new TypeError(`bench: ${name} is empty`);
  return values.sort((a, b) => a - b);
}

/** Parses flags and BENCH_* variables; prints help and exits on --help. */
export function parseOptions(argv: readonly string[], env: NodeJS.ProcessEnv, root: string): BenchOptions {
  const flags = new Map<string, string>();
  for (const arg of argv) {
    const m = /^--([a-z0-9-]+)(?:=(.*))?$/.exec(arg);
    if (!m) throw new TypeError(`bench: unknown argument "${arg}"; see --help`);
    flags.set(m[1]!, m[2] ?? 'true');
  }
  const known = new Set([
    'quick',
    'micro',
    'load',
    'import',
    'import-rows',
    'import-in-flight',
    'targets',
    'rates',
    'duration',
    'warmup',
    'closed',
    'concurrency',
    'connections',
    'search-records',
    'search-10m',
    'verify-records',
    'append-seconds',
    'no-postgres',
    'pg',
    'out',
    'render',
    'help',
  ]);
  for (const k of flags.keys()) if (!known.has(k)) throw new TypeError(`bench: unknown flag --${k}; see --help`);
  if (flags.has('help')) {
    process.stdout.write(HELP);
    process.exit(0);
  }
  const quick = flags.has('quick') || env.BENCH_QUICK === '1';
  const onlyMicro = flags.has('micro');
  const onlyLoad = flags.has('load');
  const onlyImport = flags.has('import');
  const postgres = !flags.has('no-postgres') && env.BENCH_NO_POSTGRES !== '1';
  const get = (flag: string, envName: string): string | undefined => flags.get(flag) ?? env[envName];

  let targets: TargetName[] = [...TARGETS];
  const t = get('targets', 'BENCH_TARGETS');
  if (t !== undefined) {
    targets = t.split(',').map((s) => s.trim()) as TargetName[];
    for (const name of targets)
      if (!(TARGETS as readonly string[]).includes(name))
        throw new TypeError(`bench: unknown target "${name}"; known: ${TARGETS.join(', ')}`);
  }
  if (!postgres) targets = targets.filter((x) => x !== 'postgres');

  return {
    quick,
    load: !onlyMicro && !onlyImport,
    micro: !onlyLoad && !onlyImport,
    import: onlyImport || (!onlyMicro && !onlyLoad),
    importRows: num('import-rows', get('import-rows', 'BENCH_IMPORT_ROWS'), quick ? 10_000 : 100_000, 10, 10_000_000),
    importInFlight:
      get('import-in-flight', 'BENCH_IMPORT_IN_FLIGHT') === undefined
        ? undefined
        : num('import-in-flight', get('import-in-flight', 'BENCH_IMPORT_IN_FLIGHT'), 1000, 1, 100_000),
    targets,
    rates: list('rates', get('rates', 'BENCH_RATES'), quick ? [200, 500] : [200, 500, 1000, 2000]),
    durationSeconds: num('duration', get('duration', 'BENCH_DURATION'), quick ? 3 : 10, 1, 600),
    warmupSeconds: num('warmup', get('warmup', 'BENCH_WARMUP'), quick ? 1 : 2, 0, 120),
    closedSeconds: num('closed', get('closed', 'BENCH_CLOSED'), quick ? 3 : 10, 1, 600),
    concurrency: num('concurrency', get('concurrency', 'BENCH_CONCURRENCY'), 64, 1, 4096),
    connections: num('connections', get('connections', 'BENCH_CONNECTIONS'), 64, 1, 4096),
    closedTokensPerSecond: num('closed tokens', env.BENCH_CLOSED_TOKENS_PER_SECOND, 10_000, 100, 100_000),
    searchRecords: num('search-records', get('search-records', 'BENCH_SEARCH_RECORDS'), quick ? 50_000 : 1_000_000, 1000, 100_000_000),
    search10m: flags.has('search-10m') || env.BENCH_SEARCH_10M === '1',
    verifyRecords: num('verify-records', get('verify-records', 'BENCH_VERIFY_RECORDS'), quick ? 20_000 : 250_000, 1000, 100_000_000),
    appendSeconds: num('append-seconds', get('append-seconds', 'BENCH_APPEND_SECONDS'), quick ? 2 : 5, 1, 600),
    outDir: flags.get('out') ?? env.BENCH_OUT ?? `${root}/bench/results`,
    postgresUrl: get('pg', 'BENCH_PG_URL') ?? 'postgres://postgres@127.0.0.1:5432/postgres',
    postgres,
    render: flags.get('render'),
  };
}
