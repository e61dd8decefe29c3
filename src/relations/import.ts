import { createHash, randomUUID } from 'node:crypto';
import type { ExchangeFacts } from '../audit/entry.js';
import { auditEntry } from '../audit/entry.js';
import { newAuditId } from '../audit/id.js';
import { RELATION_IMPORT_AUDIT, RELATION_NOT_LISTED, relationImportReasons, type RelationImportCounts } from '../audit/reasons.js';
import { writeAudit } from '../audit/write.js';
import { ERRORS, GatewayError, isGatewayError, type ErrorCode } from '../errors.js';
import { redactCpr } from '../lib/cpr.js';
import { copenhagenDate } from '../policy/dates.js';
import { csvLines, type CsvLine } from './csv.js';
import {
  addDays,
  checkRegistration,
  planEnd,
  planRegistration,
  relationState,
  storeRelation,
  type RelationRegistrant,
  type RelationsDeps,
} from './register.js';
import { validateRelationBody, type RegisterRelationBody } from './requests.js';
import { Batcher } from '../store/batch.js';
import type { Relation, StoredRelation } from './types.js';

/**
 * The initial load and the reconciliation of an administration's relations from its case
 * system's CSV file (docs/RELATIONS.md, "Import and reconciliation"; the command is
 * src/relations/cli.ts). Every row goes through the register's own checks and writes
 * (checkRegistration, planRegistration, planEnd, storeRelation in register.ts): a row is
 * refused exactly when the API would refuse its body, plus what only a file can get wrong.
 */

/** The import tool's system id: the actor of its relation events, the caller of its audit records, and its audit chain. */
export const IMPORT_SYSTEM = 'relations-import';

/** The columns of the import format; `caseworker` and `to` may be left out of the header. */
export const IMPORT_COLUMNS = ['administration', 'cpr', 'capacity', 'caseRef', 'caseworker', 'from', 'to'] as const;
const OPTIONAL_COLUMNS: ReadonlySet<string> = new Set(['caseworker', 'to']);
type Column = (typeof IMPORT_COLUMNS)[number];

/** Records in one commit of the import's audit trail (AuditTrail maxBatch; the gateway's is 500). */
export const IMPORT_COMMIT_RECORDS = 1000;
/**
 * Rows whose store read or write is under way at once: two commits' worth, so that one fills
 * while the other is written (measured on 30,000 rows: 1000 in flight in commits of 500 gave
 * about 2,200 rows/s, 2000 in commits of 1000 about 2,500).
 */
export const DEFAULT_IN_FLIGHT = 2 * IMPORT_COMMIT_RECORDS;
const PAGE = 1000;
/** Most rows read in one round trip (RelationStore.byCaseRefs). */
const READ_BATCH = 500;

/** How many of an administration's relations a reconciliation may end: a share of those in force or planned, or a number. */
export type EndLimit = { readonly share: number } | { readonly count: number };

/** The default of `--max-end`: a tenth of the administration's relations in force or planned. */
export const DEFAULT_MAX_END: EndLimit = { share: 0.1 };

export type ImportDeps = Pick<RelationsDeps, 'relations' | 'trail' | 'pseudonyms' | 'rules' | 'observe' | 'limits'>;

export interface ImportOptions {
  /** The administration whose file this is (`--administration`): rows of any other are refused. */
  readonly administration: string;
  /** Reconcile: after the rows, end the administration's relations in force or planned that the file does not list. */
  readonly reconcile?: {
    readonly maxEnd: EndLimit;
    /** End them even beyond maxEnd, and even when some rows could not be read. */
    readonly force: boolean;
    /** Leave alone relations registered or changed after this time (the file is older than they are). */
    readonly listedAt?: Date;
  };
  /** Check every row and count what would happen, writing nothing but the run's own record. */
  readonly dryRun?: boolean;
  /** Rows in flight at once (default DEFAULT_IN_FLIGHT). */
  readonly inFlight?: number;
  /** Added to the run's record when the run widened the backdating bound (`--backdate-days`). */
  readonly backdateDays?: number;
  /** Told now and then how far the run got. */
  readonly onProgress?: (p: ImportProgress) => void;
  /** The clock (default: the system's). */
  readonly now?: () => Date;
}

