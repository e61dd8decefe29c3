import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { LoadReport, Window } from './load.js';
import { TARGET_LABELS } from './load.js';
import type { ImportReport } from './import.js';
import type { MicroReport } from './micro.js';
import type { BenchOptions, TargetName } from './options.js';
import { round } from './stats.js';

/** What the run was on. */
export interface Machine {
  readonly cpuModel: string;
  readonly cpus: number;
  readonly memoryGb: number;
  readonly os: string;
  readonly node: string;
  readonly postgres: string | null;
  /** 1-minute load average at the start and the end: other work on the machine shows here. */
  readonly loadAverage: { readonly start: number; readonly end: number };
  /** Median µs of a 4 KiB write + fdatasync in the workspace, at the start and the end. */
  readonly fsyncUs: { readonly start: number; readonly end: number };
}

export function machineInfo(postgres: string | null, loadStart: number, fsyncUs: { start: number; end: number }): Machine {
  const cpus = os.cpus();
  return {
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    cpus: cpus.length,
    memoryGb: Math.round(os.totalmem() / 1024 ** 3),
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    postgres,
    loadAverage: { start: round(loadStart), end: round(os.loadavg()[0]!) },
    fsyncUs,
  };
}

export interface Derived {
  /** Per offered rate: the latency each target adds over the provider alone (ms). */
  readonly added: readonly { readonly rate: number; readonly target: TargetName; readonly p50: number; readonly p99: number }[];
  /** Closed-loop throughput relative to the bare proxy. */
  readonly throughputRatio: Partial<Record<TargetName, number>>;
}

export interface Target {
  readonly id: string;
  readonly what: string;
  readonly value: number | null;
  readonly unit: string;
  readonly goal: string;
  readonly met: boolean | null;
  /** How far off, in the value's unit, when missed. */
  readonly missBy: number | null;
}

export interface BenchReport {
  readonly version: 1;
  readonly date: string;
  readonly quick: boolean;
  /** The flags the run was started with (absent in reports written before they were kept). */
  readonly args?: readonly string[];
  readonly durationSeconds: number;
  readonly machine: Machine;
  readonly options: BenchOptions;
  readonly load: LoadReport | null;
  readonly derived: Derived | null;
  readonly micro: MicroReport | null;
  /** The relations import benchmark (absent in reports written before it existed). */
  readonly import?: ImportReport | null;
  readonly targets: readonly Target[];
  readonly notes: readonly string[];
}

/** The command that made the report, as a user would type it. */
function commandLine(report: BenchReport): string {
  const args = report.args ?? (report.quick ? ['--quick'] : []);
  return args.length === 0 ? 'npm run bench' : `npm run bench -- ${args.join(' ')}`;
}

const find = (windows: readonly Window[], target: TargetName, rate?: number): Window | undefined =>
  windows.find((w) => w.target === target && (rate === undefined || w.rate === rate));

export function derive(load: LoadReport): Derived {
  const added: Derived['added'][number][] = [];
  const rates = [...new Set(load.open.map((w) => w.rate!))];
  for (const rate of rates) {
    const a = find(load.open, 'direct', rate);
    if (!a) continue;
    for (const t of ['proxy', 'sqlite', 'postgres'] as const) {
      const w = find(load.open, t, rate);
      if (w) added.push({ rate, target: t, p50: round(w.latencyMs.p50 - a.latencyMs.p50), p99: round(w.latencyMs.p99 - a.latencyMs.p99) });
    }
  }
  const throughputRatio: Partial<Record<TargetName, number>> = {};
  const b = find(load.closed, 'proxy');
  if (b && b.throughput > 0) {
    for (const t of load.targets) {
      const w = find(load.closed, t);
      if (w) throughputRatio[t] = round(w.throughput / b.throughput);
    }
  }
  return { added, throughputRatio };
}

function target(
  id: string,
  what: string,
  value: number | null | undefined,
  unit: string,
  goal: string,
  atMost: boolean,
  limit: number,
): Target {
  if (value === null || value === undefined || !Number.isFinite(value))
    return { id, what, value: null, unit, goal, met: null, missBy: null };
  const met = atMost ? value <= limit : value >= limit;
  return { id, what, value: round(value), unit, goal, met, missBy: met ? null : round(Math.abs(value - limit)) };
}

