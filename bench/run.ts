import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { startSimulator, type Simulator } from '../src/simulators/server.js';
import { runImportBench, type ImportReport } from './import.js';
import { runLoad, type LoadReport } from './load.js';
import { runMicro, type MicroReport } from './micro.js';
import { parseOptions } from './options.js';
import { derive, evaluateTargets, machineInfo, printable, writeReport, type BenchReport } from './report.js';
import { CERTS, GATEWAY_ID, PROVIDER, ROOT, ensureWorkspace, fsyncProbe } from './setup.js';

/**
 * `npm run bench`: the gateway against a bare proxy and the provider alone, in one run, then the
 * micro-benchmarks; prints the table and writes bench/results/<date>.json, .md and .svg.
 * See bench/README.md and `npm run bench -- --help`.
 */

const log = (line: string): void => {
  process.stdout.write(`${line}\n`);
};

async function postgresVersion(url: string): Promise<string | null> {
  const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  try {
    await c.connect();
    const { rows } = await c.query<{ v: string }>("SELECT current_setting('server_version') AS v");
    return `PostgreSQL ${rows[0]?.v ?? '?'}`;
  } finally {
    await c.end().catch(() => undefined);
  }
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2), process.env, ROOT);
  if (options.render !== undefined) {
    const saved = JSON.parse(readFileSync(options.render, 'utf8')) as BenchReport;
    const derived = saved.load ? derive(saved.load) : null;
    const report: BenchReport = { ...saved, derived, targets: evaluateTargets(saved.load, derived, saved.micro, saved.import ?? null) };
    const files = writeReport(report, path.dirname(path.resolve(options.render)));
    log(printable(report));
    log(`wrote ${files.map((f) => f.replace(`${ROOT}/`, '')).join(', ')}`);
    return;
  }
  const started = performance.now();
  const loadStart = os.loadavg()[0]!;
  log(`snitflade bench${options.quick ? ' (quick)' : ''}: ${os.cpus().length} cores, Node ${process.version}`);
  await ensureWorkspace();
  const fsyncStart = fsyncProbe();
  log(`  disk: 4 KiB write + fdatasync ${fsyncStart} µs (median); load average ${loadStart.toFixed(2)}`);
  const pgVersion = options.postgres ? await postgresVersion(options.postgresUrl) : null;

  let load: LoadReport | null = null;
  if (options.load && options.targets.length > 0) {
    log(
      `load: targets ${options.targets.join(', ')}; rates ${options.rates.join(', ')} rps, ${options.durationSeconds} s each after ${options.warmupSeconds} s warm-up; closed loop ${options.closedSeconds} s`,
    );
    let sim: Simulator | undefined;
    try {
      sim = await startSimulator({ system: PROVIDER, port: 0, certsDir: CERTS, gatewayId: GATEWAY_ID });
      log(`  simulated provider ${PROVIDER} on port ${sim.port}`);
      load = await runLoad(options, sim, log);
    } finally {
      await sim?.close();
    }
  }

  let micro: MicroReport | null = null;
  if (options.micro) {
    log('micro-benchmarks');
    micro = await runMicro(options, log);
  }

  let imported: ImportReport | null = null;
  if (options.import) {
    log('relations import');
    imported = await runImportBench(options, log);
  }

  const derived = load ? derive(load) : null;
  const notes: string[] = [];
  if (load && load.targets.length < 4) notes.push(`Only these load targets ran: ${load.targets.join(', ')}.`);
  const report: BenchReport = {
    version: 1,
    date: new Date().toISOString().slice(0, 10),
    quick: options.quick,
    args: process.argv.slice(2),
    durationSeconds: (performance.now() - started) / 1000,
    machine: machineInfo(pgVersion, loadStart, { start: fsyncStart, end: fsyncProbe() }),
    options,
    load,
    derived,
    micro,
    import: imported,
    targets: evaluateTargets(load, derived, micro, imported),
    notes,
  };
  const files = writeReport(report, options.outDir);
  log('');
  log(printable(report));
  log('');
  log(`wrote ${files.map((f) => f.replace(`${ROOT}/`, '')).join(', ')} in ${Math.round(report.durationSeconds)} s`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