export interface ImportProgress {
  readonly phase: 'rows' | 'ends';
  /** Data rows read from the file so far (the header not counted). */
  readonly rowsRead: number;
  /** Rows decided (added, updated, unchanged or refused), or relations ended so far. */
  readonly done: number;
  readonly seconds: number;
}

/** A row the import refused: its row number (the file's line number; the header is row 1), the code and a short message. */
export interface RefusedRow {
  readonly row: number;
  readonly code: ErrorCode;
  /** The code's title and, for a row that does not match the format, the column and what is wrong; never a value of the row. */
  readonly message: string;
}

export interface ImportSummary {
  readonly mode: 'import' | 'reconcile';
  readonly administration: string;
  readonly dryRun: boolean;
  /** The run's id: the requestId of every audit record it wrote. */
  readonly runId: string;
  /** The run's own audit record (kind relation, RELATION_IMPORT or RELATION_RECONCILE), if it could be written. */
  readonly auditId: string | undefined;
  /** SHA-256 of the file's bytes, hex. */
  readonly fileDigest: string;
  /** Data rows read (the header not counted). */
  readonly rows: number;
  readonly counts: RelationImportCounts;
  /** Refused rows, in row order. */
  readonly refused: readonly RefusedRow[];
  readonly refusedBy: ReadonlyMap<ErrorCode, number>;
  readonly seconds: number;
  /** Reconcile: the administration's relations in force or planned after the rows, those the file leaves out, and whether their ends were withheld. */
  readonly reconcile?: {
    readonly open: number;
    readonly notListed: number;
    readonly maxEnd: number;
    readonly withheld: ErrorCode | undefined;
    /** Ends refused by the register (say, the relation changed meanwhile): relation ids and codes. */
    readonly notEnded: readonly { readonly relation: string; readonly code: ErrorCode }[];
  };
  /** What stopped the run before its end (the store or the trail failing), and at which row. */
  readonly stopped: { readonly code: ErrorCode; readonly row: number } | undefined;
}

type Counts = { -readonly [K in keyof RelationImportCounts]: number };

/** A data row's values by column; '' for an optional column left out of the header. */
type RowValues = Readonly<Record<Column, string>>;

/** What was wrong with the header, for the run's error (the header's names are safe to show: they are checked to be the format's own). */
function headerColumns(line: CsvLine | undefined): Column[] {
  const refuse = (message: string): never => {
    throw new GatewayError('RELATION_IMPORT_HEADER_INVALID', { errors: [{ path: 'row 1', message }] });
  };
  if (line === undefined) return refuse('the file is empty');
  if ('problem' in line) return refuse(line.problem);
  const known = new Map(IMPORT_COLUMNS.map((c) => [c.toLowerCase(), c]));
  const columns: Column[] = [];
  for (const [i, name] of line.fields.entries()) {
    const column = known.get(name.trim().toLowerCase());
    if (column === undefined) return refuse(`column ${i + 1} is not one of ${IMPORT_COLUMNS.join(', ')}`);
    if (columns.includes(column)) return refuse(`column ${column} is named twice`);
    columns.push(column);
  }
  const missing = IMPORT_COLUMNS.filter((c) => !OPTIONAL_COLUMNS.has(c) && !columns.includes(c));
  if (missing.length > 0) refuse(`missing column(s): ${missing.join(', ')}`);
  return columns;
}