export function evaluateTargets(
  load: LoadReport | null,
  derived: Derived | null,
  micro: MicroReport | null,
  imported: ImportReport | null = null,
): Target[] {
  const out: Target[] = [];
  if (load && derived) {
    const added = (t: TargetName, rate: number): number | undefined => derived.added.find((x) => x.target === t && x.rate === rate)?.p99;
    const errorsAt = (t: TargetName, rate: number): number | undefined => find(load.open, t, rate)?.errors;
    if (load.targets.includes('sqlite')) {
      out.push(
        target(
          'sqlite-throughput',
          'SQLite: closed-loop throughput, gateway / bare proxy (c/b)',
          derived.throughputRatio.sqlite,
          '×',
          '≥ 0.5',
          false,
          0.5,
        ),
      );
      out.push(target('sqlite-added-p99', 'SQLite: added p99 latency at 500 rps (c−a)', added('sqlite', 500), 'ms', '≤ 5 ms', true, 5));
      out.push(target('sqlite-errors-1000', 'SQLite: errors at 1,000 rps', errorsAt('sqlite', 1000), 'requests', '0', true, 0));
      // No error is only meaningful if the rate was served: a backlog that grows for the whole window shows here.
      const w = find(load.open, 'sqlite', 1000);
      out.push(
        target(
          'sqlite-sustains-1000',
          'SQLite: share of 1,000 rps served (ok/s ÷ offered)',
          w ? w.throughput / 1000 : undefined,
          '×',
          '≥ 0.97',
          false,
          0.97,
        ),
      );
    }
    if (load.targets.includes('postgres')) {
      out.push(
        target(
          'postgres-throughput',
          'PostgreSQL: closed-loop throughput, gateway / bare proxy (d/b)',
          derived.throughputRatio.postgres,
          '×',
          '≥ 0.4',
          false,
          0.4,
        ),
      );
      out.push(
        target('postgres-added-p99', 'PostgreSQL: added p99 latency at 500 rps (d−a)', added('postgres', 500), 'ms', '≤ 8 ms', true, 8),
      );
    }
  }
  if (micro) {
    out.push(
      target(
        'token-verify',
        'Token verification (verifyRequestToken without the replay claim) / crypto.verify ES256, mean',
        micro.token.ratio,
        '×',
        '≤ 1.5×',
        true,
        1.5,
      ),
    );
    out.push(target('schema-validate', 'Request schema validation, p99', micro.schema.validateRequestUs.p99, 'µs', '≤ 20 µs', true, 20));
    for (const p of micro.policy)
      out.push(
        target(
          `policy-${p.policies}`,
          `Policy evaluation with ${p.policies.toLocaleString('en')} policies, p99`,
          p.decideUs.p99,
          'µs',
          '≤ 50 µs',
          true,
          50,
        ),
      );
    const small = micro.policy[0];
    const large = micro.policy[micro.policy.length - 1];
    if (small && large)
      out.push(
        target(
          'policy-flat',
          `Policy evaluation flat: p50 at ${large.policies.toLocaleString('en')} / p50 at ${small.policies} policies`,
          large.decideUs.p50 / small.decideUs.p50,
          '×',
          '≤ 1.5× (flat)',
          true,
          1.5,
        ),
      );
    for (const a of micro.append.filter((x) => x.concurrency === 256))
      out.push(
        target(
          `append-${a.store}`,
          `Durable audit append with group commit, ${a.store}, ${a.concurrency} writers`,
          a.recordsPerSecond,
          'records/s',
          '≥ 10,000/s',
          false,
          10_000,
        ),
      );
    // The relation check against the gateway's own median, at the lowest rate measured on that store.
    for (const r of micro.relation ?? []) {
      const windows = (load?.open ?? []).filter((w) => w.target === r.store).sort((x, y) => (x.rate ?? 0) - (y.rate ?? 0));
      const median = windows[0]?.latencyMs.p50;
      out.push(
        target(
          `relation-check-${r.store}`,
          `Need-to-know read (one indexed RelationStore.active), ${r.store}, p50, share of the gateway's query p50 at ${windows[0]?.rate ?? '?'} rps`,
          median === undefined || median <= 0 ? undefined : (r.activeUs.p50 / 1000 / median) * 100,
          '%',
          '≤ 5 %',
          true,
          5,
        ),
      );
    }
    for (const s of micro.search)
      out.push(
        target(
          `search-${s.store}-${s.records}`,
          `Audit search by citizen, ${s.store}, ${s.records.toLocaleString('en')} records, p99`,
          s.byCitizenMs.p99,
          'ms',
          '≤ 50 ms',
          true,
          50,
        ),
      );
    for (const v of micro.verify)
      out.push(
        target(
          `verify-${v.store}`,
          `Chain verification (verifyChain), ${v.store}`,
          v.recordsPerSecond,
          'records/s',
          '≥ 300,000/s',
          false,
          300_000,
        ),
      );
  }
  if (imported) {
    // The target is for 100,000 rows; a run of another size is scaled to it (the import's time grows with its rows).
    for (const r of imported.runs.filter((x) => x.pass === 'first'))
      out.push(
        target(
          `import-${r.store}`,
          `Relations import, first load of 100,000 rows (\`snitflade relations import\`), ${r.store}${r.rows === 100_000 ? '' : ` (${r.rows} rows, scaled)`}`,
          (r.seconds * 100_000) / Math.max(r.rows, 1),
          's',
          '< 60 s',
          true,
          60,
        ),
      );
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Text

const f = (n: number | null | undefined, d = 2): string => (n === null || n === undefined || !Number.isFinite(n) ? '—' : n.toFixed(d));
const pct = (n: number): string => `${Math.round(n * 100)}%`;

function windowRow(w: Window): string[] {
  return [
    TARGET_LABELS[w.target as TargetName],
    w.rate !== null ? String(w.rate) : `closed ×${w.concurrency}`,
    f(w.throughput, 0),
    f(w.latencyMs.p50),
    f(w.latencyMs.p90),
    f(w.latencyMs.p99),
    f(w.latencyMs.max, 1),
    String(w.errors),
    pct(w.targetCpu),
    f(w.targetRssMb, 0),
    w.targetLoopDelayMs ? `${f(w.targetLoopDelayMs.p99, 1)} / ${f(w.targetLoopDelayMs.max, 0)}` : '—',
    w.databaseCpu !== null ? pct(w.databaseCpu) : '—',
    pct(w.providerCpu),
    pct(w.loadgenCpu),
  ];
}

const WINDOW_HEAD = [
  'target',
  'offered rps',
  'ok/s',
  'p50 ms',
  'p90 ms',
  'p99 ms',
  'max ms',
  'errors',
  'target CPU',
  'RSS MB',
  'loop delay p99/max ms',
  'DB CPU',
  'provider CPU',
  'loadgen CPU',
];

function markdownTable(head: readonly string[], rows: readonly (readonly string[])[]): string {
  const line = (cells: readonly string[]): string => `| ${cells.join(' | ')} |`;
  return [line(head), line(head.map(() => '---')), ...rows.map(line)].join('\n');
}

function plainTable(head: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

function targetRows(targets: readonly Target[]): string[][] {
  return targets.map((t) => [
    t.what,
    t.value === null ? '—' : `${t.value} ${t.unit}`,
    t.goal,
    t.met === null ? 'not measured' : t.met ? 'met' : `missed by ${t.missBy} ${t.unit}`,
  ]);
}

const IMPORT_HEAD = ['import', 'pass', 'rows', 'wall s', 'import s', 'rows/s', 'added', 'unchanged', 'refused'];

function importRows(r: ImportReport): string[][] {
  return r.runs.map((x) => [
    x.store,
    x.pass === 'first' ? 'first load' : 'same file again',
    String(x.rows),
    f(x.seconds, 1),
    f(x.importSeconds, 1),
    String(x.rowsPerSecond),
    String(x.counts.added ?? 0),
    String(x.counts.unchanged ?? 0),
    String(x.counts.refused ?? 0),
  ]);
}

/** The console summary: the load table, the derived ratios and every target. */
export function printable(report: BenchReport): string {
  const parts: string[] = [];
  if (report.load) {
    parts.push(plainTable(WINDOW_HEAD, [...report.load.open, ...report.load.closed].map(windowRow)));
    if (report.derived) {
      const rows = report.derived.added.map((a) => [`${TARGET_LABELS[a.target]} − (a)`, String(a.rate), f(a.p50), f(a.p99)]);
      parts.push(plainTable(['added latency', 'rps', 'p50 ms', 'p99 ms'], rows));
      parts.push(
        `throughput / bare proxy (closed loop): ${Object.entries(report.derived.throughputRatio)
          .map(([k, v]) => `${k} ${f(v)}`)
          .join(', ')}`,
      );
    }
  }
  if (report.import) parts.push(plainTable(IMPORT_HEAD, importRows(report.import)));
  parts.push(plainTable(['target', 'value', 'goal', 'result'], targetRows(report.targets)));
  return parts.join('\n\n');
}

export function markdown(report: BenchReport): string {
  const m = report.machine;
  const out: string[] = [];
  out.push(`# Snitflade benchmark, ${report.date}${report.quick ? ' (quick smoke run)' : ''}`);
  out.push('');
  out.push(
    `Machine: ${m.cpuModel}, ${m.cpus} cores, ${m.memoryGb} GB RAM, ${m.os}; Node ${m.node}; ${m.postgres ?? 'PostgreSQL not used'}. ` +
      `1-minute load average ${m.loadAverage.start} at the start and ${m.loadAverage.end} at the end (other work on the machine shares its cores); ` +
      `a 4 KiB write + fdatasync took ${m.fsyncUs.start} µs (median) at the start and ${m.fsyncUs.end} µs at the end. ` +
      `The run took ${Math.round(report.durationSeconds)} s. Command: \`${commandLine(report)}\`.`,
  );
  out.push('');
  if (!report.load) {
    const ran = [report.micro ? 'micro-benchmarks' : '', report.import ? 'the relations import' : ''].filter((x) => x !== '').join(' and ');
    out.push(`${ran.charAt(0).toUpperCase()}${ran.slice(1)} only: no load run (the targets a-d were not started).`);
  } else
    out.push(
      'Everything runs on this one machine: the simulated provider (`bif-jobcentre-system`), the target under test in a process of its own, the load generator in another, and PostgreSQL. ' +
        'Targets: (a) the provider directly over mutual TLS, the floor; (b) a bare Node mutual-TLS reverse proxy (keep-alive both sides, no checks); (c) the full gateway on SQLite; (d) the full gateway on PostgreSQL (a fresh database, dropped after). ' +
        'Every request carries its own token, signed before the timed window, for a synthetic citizen; open-loop latency runs from the intended send time (coordinated omission corrected). ' +
        `Windows: ${report.options.durationSeconds} s per rate after ${report.options.warmupSeconds} s of warm-up; closed loop ${report.options.closedSeconds} s with ${report.options.concurrency} requests in flight. ` +
        'CPU columns are shares of one core during the window: the measured process (the provider itself for (a)), the PostgreSQL backends serving (d), the simulated provider, and the load generator; the machine has ' +
        `${m.cpus} cores in all. ` +
        'Loop delay is the event-loop delay of the measured process (p99 and max during the window, from perf_hooks.monitorEventLoopDelay sampling every 5 ms; the figure includes that interval, so an idle loop shows 5-6 ms): time in which it could not start on anything, e.g. blocked in a synchronous fsync or a long loop.',
    );
  if (report.load) {
    out.push('');
    out.push('## Load');
    out.push('');
    out.push(markdownTable(WINDOW_HEAD, [...report.load.open, ...report.load.closed].map(windowRow)));
    out.push('');
    out.push('![p99 latency against offered rate](' + `${report.date}${report.quick ? '-quick' : ''}.svg` + ')');
    if (report.derived) {
      out.push('');
      out.push('Latency added over the provider alone:');
      out.push('');
      out.push(
        markdownTable(
          ['target', 'rps', 'added p50 ms', 'added p99 ms'],
          report.derived.added.map((a) => [TARGET_LABELS[a.target], String(a.rate), f(a.p50), f(a.p99)]),
        ),
      );
      out.push('');
      out.push(
        `Closed-loop throughput relative to the bare proxy: ${Object.entries(report.derived.throughputRatio)
          .map(([k, v]) => `${TARGET_LABELS[k as TargetName]} ${f(v)}`)
          .join('; ')}.`,
      );
    }
    const failures = [...report.load.open, ...report.load.closed].filter((w) => w.errors > 0);
    if (failures.length > 0) {
      out.push('');
      out.push(
        'Errors seen: ' +
          failures
            .map(
              (w) =>
                `${TARGET_LABELS[w.target as TargetName]} at ${w.rate ?? 'closed loop'}: ${Object.entries(w.statuses)
                  .filter(([k]) => k !== '200')
                  .map(([k, v]) => `${v}× ${k}`)
                  .join(', ')} (${w.errorSamples.join('; ')})`,
            )
            .join('. ') +
          '.',
      );
    }
  }
  if (report.micro) {
    const mi = report.micro;
    out.push('');
    out.push('## Micro-benchmarks');
    out.push('');
    const us = (s: { p50: number; p99: number; mean: number }): string[] => [f(s.mean, 1), f(s.p50, 1), f(s.p99, 1)];
    out.push(
      markdownTable(
        ['what', 'mean µs', 'p50 µs', 'p99 µs'],
        [
          ['verifyRequestToken, without the replay claim (ES256)', ...us(mi.token.verifyRequestTokenUs)],
          ['crypto.verify, ES256 (Node, the yardstick)', ...us(mi.token.cryptoVerifyUs)],
          ['request schema validation (ajv, validateRequest)', ...us(mi.schema.validateRequestUs)],
          ['contract step (decode, strict JSON parse, validate)', ...us(mi.schema.checkContractUs)],
          ...mi.policy.map((p) => [
            `policy evaluation, ${p.policies.toLocaleString('en')} policies (set built in ${p.buildMs} ms)`,
            ...us(p.decideUs),
          ]),
          ['minimisation (response schema, field intersection)', ...us(mi.minimise.us)],
          ...(mi.relation ?? []).map((r) => [
            `need-to-know read, ${r.store} (RelationStore.active, ${r.relations.toLocaleString('en')} relations)`,
            ...us(r.activeUs),
          ]),
        ],
      ),
    );
    out.push('');
    out.push(
      markdownTable(
        ['durable audit append (group commit)', 'writers', 'records/s', 'records per commit', 'append p50 ms', 'append p99 ms'],
        mi.append.map((a) => [
          a.store,
          String(a.concurrency),
          String(a.recordsPerSecond),
          f(a.meanBatch, 1),
          f(a.appendLatencyMs.p50),
          f(a.appendLatencyMs.p99),
        ]),
      ),
    );
    out.push('');
    out.push(
      markdownTable(
        ['audit search by citizen (page of 100)', 'records', 'citizens', 'p50 ms', 'p99 ms', 'max ms', 'busiest citizen p99 ms', 'load s'],
        mi.search.map((s) => [
          s.store,
          s.records.toLocaleString('en'),
          s.citizens.toLocaleString('en'),
          f(s.byCitizenMs.p50),
          f(s.byCitizenMs.p99),
          f(s.byCitizenMs.max),
          f(s.busiestCitizenMs.p99),
          f(s.loadSeconds, 0),
        ]),
      ),
    );
    out.push('');
    out.push(
      markdownTable(
        ['chain verification', 'records', 'seconds', 'records/s', 'ok'],
        mi.verify.map((v) => [
          v.store,
          v.records.toLocaleString('en'),
          f(v.seconds),
          v.recordsPerSecond.toLocaleString('en'),
          String(v.ok),
        ]),
      ),
    );
  }
  if (report.import) {
    out.push('');
    out.push('## Relations import');
    out.push('');
    out.push(
      `\`snitflade relations import\` (the built command, a process of its own) on a synthetic file of ${report.import.rows} rows of one administration, ` +
        'on a fresh store: the first load (every row added with its audit record), then the same file again (every row unchanged). ' +
        '"wall s" runs from the process start to its exit; "import s" is the import alone, without loading the rules and opening the store.',
    );
    out.push('');
    out.push(markdownTable(IMPORT_HEAD, importRows(report.import)));
  }
  out.push('');
  out.push('## Targets');
  out.push('');
  out.push(markdownTable(['target', 'value', 'goal', 'result'], targetRows(report.targets)));
  const notes = [...report.notes, ...(report.micro?.notes ?? [])];
  if (notes.length > 0) {
    out.push('');
    out.push('## Notes');
    out.push('');
    for (const n of notes) out.push(`- ${n}`);
  }
  out.push('');
  return out.join('\n');
}

// ---------------------------------------------------------------------------------------------
// Chart

const COLOURS: Readonly<Record<TargetName, string>> = { direct: '#1b7837', proxy: '#2166ac', sqlite: '#d6604d', postgres: '#762a83' };

/** p99 latency against offered rate for every target: a hand-written SVG, log scale in ms. */
export function chart(report: BenchReport): string {
  const W = 720;
  const H = 420;
  const left = 70;
  const right = 190;
  const top = 40;
  const bottom = 60;
  const windows = report.load?.open ?? [];
  const rates = [...new Set(windows.map((w) => w.rate!))].sort((a, b) => a - b);
  const values = windows.map((w) => Math.max(0.1, w.latencyMs.p99));
  const lo = Math.pow(10, Math.floor(Math.log10(Math.min(1, ...values))));
  const hi = Math.pow(10, Math.ceil(Math.log10(Math.max(10, ...values))));
  const x = (rate: number): number => left + (rates.length <= 1 ? 0 : (rates.indexOf(rate) / (rates.length - 1)) * (W - left - right));
  const y = (ms: number): number =>
    top + (1 - (Math.log10(Math.max(lo, ms)) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo))) * (H - top - bottom);
  const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  const parts: string[] = [];
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="Helvetica, Arial, sans-serif" font-size="12">`,
  );
  parts.push(`<rect width="${W}" height="${H}" fill="#ffffff"/>`);
  parts.push(
    `<text x="${left}" y="22" font-size="15" font-weight="bold">p99 latency against offered rate (open loop), ${esc(report.date)}</text>`,
  );
  for (let d = lo; d <= hi; d *= 10) {
    const yy = y(d);
    parts.push(`<line x1="${left}" y1="${yy}" x2="${W - right}" y2="${yy}" stroke="#dddddd"/>`);
    parts.push(`<text x="${left - 8}" y="${yy + 4}" text-anchor="end">${d >= 1 ? d : d.toFixed(1)} ms</text>`);
  }
  for (const r of rates) {
    parts.push(`<line x1="${x(r)}" y1="${top}" x2="${x(r)}" y2="${H - bottom}" stroke="#eeeeee"/>`);
    parts.push(`<text x="${x(r)}" y="${H - bottom + 18}" text-anchor="middle">${r}</text>`);
  }
  parts.push(`<text x="${(left + W - right) / 2}" y="${H - 18}" text-anchor="middle">offered rate, requests per second</text>`);
  parts.push(`<line x1="${left}" y1="${H - bottom}" x2="${W - right}" y2="${H - bottom}" stroke="#333333"/>`);
  parts.push(`<line x1="${left}" y1="${top}" x2="${left}" y2="${H - bottom}" stroke="#333333"/>`);
  (report.load?.targets ?? []).forEach((t, i) => {
    const pts = rates.map((r) => find(windows, t, r)).filter((w): w is Window => w !== undefined);
    if (pts.length === 0) return;
    const colour = COLOURS[t];
    parts.push(
      `<polyline fill="none" stroke="${colour}" stroke-width="2" points="${pts.map((w) => `${x(w.rate!).toFixed(1)},${y(w.latencyMs.p99).toFixed(1)}`).join(' ')}"/>`,
    );
    for (const w of pts) {
      parts.push(
        `<circle cx="${x(w.rate!).toFixed(1)}" cy="${y(w.latencyMs.p99).toFixed(1)}" r="3.5" fill="${colour}"><title>${esc(`${TARGET_LABELS[t]} at ${w.rate} rps: p99 ${w.latencyMs.p99} ms, ${w.errors} errors`)}</title></circle>`,
      );
    }
    const ly = top + 10 + i * 20;
    parts.push(`<line x1="${W - right + 15}" y1="${ly}" x2="${W - right + 35}" y2="${ly}" stroke="${colour}" stroke-width="2"/>`);
    parts.push(`<text x="${W - right + 40}" y="${ly + 4}">${esc(TARGET_LABELS[t])}</text>`);
  });
  parts.push('</svg>');
  return parts.join('\n') + '\n';
}

/** Writes <date>.json, .md and .svg (with "-quick" for a smoke run); returns the paths. */
export function writeReport(report: BenchReport, dir: string): string[] {
  mkdirSync(dir, { recursive: true });
  const base = path.join(dir, `${report.date}${report.quick ? '-quick' : ''}`);
  const files = [`${base}.json`, `${base}.md`];
  writeFileSync(files[0]!, JSON.stringify(report, null, 2) + '\n');
  writeFileSync(files[1]!, markdown(report));
  if (report.load) {
    files.push(`${base}.svg`);
    writeFileSync(files[2]!, chart(report));
  }
  return files;
}
