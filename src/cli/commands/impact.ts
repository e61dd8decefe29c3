import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { dayEnd, dayStart } from '../../policy/dates.js';
import type { AuditRecord } from '../../audit/types.js';
import { copenhagenDate } from '../../policy/dates.js';
import { formatImpact, replayDecisions } from '../../policy/impact.js';
import { openStore, type Store } from '../../store/index.js';
import type { AuditStore } from '../../store/types.js';
import { cliConfig, loadContractsAndPolicies, processIO, readClientRoles, reportLoadErrors, type CliIO } from './shared.js';

export interface ImpactOptions {
  /** The changed policies folder (purposes, administrations, policies). */
  readonly policies: string;
  /** The contracts the changed policies refer to; default the configured contracts folder. */
  readonly schemas?: string;
  /** The client registry giving each caller's roles; default the changed folder's, else the configured one. */
  readonly clients?: string;
  /** YYYY-MM-DD (a Copenhagen date, inclusive) or an ISO time. */
  readonly from?: string;
  /** YYYY-MM-DD (a Copenhagen date, inclusive) or an ISO time (exclusive). */
  readonly to?: string;
  /** A SQLite audit store; default the configured store. */
  readonly db?: string;
  /** A PostgreSQL audit store. */
  readonly databaseUrl?: string;
  readonly json?: boolean;
  /** Exit 1 when any decision would change (for CI gates). */
  readonly failOnChange?: boolean;
}

const DATE = /^[0-9]{4}-[0-9]{2}-[0-9]{2}$/;

/** A --from/--to value as an ISO time; a date is a whole Copenhagen day. */
export function periodBound(value: string | undefined, end: boolean): string | undefined {
  if (value === undefined) return undefined;
  if (DATE.test(value)) {
    const ms = end ? dayEnd(value) : dayStart(value);
    if (Number.isNaN(ms)) throw new TypeError(`"${value}" is not a date (YYYY-MM-DD)`);
    return new Date(ms).toISOString();
  }
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) throw new TypeError(`"${value}" is neither a date (YYYY-MM-DD) nor an ISO time`);
  return new Date(ms).toISOString();
}

/**
 * The decision records of a period, page by page from the store's search (newest first): what
 * the replay (src/policy/impact.ts) is given. `from` is inclusive, `to` exclusive (ISO times).
 */
export async function* decisionRecords(
  store: Pick<AuditStore, 'search'>,
  period: { readonly from?: string; readonly to?: string },
): AsyncGenerator<AuditRecord> {
  let after: string | undefined;
  for (;;) {
    const page = await store.search({
      kind: 'decision',
      limit: 500,
      ...(period.from !== undefined ? { from: period.from } : {}),
      ...(period.to !== undefined ? { to: period.to } : {}),
      ...(after !== undefined ? { after } : {}),
    });
    yield* page.records;
    if (page.next === undefined) return;
    after = page.next;
  }
}

/**
 * `snitflade impact`: replays the decisions recorded in the audit trail over a period against a
 * changed policy set and lists exactly the decisions that would now differ. Reads the trail
 * only; nothing is written to it.
 */
export async function runImpact(o: ImpactOptions, io: CliIO = processIO): Promise<number> {
  const config = cliConfig();
  let from: string | undefined;
  let to: string | undefined;
  try {
    from = periodBound(o.from, false);
    to = periodBound(o.to, true);
  } catch (err) {
    io.stderr.write(`✘ ${(err as Error).message}\n`);
    return 2;
  }
  const policiesDir = path.resolve(o.policies);
  const clientsFile = path.resolve(
    o.clients ??
      (existsSync(path.join(policiesDir, 'clients.yaml'))
        ? path.join(policiesDir, 'clients.yaml')
        : path.join(config.paths.policies, 'clients.yaml')),
  );
  let loaded;
  let clients;
  try {
    loaded = loadContractsAndPolicies({ schemas: path.resolve(o.schemas ?? config.paths.schemas), policies: policiesDir });
    clients = readClientRoles(clientsFile);
  } catch (err) {
    return reportLoadErrors(io, err);
  }
  let store: Store;
  if (o.databaseUrl !== undefined) {
    store = await openStore({ kind: 'postgres', url: o.databaseUrl });
  } else {
    const file = o.db !== undefined ? path.resolve(o.db) : config.store.kind === 'sqlite' ? config.store.file : undefined;
    if (file === undefined) {
      store = await openStore({ kind: 'postgres', url: (config.store as { url: string }).url });
    } else if (!existsSync(file)) {
      io.stderr.write(`✘ no audit store at ${file}; name one with --db <file> or --database-url <url>\n`);
      return 2;
    } else {
      store = await openStore({ kind: 'sqlite', file });
    }
  }
  try {
    const report = await replayDecisions({
      records: decisionRecords(store.audit, { ...(from !== undefined ? { from } : {}), ...(to !== undefined ? { to } : {}) }),
      policies: loaded.policies,
      contracts: loaded.contracts,
      rolesOf: (system) => clients.get(system)?.roles,
      relations: async (record, administrations) =>
        record.subject === null ? [] : store.relations.active([record.subject], administrations, copenhagenDate(new Date(record.time))),
    });
    const period = { ...(from !== undefined ? { from } : {}), ...(to !== undefined ? { to } : {}) };
    io.stdout.write(o.json ? `${JSON.stringify({ period, ...report }, null, 2)}\n` : formatImpact(report, period));
    return o.failOnChange && report.changes.length > 0 ? 1 : 0;
  } finally {
    await store.close();
  }
}

export function registerImpact(program: Command, io: CliIO = processIO): void {
  program
    .command('impact')
    .description("replay the audit trail's decisions over a period against a changed policy set; list the decisions that would change")
    .requiredOption('--policies <folder>', 'the changed policies folder')
    .option('--schemas <folder>', 'the contracts folder (default: the configured one)')
    .option('--clients <file>', "the client registry giving the callers' roles (default: the changed folder's, else the configured one)")
    .option('--from <date>', 'first day (YYYY-MM-DD, Copenhagen) or ISO time')
    .option('--to <date>', 'last day (YYYY-MM-DD, Copenhagen, inclusive) or ISO time (exclusive)')
    .option('--db <file>', 'the SQLite audit store (default: the configured store)')
    .option('--database-url <url>', 'a PostgreSQL audit store')
    .option('--fail-on-change', 'exit 1 when any decision would change')
    .option('--json', 'print the report as JSON')
    .action(async (o: ImpactOptions) => {
      process.exitCode = await runImpact(o, io);
    });
}
