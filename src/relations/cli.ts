import { createReadStream } from 'node:fs';
import { access, constants } from 'node:fs/promises';
import { InvalidArgumentError, type Command } from 'commander';
import { openAuditServices, loadPseudonymizer } from '../audit/services.js';
import { AuditTrail } from '../audit/trail.js';
import { loadConfig, type GatewayConfig } from '../config/config.js';
import { ERRORS, GatewayError, isGatewayError } from '../errors.js';
import { redactCpr } from '../lib/cpr.js';
import { projectRoot } from '../lib/root.js';
import { createLogger } from '../log.js';
import { ADMINISTRATION_ID } from '../policy/schemas.js';
import { loadRules } from '../rules/load.js';
import { ChainInUseError } from '../store/audit-checkpoints.js';
import { openConfiguredStore } from '../store/index.js';
import { DEFAULT_BACKDATE_DAYS } from './register.js';
import {
  DEFAULT_IN_FLIGHT,
  DEFAULT_MAX_END,
  IMPORT_COMMIT_RECORDS,
  IMPORT_SYSTEM,
  importRelations,
  type EndLimit,
  type ImportOptions,
  type ImportSummary,
} from './import.js';

/**
 * `snitflade relations import FILE` and `snitflade relations reconcile FILE`: the operator's tools
 * for an administration's initial load and its nightly reconciliation from its case system's
 * export (docs/RELATIONS.md). They open the store, the rules and the pseudonym key the gateway's
 * configuration names, and write through the register's own checks and the audit trail, on a
 * chain of their own (IMPORT_SYSTEM) whose lease lets one run at a time. Progress goes to stderr,
 * the summary to stdout; nothing printed holds a CPR number.
 *
 * Exit codes: 0 every row was imported (added, updated or unchanged) and, reconciling, the
 * relations not listed were ended; 1 the run went through but some rows were refused (listed in
 * the summary); 2 the run did not go through: a bad header, an unreadable file, another run in
 * progress, the store failing part way, or a reconciliation whose ends were withheld.
 */

export interface RelationsCliIO {
  out(text: string): void;
  err(text: string): void;
}

const processIO: RelationsCliIO = {
  out: (t) => void process.stdout.write(t),
  err: (t) => void process.stderr.write(t),
};

/** Every line the tools print goes through the CPR detector: a value that could be one never leaves. */
const safe = (text: string): string => redactCpr(text, '[redacted]');

interface RunOptions {
  readonly administration: string;
  readonly dryRun?: boolean;
  readonly json?: boolean;
  readonly backdateDays?: number;
  readonly inFlight?: number;
  readonly maxEnd?: EndLimit;
  readonly force?: boolean;
  readonly listedAt?: Date;
}

/**
 * Runs an import (or, with `reconcile`, a reconciliation) of `file` against the store the
 * configuration names, and prints its summary; resolves the exit code.
 */
export async function runRelationsImport(
  config: GatewayConfig,
  file: string,
  o: RunOptions,
  reconcile: boolean,
  io: RelationsCliIO = processIO,
): Promise<number> {
  try {
    await access(file, constants.R_OK).catch((cause: unknown) => {
      throw new GatewayError('RELATION_IMPORT_FILE_UNREADABLE', {}, { cause });
    });
    const summary = await withImportTrail(config, o.backdateDays, async (deps) => {
      let last = 0;
      const options: ImportOptions = {
        administration: o.administration,
        dryRun: o.dryRun === true,
        inFlight: o.inFlight ?? DEFAULT_IN_FLIGHT,
        ...(o.backdateDays !== undefined ? { backdateDays: o.backdateDays } : {}),
        ...(reconcile ? { reconcile: { maxEnd: o.maxEnd ?? DEFAULT_MAX_END, force: o.force === true, listedAt: o.listedAt } } : {}),
        onProgress: (p) => {
          if (p.seconds - last < 2) return;
          last = p.seconds;
          const rate = Math.round(p.done / Math.max(p.seconds, 0.001));
          io.err(
            p.phase === 'rows'
              ? `relations ${reconcile ? 'reconcile' : 'import'}: ${p.rowsRead} rows read, ${p.done} done, ${rate} rows/s\n`
              : `relations reconcile: ${p.done} relations ended, ${rate}/s\n`,
          );
        },
      };
      const input = createReadStream(file, { highWaterMark: 256 * 1024 });
      try {
        return await importRelations(deps, input, options);
      } catch (err) {
        if (
          (err as { code?: unknown }).code === 'ENOENT' ||
          (err as { code?: unknown }).code === 'EACCES' ||
          (err as { code?: unknown }).code === 'EISDIR'
        )
          throw new GatewayError('RELATION_IMPORT_FILE_UNREADABLE', {}, { cause: err });
        throw err;
      } finally {
        input.destroy();
      }
    });
    io.out(o.json === true ? `${JSON.stringify(summaryJson(summary), null, 2)}\n` : describe(summary));
    if (summary.stopped !== undefined)
      io.err(safe(problemLine('RELATION_IMPORT_STOPPED', `${summary.stopped.code} at row ${summary.stopped.row}`)));
    if (summary.reconcile?.withheld !== undefined) io.err(safe(problemLine(summary.reconcile.withheld)));
    return summary.stopped !== undefined || summary.reconcile?.withheld !== undefined ? 2 : summary.counts.refused > 0 ? 1 : 0;
  } catch (err) {
    if (!isGatewayError(err)) throw err;
    const details = (err.extras.errors ?? []).map((e) => ` (${e.path}: ${e.message})`).join('');
    io.err(safe(`snitflade: ${err.code}: ${ERRORS[err.code].title}${details}. ${ERRORS[err.code].detail}\n`));
    return 2;
  }
}