/** A refusal's message: the code's title, and the column and what is wrong where known; through the CPR detector all the same. */
function refusalMessage(err: GatewayError): string {
  const first = err.extras.errors?.[0];
  const column = first?.path.replace(/^\//, '');
  const what = first?.message.includes('"no-cpr"') === true ? 'may hold a CPR number, which no value but cpr may' : first?.message;
  const more = what === undefined ? '' : column !== undefined && column.length > 0 ? `: ${column} ${what}` : `: ${what}`;
  const title = err.code === 'REQUEST_INVALID' ? 'Value not valid' : ERRORS[err.code].title;
  return redactCpr(`${title}${more}`, '[redacted]');
}

/** Whether a failure refuses one row (a refusal of the register) or stops the run (the store or the trail). */
function refusesRow(err: unknown): err is GatewayError {
  return isGatewayError(err) && err.status < 500;
}

/**
 * Imports an administration's relations from a CSV file read from `input`, streaming: each row
 * is registered, changed or left unchanged through the register's checks and writes, as the
 * case system would through POST /v1/relations; a row the register would refuse, or that is not
 * a row of the format or of the administration, is refused with its row number and code and
 * changes nothing, and the import goes on. Idempotent per case reference: the same file again
 * leaves every row unchanged and writes no row's record (the run's own record is written every
 * time). With `reconcile`, the relations of the administration in force or planned that the file
 * does not list are then ended (the day before today, or the day before their start; reason
 * case-closed followed by RELATION_NOT_LISTED), unless there are more than `maxEnd` of them or some
 * rows could not be read (then none is, unless `force`).
 *
 * Throws RELATION_IMPORT_HEADER_INVALID before anything is done when the header is not the
 * format's; resolves with `stopped` set when the store or the trail failed part way.
 */
export async function importRelations(
  deps: ImportDeps,
  input: AsyncIterable<Uint8Array | string> | Iterable<Uint8Array | string>,
  options: ImportOptions,
): Promise<ImportSummary> {
  const clock = options.now ?? (() => new Date());
  const started = performance.now();
  const seconds = (): number => (performance.now() - started) / 1000;
  const administration = options.administration;
  const dryRun = options.dryRun === true;
  const limit = options.inFlight ?? DEFAULT_IN_FLIGHT;
  if (!Number.isInteger(limit) || limit < 1) throw new TypeError('importRelations: inFlight must be a positive whole number');
  const runId = randomUUID();
  const rules = deps.rules();
  const counts: Counts = { added: 0, updated: 0, unchanged: 0, ended: 0, refused: 0 };
  const refused: RefusedRow[] = [];
  const refusedBy = new Map<ErrorCode, number>();
  /** The file's case references of this administration, lower case, with the row each was first on. */
  const listed = new Map<string, number>();
  let unreadable = 0;
  let rowsRead = 0;
  let done = 0;
  let stopped: { code: ErrorCode; row: number } | undefined;

  const refuse = (row: number, code: ErrorCode, message: string = ERRORS[code].title): void => {
    refused.push({ row, code, message });
    refusedBy.set(code, (refusedBy.get(code) ?? 0) + 1);
    counts.refused += 1;
    if (code === 'RELATION_IMPORT_ROW_MALFORMED') unreadable += 1;
  };
  const facts = (caseworker: string | null, caseRef: string | null): ExchangeFacts => ({
    auditId: newAuditId(),
    requestId: runId,
    caller: { system: IMPORT_SYSTEM, administration },
    caseworker,
    caseRef,
    policySet: rules.policies.digest,
  });
  const report = (phase: ImportProgress['phase'], final = false): void => {
    if (final || done % 1000 === 0) options.onProgress?.({ phase, rowsRead, done, seconds: seconds() });
  };

  // Rows in flight: at most `limit`; the reader waits for a free place.
  let active = 0;
  let wake: (() => void) | undefined;
  const settle = (): void => {
    active -= 1;
    const w = wake;
    wake = undefined;
    w?.();
  };
  const place = async (): Promise<void> => {
    while (active >= limit) await new Promise<void>((resolve) => (wake = resolve));
    active += 1;
  };
  const drain = async (): Promise<void> => {
    while (active > 0) await new Promise<void>((resolve) => (wake = resolve));
  };
  const stop = (row: number, err: unknown): void => {
    stopped ??= { code: isGatewayError(err) ? err.code : 'RELATION_REGISTER_UNAVAILABLE', row };
  };

  // The rows' reads, many a round trip: those started while a read is under way share the next one.
  const reads = new Batcher<string, StoredRelation | undefined>((refs) => deps.relations.byCaseRefs(administration, refs), {
    maxBatch: READ_BATCH,
  });

  /** A row that passed the checks needing no store: its read, its decision and its write. */
  const register = async (row: number, who: RelationRegistrant, body: RegisterRelationBody): Promise<void> => {
    try {
      const existing = await reads.submit(body.caseRef).catch((cause: unknown) => {
        throw new GatewayError('RELATION_REGISTER_UNAVAILABLE', {}, { cause });
      });
      const base = facts(body.caseworker ?? null, body.caseRef);
      const plan = planRegistration(deps, who, body, existing, clock(), base.auditId);
      if (plan.outcome === 'unchanged') counts.unchanged += 1;
      else {
        if (!dryRun) await storeRelation(deps, base, plan.write, plan.reasons, plan.status);
        counts[plan.outcome === 'registered' ? 'added' : 'updated'] += 1;
      }
    } catch (err) {
      if (refusesRow(err)) refuse(row, err.code, refusalMessage(err));
      else stop(row, err);
    } finally {
      done += 1;
      report('rows');
      settle();
    }
  };

  const digest = createHash('sha256');
  async function* hashed(): AsyncGenerator<Uint8Array | string> {
    for await (const chunk of input) {
      digest.update(chunk);
      yield chunk;
    }
  }
  const lines = csvLines(hashed());
  const header = await lines.next();
  const columns = headerColumns(header.done === true ? undefined : header.value);

  for await (const line of lines) {
    if (stopped !== undefined) break;
    rowsRead += 1;
    const { row } = line;
    if ('problem' in line) {
      refuse(row, 'RELATION_IMPORT_ROW_MALFORMED', `${ERRORS.RELATION_IMPORT_ROW_MALFORMED.title}: ${line.problem}`);
      done += 1;
      continue;
    }
    const next = decideRow(row, line.fields);
    if (next === undefined) done += 1;
    else {
      // Started, not awaited: the reader goes on while up to `limit` rows are in the store.
      await place();
      void next();
    }
  }
  await drain();

  /**
   * The checks of a row that need no store, in the reader's order (so that the first row of a
   * case reference is the one imported): undefined when the row is decided here, else what is
   * left to do (its store read, decision and write).
   */
  function decideRow(row: number, fields: readonly string[]): (() => Promise<void>) | undefined {
    if (fields.length !== columns.length) {
      refuse(
        row,
        'RELATION_IMPORT_ROW_MALFORMED',
        `${ERRORS.RELATION_IMPORT_ROW_MALFORMED.title}: ${fields.length} fields, the header has ${columns.length}`,
      );
      return undefined;
    }
    const v = Object.fromEntries(IMPORT_COLUMNS.map((c) => [c, ''])) as Record<Column, string>;
    for (const [i, c] of columns.entries()) v[c] = fields[i]!;
    const values: RowValues = v;
    if (values.administration !== administration) {
      refuse(row, 'RELATION_IMPORT_OTHER_ADMINISTRATION');
      return undefined;
    }
    if (values.caseRef.length > 0) {
      const key = values.caseRef.toLowerCase();
      const first = listed.get(key);
      if (first !== undefined) {
        refuse(row, 'RELATION_IMPORT_DUPLICATE', `${ERRORS.RELATION_IMPORT_DUPLICATE.title} (row ${first})`);
        return undefined;
      }
      listed.set(key, row);
    }
    const who: RelationRegistrant = {
      administration,
      roles: [],
      actor: { system: IMPORT_SYSTEM, administration, caseworker: values.caseworker.length > 0 ? values.caseworker : null },
    };
    let body: RegisterRelationBody;
    try {
      body = validateRelationBody<RegisterRelationBody>('register', {
        cpr: values.cpr,
        capacity: values.capacity,
        caseRef: values.caseRef,
        from: values.from,
        ...(values.caseworker.length > 0 ? { caseworker: values.caseworker } : {}),
        ...(values.to.length > 0 ? { to: values.to } : {}),
      });
      const capacity = rules.capacities.capacities.get(body.capacity);
      if (capacity?.administrations.includes(administration) === true && (capacity.roles ?? []).length > 0)
        throw new GatewayError('RELATION_IMPORT_CAPACITY_API_ONLY');
      checkRegistration(rules, who, body, clock());
    } catch (err) {
      if (!refusesRow(err)) throw err;
      refuse(row, err.code, refusalMessage(err));
      return undefined;
    }
    return () => register(row, who, body);
  }

  const reconcile = options.reconcile !== undefined && stopped === undefined ? await endNotListed(options.reconcile) : undefined;
  report(reconcile === undefined ? 'rows' : 'ends', true);

  /** Reconciliation: ends the administration's relations in force or planned that the file does not list. */
  async function endNotListed(o: NonNullable<ImportOptions['reconcile']>): Promise<NonNullable<ImportSummary['reconcile']>> {
    const today = copenhagenDate(clock());
    const listedAt = o.listedAt?.toISOString();
    let open = 0;
    const notListed: Relation[] = [];
    try {
      let after: string | undefined;
      for (;;) {
        const page = await deps.relations.byAdministration(administration, after, PAGE);
        for (const r of page) {
          const state = relationState(r, today);
          if (r.endReason !== null || (state !== 'active' && state !== 'planned')) continue;
          open += 1;
          if (!listed.has(r.caseRef.toLowerCase()) && (listedAt === undefined || r.updatedAt <= listedAt)) notListed.push(r);
        }
        if (page.length < PAGE) break;
        after = page.at(-1)!.caseRef;
      }
    } catch (cause) {
      stop(rowsRead + 1, new GatewayError('RELATION_REGISTER_UNAVAILABLE', {}, { cause }));
      return { open, notListed: notListed.length, maxEnd: 0, withheld: undefined, notEnded: [] };
    }
    const maxEnd = 'share' in o.maxEnd ? Math.floor(open * o.maxEnd.share) : o.maxEnd.count;
    const withheld: ErrorCode | undefined = o.force
      ? undefined
      : unreadable > 0
        ? 'RELATION_RECONCILE_INCOMPLETE'
        : notListed.length > maxEnd
          ? 'RELATION_RECONCILE_LIMIT'
          : undefined;
    const notEnded: { relation: string; code: ErrorCode }[] = [];
    if (withheld !== undefined) return { open, notListed: notListed.length, maxEnd, withheld, notEnded };
    done = 0;
    const who: RelationRegistrant = { administration, roles: [], actor: { system: IMPORT_SYSTEM, administration, caseworker: null } };
    const end = async (r: Relation): Promise<void> => {
      try {
        const now = clock();
        const yesterday = addDays(copenhagenDate(now), -1);
        const dayBeforeStart = addDays(r.from, -1);
        const to = yesterday > dayBeforeStart ? yesterday : dayBeforeStart;
        const base = facts(null, r.caseRef);
        const plan = planEnd(who, { relation: r, events: [] }, { to, reason: 'case-closed' }, now, base.auditId, [RELATION_NOT_LISTED]);
        if (plan.outcome === 'ended') {
          if (!dryRun) await storeRelation(deps, base, plan.write, plan.reasons, plan.status);
          counts.ended += 1;
        }
      } catch (err) {
        if (refusesRow(err)) notEnded.push({ relation: r.id, code: err.code });
        else stop(rowsRead + 1, err);
      } finally {
        done += 1;
        report('ends');
        settle();
      }
    };
    for (const r of notListed) {
      if (stopped !== undefined) break;
      await place();
      void end(r);
    }
    await drain();
    return { open, notListed: notListed.length, maxEnd, withheld, notEnded };
  }

  const fileDigest = digest.digest('hex');
  const code = options.reconcile === undefined ? RELATION_IMPORT_AUDIT.imported : RELATION_IMPORT_AUDIT.reconciled;
  const more = [
    ...(dryRun ? ['dry-run'] : []),
    ...(options.backdateDays !== undefined ? [`backdate-days=${options.backdateDays}`] : []),
    ...(reconcile?.withheld !== undefined ? [`withheld=${reconcile.withheld}`] : []),
    ...(stopped !== undefined ? [`stopped=${stopped.code}`] : []),
  ];
  let auditId: string | undefined;
  try {
    const base = facts(null, null);
    await writeAudit(
      deps.trail,
      auditEntry('relation', { ...base, reasons: relationImportReasons(code, { fileDigest, counts, refusedBy }, more) }),
      deps.observe,
    );
    auditId = base.auditId;
  } catch (err) {
    stop(rowsRead + 1, err);
  }
  return {
    mode: options.reconcile === undefined ? 'import' : 'reconcile',
    administration,
    dryRun,
    runId,
    auditId,
    fileDigest,
    rows: rowsRead,
    counts: { ...counts },
    refused: refused.sort((a, b) => a.row - b.row),
    refusedBy,
    seconds: seconds(),
    ...(reconcile !== undefined ? { reconcile } : {}),
    stopped,
  };
}
