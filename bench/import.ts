import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream, mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { isValidCpr } from '../src/lib/cpr.js';
import { copenhagenDate } from '../src/policy/dates.js';
import { addDays } from '../src/relations/register.js';
import type { BenchOptions } from './options.js';
import { CERTS, ROOT, WORK, createScratchDatabase } from './setup.js';

/**
 * The relations import (`snitflade relations import`), as an operator runs it: the built command
 * in a process of its own, on a synthetic CSV file of `importRows` rows (one administration's
 * initial load), against a fresh SQLite data folder and a fresh PostgreSQL database. Timed twice
 * per store: the first load (every row added, each with its audit record) and the same file
 * again (every row unchanged, nothing written but the run's record). Target: 100,000 rows in
 * under 60 s on each store.
 */

const run = promisify(execFile);
const CLI = path.join(ROOT, 'dist', 'src', 'cli', 'snitflade.js');
const CAPACITIES = ['cash-benefit', 'sickness-benefit', 'rehabilitation-case'] as const;

export interface ImportRun {
  readonly store: 'sqlite' | 'postgres';
  readonly pass: 'first' | 'again';
  readonly rows: number;
  /** The command's wall time, process start to exit. */
  readonly seconds: number;
  /** The import's own time (the summary's), without start-up (loading the rules, opening the store). */
  readonly importSeconds: number;
  readonly rowsPerSecond: number;
  readonly counts: Record<string, number>;
}

export interface ImportReport {
  readonly rows: number;
  readonly inFlight: number | undefined;
  readonly runs: readonly ImportRun[];
}

/** The synthetic citizen number of row i: a real date (day 1-28, any month, year 00-99 with 9 as the seventh digit), serial 99NN. */
export function syntheticCpr(i: number): string {
  const date = i % 33_600;
  const dd = String(1 + (date % 28)).padStart(2, '0');
  const mm = String(1 + (Math.floor(date / 28) % 12)).padStart(2, '0');
  const yy = String(Math.floor(date / 336) % 100).padStart(2, '0');
  const cpr = `${dd}${mm}${yy}99${String(Math.floor(i / 33_600) % 100).padStart(2, '0')}`;
  if (!isValidCpr(cpr)) throw new Error(`bench: made an invalid CPR number at ${i}`);
  return cpr;
}

/** Writes the synthetic file: BIF's open cases, started up to 300 days ago, one in ten with a planned end. */
export async function writeImportFile(file: string, rows: number): Promise<void> {
  const today = copenhagenDate(new Date());
  const out = createWriteStream(file);
  const write = async (text: string): Promise<void> => {
    if (!out.write(text)) await once(out, 'drain');
  };
  await write('administration,cpr,capacity,caseRef,caseworker,from,to\n');
  let chunk = '';
  for (let i = 0; i < rows; i++) {
    const to = i % 10 === 0 ? addDays(today, 100 + (i % 50)) : '';
    chunk += `BIF,${syntheticCpr(i)},${CAPACITIES[i % 3]},BIF-${String(i).padStart(7, '0')},bif-cw-${i % 500},${addDays(today, -(i % 300))},${to}\n`;
    if (chunk.length > 64 * 1024) {
      await write(chunk);
      chunk = '';
    }
  }
  await write(chunk);
  out.end();
  await once(out, 'finish');
}

async function timedImport(file: string, env: NodeJS.ProcessEnv, inFlight: number | undefined): Promise<Omit<ImportRun, 'store' | 'pass'>> {
  const started = performance.now();
  const args = [
    CLI,
    'relations',
    'import',
    file,
    '--administration',
    'BIF',
    '--json',
    ...(inFlight !== undefined ? ['--in-flight', String(inFlight)] : []),
  ];
  const r = await run(process.execPath, args, { cwd: ROOT, env, maxBuffer: 64 * 1024 * 1024 }).catch(
    (e: { code?: number; stdout?: string; stderr?: string }) => {
      throw new Error(`bench: relations import exited ${e.code}: ${e.stderr ?? ''}`);
    },
  );
  const seconds = (performance.now() - started) / 1000;
  const summary = JSON.parse(r.stdout) as { rows: number; seconds: number; counts: Record<string, number> };
  return {
    rows: summary.rows,
    seconds,
    importSeconds: summary.seconds,
    rowsPerSecond: Math.round(summary.rows / seconds),
    counts: summary.counts,
  };
}

export async function runImportBench(options: BenchOptions, log: (line: string) => void): Promise<ImportReport> {
  const dir = path.join(WORK, 'import');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, 'relations.csv');
  await writeImportFile(file, options.importRows);
  log(`  import: ${options.importRows} synthetic rows of BIF's cases in ${path.relative(ROOT, file)}`);
  const base: NodeJS.ProcessEnv = {
    ...process.env,
    SNITFLADE_CERTS_DIR: CERTS,
    SNITFLADE_CONFIG: '',
    DATABASE_URL: '',
    SNITFLADE_DATABASE_URL: '',
  };
  const runs: ImportRun[] = [];
  const stores: ('sqlite' | 'postgres')[] = options.postgres ? ['sqlite', 'postgres'] : ['sqlite'];
  for (const store of stores) {
    const scratch = store === 'postgres' ? await createScratchDatabase(options.postgresUrl, 'import') : undefined;
    const data = path.join(dir, `data-${store}`);
    const env = { ...base, SNITFLADE_DATA_DIR: data, ...(scratch !== undefined ? { DATABASE_URL: scratch.url } : {}) };
    try {
      for (const pass of ['first', 'again'] as const) {
        const r = { store, pass, ...(await timedImport(file, env, options.importInFlight)) };
        runs.push(r);
        log(
          `  import ${store} (${pass === 'first' ? 'first load' : 'same file again'}): ${r.rows} rows in ${r.seconds.toFixed(1)} s (${r.importSeconds.toFixed(1)} s importing), ${r.rowsPerSecond} rows/s; ${Object.entries(
            r.counts,
          )
            .map(([k, v]) => `${k} ${v}`)
            .join(', ')}`,
        );
      }
    } finally {
      await scratch?.drop();
      if (process.env.BENCH_KEEP !== '1') rmSync(data, { recursive: true, force: true });
    }
  }
  rmSync(file, { force: true });
  return { rows: options.importRows, inFlight: options.importInFlight, runs };
}