function problemLine(code: keyof typeof ERRORS, cause?: string): string {
  return `snitflade: ${code}: ${ERRORS[code].title}${cause === undefined ? '' : ` (${cause})`}. ${ERRORS[code].detail}\n`;
}

/**
 * Opens what an import writes through, as the gateway does (store, rules, pseudonym keys, the
 * audit trail with its checkpoints and SIEM forwarding), on the import's own chain, runs `fn`,
 * then seals the chain (a last checkpoint) and closes everything. Another run holding the chain
 * is RELATION_IMPORT_IN_PROGRESS.
 */
async function withImportTrail<T>(
  config: GatewayConfig,
  backdateDays: number | undefined,
  fn: (deps: Parameters<typeof importRelations>[0]) => Promise<T>,
): Promise<T> {
  const rules = await loadRules(config);
  const pseudonyms = loadPseudonymizer(config);
  const store = await openConfiguredStore(config.store);
  try {
    // The import's own chain, and its own services: no retention job (the gateway runs it), and
    // SIEM forwarding to a file as configured but never to this tool's stdout, which is the summary's.
    const own: GatewayConfig = {
      ...config,
      instanceId: IMPORT_SYSTEM,
      audit: {
        ...config.audit,
        retentionDays: undefined,
        purposeRetention: false,
        siem: config.audit.siem.target === 'stdout' ? { target: 'off' } : config.audit.siem,
      },
    };
    const logger = createLogger({ ...config.log, console: false, service: 'snitflade-relations-import' });
    const services = await openAuditServices({ config: own, store, logger, policies: () => rules.policies }).catch((err: unknown) => {
      if (err instanceof ChainInUseError) throw new GatewayError('RELATION_IMPORT_IN_PROGRESS', {}, { cause: err });
      throw err;
    });
    try {
      const trail = await AuditTrail.open(services.trailStore, {
        chain: IMPORT_SYSTEM,
        lease: services.lease,
        maxBatch: IMPORT_COMMIT_RECORDS,
      });
      services.start(trail);
      try {
        return await fn({
          relations: store.relations,
          trail,
          pseudonyms,
          rules: () => rules,
          limits: { backdateDays: backdateDays ?? config.relations.backdateDays },
        });
      } finally {
        await trail.close();
      }
    } finally {
      await services.stop();
    }
  } finally {
    await store.close();
  }
}

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** The summary as text: counts, the refused rows by row number, what the reconciliation did. */
export function describe(s: ImportSummary): string {
  const lines: string[] = [];
  const what = s.mode === 'import' ? 'import' : 'reconciliation';
  lines.push(
    `relations ${what} for ${s.administration}${s.dryRun ? " (dry run: nothing was written but the run's audit record)" : ''}: ` +
      `${plural(s.rows, 'row')} read in ${s.seconds.toFixed(1)} s`,
  );
  const c = s.counts;
  lines.push(
    `  added ${c.added}, updated ${c.updated}, unchanged ${c.unchanged}, refused ${c.refused}` +
      (s.mode === 'reconcile' ? `, ended ${c.ended}` : ''),
  );
  if (s.reconcile !== undefined) {
    const r = s.reconcile;
    lines.push(
      `  ${s.administration} holds ${plural(r.open, 'relation')} in force or planned; the file leaves out ${r.notListed} (at most ${r.maxEnd} may be ended)`,
    );
    if (r.withheld !== undefined) lines.push(`  none was ended: ${r.withheld} (${ERRORS[r.withheld].title})`);
    for (const n of r.notEnded) lines.push(`  relation ${n.relation} not ended: ${n.code} (${ERRORS[n.code].title})`);
  }
  if (s.refused.length > 0) {
    lines.push('refused rows (row: code: why; nothing changed for them):');
    for (const r of s.refused) lines.push(`  row ${r.row}: ${r.code}: ${r.message}`);
  }
  if (s.stopped !== undefined) lines.push(`stopped at row ${s.stopped.row}: ${s.stopped.code} (${ERRORS[s.stopped.code].title})`);
  lines.push(
    s.auditId !== undefined
      ? `audit record ${s.auditId} (run ${s.runId}, chain ${IMPORT_SYSTEM}; file sha256 ${s.fileDigest})`
      : `the run's audit record could not be written (run ${s.runId})`,
  );
  return safe(`${lines.join('\n')}\n`);
}

function summaryJson(s: ImportSummary): unknown {
  return JSON.parse(safe(JSON.stringify({ ...s, refusedBy: Object.fromEntries(s.refusedBy) })));
}

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError('must be a positive whole number');
  return n;
}

/** `--max-end`: a share such as `10%`, or a number of relations such as `25`. */
export function parseEndLimit(value: string): EndLimit {
  const share = /^([0-9]{1,3}(?:\.[0-9]+)?)%$/.exec(value);
  if (share !== null) {
    const p = Number(share[1]);
    if (p > 100) throw new InvalidArgumentError('a share is at most 100%');
    return { share: p / 100 };
  }
  if (/^[0-9]{1,9}$/.test(value)) return { count: Number(value) };
  throw new InvalidArgumentError('give a share such as 10% or a number of relations such as 25');
}

function instant(value: string): Date {
  const d = new Date(value);
  if (!/^\d{4}-\d{2}-\d{2}T/.test(value) || Number.isNaN(d.getTime()))
    throw new InvalidArgumentError('give an ISO 8601 time, e.g. 2026-03-01T02:00:00+01:00');
  return d;
}

const ADMINISTRATION = new RegExp(ADMINISTRATION_ID);
function administrationId(value: string): string {
  if (!ADMINISTRATION.test(value) || value.length > 8) throw new InvalidArgumentError('an administration id such as BIF or SOF');
  return value;
}

/** Adds `snitflade relations import|reconcile`. */
export function registerRelationsCommands(program: Command, io: RelationsCliIO = processIO): void {
  const config = (): GatewayConfig => loadConfig({ root: projectRoot(), env: process.env });
  const relations = program
    .command('relations')
    .description(
      "the relations register: load and reconcile an administration's relations from its case system's CSV file (docs/RELATIONS.md)",
    );
  const common = (c: Command): Command =>
    c
      .argument('<file>', 'the CSV file: administration,cpr,capacity,caseRef,caseworker,from,to (caseworker and to optional)')
      .requiredOption('--administration <id>', 'the administration whose file it is; rows of any other are refused', administrationId)
      .option('--dry-run', 'check every row and count what would happen, without writing (the run itself is audited)')
      .option(
        '--backdate-days <n>',
        `how far before today a new start may lie, for this run (default: the configuration's, ${DEFAULT_BACKDATE_DAYS} unless set); recorded in the run's audit record`,
        positiveInt,
      )
      .option('--in-flight <n>', `rows in the store at once (default ${DEFAULT_IN_FLIGHT})`, positiveInt)
      .option('--json', 'print the summary as JSON');
  common(relations.command('import'))
    .description('register or update the relations the file lists (idempotent per case reference); progress on stderr, summary on stdout')
    .action(async (file: string, o: RunOptions) => {
      process.exitCode = await runRelationsImport(config(), file, o, false, io);
    });
  common(relations.command('reconcile'))
    .description("import the file, then end the administration's relations in force or planned that it no longer lists")
    .option(
      '--max-end <limit>',
      'end at most this share (10%) or number (25) of the relations in force or planned (default 10%)',
      parseEndLimit,
    )
    .option('--force', 'end them even beyond --max-end, and even when some rows could not be read')
    .option('--listed-at <time>', 'when the file was exported: relations registered or changed after it are left alone', instant)
    .action(async (file: string, o: RunOptions) => {
      process.exitCode = await runRelationsImport(config(), file, o, true, io);
    });
}
