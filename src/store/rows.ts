import { ROLLUP_REASONS } from '../audit/reasons.js';
import type { AuditRecord } from '../audit/types.js';
import { canonicalJson } from '../lib/digest.js';
import {
  ChainConflictError,
  InvalidCursorError,
  MAX_SEARCH_LIMIT,
  type AuditQuery,
  type StoredAuditPage,
  type StoredAuditRow,
} from './types.js';

/** The columns of audit_record, as values both dialects accept as parameters. */
export interface AuditRow {
  readonly chain: string;
  readonly seq: number;
  readonly id: string;
  readonly audit_id: string;
  readonly time: string;
  readonly kind: string;
  readonly subject: string | null;
  readonly caller_system: string | null;
  readonly administration: string | null;
  readonly caseworker: string | null;
  readonly contract: string | null;
  readonly purpose: string | null;
  readonly policy_id: string | null;
  readonly policy_version: number | null;
  readonly decision: string | null;
  readonly reasons: string; // JSON array
  readonly record: string; // canonical JSON
}

export const AUDIT_COLUMNS = [
  'chain',
  'seq',
  'id',
  'audit_id',
  'time',
  'kind',
  'subject',
  'caller_system',
  'administration',
  'caseworker',
  'contract',
  'purpose',
  'policy_id',
  'policy_version',
  'decision',
  'reasons',
  'record',
] as const satisfies readonly (keyof AuditRow)[];

/** Chains by a loose index scan over the primary key: one probe per chain, not one per row. */
export const CHAINS_SQL =
  'WITH RECURSIVE c(chain) AS (SELECT min(chain) FROM audit_record ' +
  'UNION ALL SELECT (SELECT min(chain) FROM audit_record WHERE chain > c.chain) FROM c WHERE c.chain IS NOT NULL) ' +
  'SELECT chain FROM c WHERE chain IS NOT NULL';

/** The columns that repeat part of the record (everything but `record` itself). */
const DERIVED_COLUMNS = AUDIT_COLUMNS.filter((c) => c !== 'record');

/** The search columns of a record: what the row repeats of it besides its text. */
export function derivedColumns(record: AuditRecord): Omit<AuditRow, 'record'> {
  return {
    chain: record.chain,
    seq: record.seq,
    id: record.id,
    audit_id: record.auditId,
    time: record.time,
    kind: record.kind,
    subject: record.subject,
    caller_system: record.caller?.system ?? null,
    administration: record.caller?.administration ?? null,
    caseworker: record.caseworker,
    contract: record.contract,
    purpose: record.purpose,
    policy_id: record.policy?.id ?? null,
    policy_version: record.policy?.version ?? null,
    decision: record.decision,
    reasons: JSON.stringify(record.reasons),
  };
}

/**
 * The canonical JSON of records whose text is already known: the trail serialises each record
 * once, when it hashes it, and the store writes that same text instead of serialising again.
 * Keyed by the (frozen) record object, so a text never outlives its record.
 */
const canonicalTexts = new WeakMap<AuditRecord, string>();

/** Remembers the canonical JSON of a frozen record (it must equal canonicalJson(record)). */
export function rememberCanonical(record: AuditRecord, text: string): void {
  canonicalTexts.set(record, text);
}

/** The canonical JSON of a record: the remembered text, or a fresh serialisation. */
export function canonicalText(record: AuditRecord): string {
  return canonicalTexts.get(record) ?? canonicalJson(record);
}

/** The row that stores a record. */
export function toRow(record: AuditRecord): AuditRow {
  return { ...derivedColumns(record), record: canonicalText(record) };
}

/**
 * Reads a stored row for the verifier. `columns` must already be in AuditRow form (numbers as
 * numbers, time as ISO text, reasons as JSON text); each dialect converts its own types.
 */
export function toStoredRow(columns: AuditRow): StoredAuditRow {
  let record: AuditRecord | undefined;
  try {
    const parsed: unknown = JSON.parse(columns.record);
    if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) record = parsed as AuditRecord;
  } catch {
    record = undefined;
  }
  if (record === undefined) return { seq: columns.seq, record: undefined, columnMismatch: [] };
  let expected: Omit<AuditRow, 'record'> | undefined;
  try {
    expected = derivedColumns(record);
  } catch {
    expected = undefined;
  }
  const columnMismatch = DERIVED_COLUMNS.filter((c) => expected === undefined || !sameColumn(c, expected[c], columns[c]));
  return { seq: columns.seq, record, columnMismatch };
}

// ---------------------------------------------------------------------------------------------
// scanPage: the verifier's fast reading (see StoredAuditPage and src/audit/verify-row.ts)

/**
 * The search columns that scanPage gives together, as one text per row, in this order: each
 * value written as "n" for NULL, "i" + its decimal digits + ";" for an integer (policy_version),
 * "s" + the byte length of its UTF-8 + ":" + the text itself for text (the others). A value of
 * another kind (SQLite holds whatever it is given: a REAL, a BLOB, an integer in a text column)
 * makes the whole text NULL. `time` and `reasons` come as columns of their own.
 */
export const ENCODED_COLUMNS = [
  'chain',
  'id',
  'audit_id',
  'kind',
  'subject',
  'caller_system',
  'administration',
  'caseworker',
  'contract',
  'purpose',
  'policy_id',
  'policy_version',
  'decision',
] as const satisfies readonly (keyof AuditRow)[];

const isIntegerColumn = (column: (typeof ENCODED_COLUMNS)[number]): boolean => column === 'policy_version';

/** ENCODED_COLUMNS of a row as scanPage's SQL writes them: the reference the SQL is tested against. */
export function encodeColumns(row: Pick<AuditRow, (typeof ENCODED_COLUMNS)[number]>): string | null {
  let out = '';
  for (const column of ENCODED_COLUMNS) {
    const value: unknown = row[column];
    if (value === null) out += 'n';
    else if (isIntegerColumn(column) && typeof value === 'number' && Number.isSafeInteger(value)) out += `i${value};`;
    else if (!isIntegerColumn(column) && typeof value === 'string') out += `s${Buffer.byteLength(value, 'utf8')}:${value}`;
    else return null;
  }
  return out;
}

/**
 * The statement of scanPage: seq, record, time, reasons and the encoded columns, in seq order,
 * for (chain, fromSeq, limit): at most `limit` rows from fromSeq on; or, `bounded`, for (chain,
 * fromSeq, toSeq): the rows with fromSeq <= seq < toSeq.
 */
export function scanPageSql(dialect: 'sqlite' | 'postgres', bounded = false): string {
  const encoded = ENCODED_COLUMNS.map((c) => {
    if (dialect === 'sqlite') {
      return isIntegerColumn(c)
        ? `CASE typeof(${c}) WHEN 'integer' THEN 'i' || ${c} || ';' WHEN 'null' THEN 'n' END`
        : `CASE typeof(${c}) WHEN 'text' THEN 's' || length(CAST(${c} AS BLOB)) || ':' || ${c} WHEN 'null' THEN 'n' END`;
    }
    return isIntegerColumn(c)
      ? `CASE WHEN ${c} IS NULL THEN 'n' ELSE 'i' || ${c} || ';' END`
      : `CASE WHEN ${c} IS NULL THEN 'n' ELSE 's' || octet_length(${c}) || ':' || ${c} END`;
  });
  const [chain, fromSeq, third] = dialect === 'sqlite' ? ['?', '?', '?'] : ['$1', '$2', '$3'];
  // PostgreSQL writes the time as toStoredRow reads it (Date.toISOString) itself, sparing a Date per
  // row; for years 1-9999 only, where the two forms are the same.
  const time =
    dialect === 'sqlite'
      ? 'time'
      : `CASE WHEN time >= '0001-01-01 00:00:00+00' AND time < '10000-01-01 00:00:00+00' THEN to_char(time AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') END`;
  const where = bounded
    ? `chain = ${chain} AND seq >= ${fromSeq} AND seq < ${third} ORDER BY seq`
    : `chain = ${chain} AND seq >= ${fromSeq} ORDER BY seq LIMIT ${third}`;
  return `SELECT seq, record, ${time} AS time, reasons, ${encoded.join(' || ')} AS columns FROM audit_record WHERE ${where}`;
}

/**
 * scanPage's rows (seq, record, time, reasons, columns; each dialect converts its own types
 * first, as for toStoredRow), column by column.
 */
export function toStoredPage(rows: readonly (readonly [number, string, string | null, string, string | null])[]): StoredAuditPage {
  const n = rows.length;
  const seq = new Array<number>(n);
  const record = new Array<string>(n);
  const time = new Array<string | null>(n);
  const reasons = new Array<string>(n);
  const columns = new Array<string | null>(n);
  for (let i = 0; i < n; i++) {
    const row = rows[i] as readonly [number, string, string | null, string, string | null];
    seq[i] = row[0];
    record[i] = row[1];
    time[i] = row[2];
    reasons[i] = row[3];
    columns[i] = row[4];
  }
  return { seq, record, time, reasons, columns };
}

function sameColumn(column: string, expected: unknown, actual: unknown): boolean {
  if (column === 'reasons') {
    try {
      return JSON.stringify(JSON.parse(String(actual))) === expected;
    } catch {
      return false;
    }
  }
  return expected === actual;
}

/** Parses the canonical JSON of a row; a row that does not parse is a broken store. */
export function parseRecord(json: string): AuditRecord {
  return JSON.parse(json) as AuditRecord;
}

/**
 * Checks that the records passed to AuditStore.append continue `head` of their chain, in order
 * and without a gap. Throws ChainConflictError (nothing is written then).
 */
export function checkContinues(chain: string, head: { seq: number; hash: string } | undefined, records: readonly AuditRecord[]): void {
  let seq = head?.seq ?? 0;
  let hash = head?.hash ?? '0'.repeat(64);
  for (const r of records) {
    if (r.seq !== seq + 1 || r.prevHash !== hash) {
      throw new ChainConflictError(chain, `audit append to chain ${chain} does not continue its head (seq ${seq}); refused`);
    }
    seq = r.seq;
    hash = r.hash;
  }
}

/** Groups records by chain, keeping their order; rejects records that are obviously not records. */
export function byChain(records: readonly AuditRecord[]): Map<string, AuditRecord[]> {
  const groups = new Map<string, AuditRecord[]>();
  for (const r of records) {
    if (typeof r.chain !== 'string' || !Number.isSafeInteger(r.seq) || typeof r.hash !== 'string') {
      throw new TypeError('AuditStore.append: a record without chain, seq or hash');
    }
    const group = groups.get(r.chain) ?? [];
    group.push(r);
    groups.set(r.chain, group);
  }
  return groups;
}

// ---------------------------------------------------------------------------------------------
// Search

/** The position of a record in search order. */
export interface Position {
  readonly time: string;
  readonly chain: string;
  readonly seq: number;
}

const ISO_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/** Cursors are base64url JSON [1, time, chain, seq]: opaque to callers, checked on the way in. */
export function encodeCursor(p: Position): string {
  return Buffer.from(JSON.stringify([1, p.time, p.chain, p.seq]), 'utf8').toString('base64url');
}

export function decodeCursor(cursor: string): Position {
  if (typeof cursor !== 'string' || cursor.length > 1024 || !/^[A-Za-z0-9_-]+$/.test(cursor)) throw new InvalidCursorError();
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw new InvalidCursorError();
  }
  if (!Array.isArray(value) || value.length !== 4 || value[0] !== 1) throw new InvalidCursorError();
  const [, time, chain, seq] = value as [unknown, unknown, unknown, unknown];
  if (typeof time !== 'string' || !ISO_MS.test(time) || Number.isNaN(Date.parse(time))) throw new InvalidCursorError();
  if (typeof chain !== 'string' || chain.length === 0 || chain.length > 200) throw new InvalidCursorError();
  if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 1) throw new InvalidCursorError();
  return { time, chain, seq };
}

function isoTime(name: string, value: string): string {
  const ms = typeof value === 'string' ? Date.parse(value) : Number.NaN;
  if (Number.isNaN(ms)) throw new TypeError(`AuditQuery.${name} is not an ISO 8601 time`);
  return new Date(ms).toISOString();
}

/** How one SQL dialect spells the few things that differ. */
export interface SearchDialect {
  /** The placeholder for the n-th parameter (1-based). */
  param(n: number): string;
  /** A time parameter, compared with the time column. */
  time(placeholder: string): string;
  /** "the reasons column contains this string". */
  hasReason(placeholder: string): string;
}

export interface SearchSql {
  readonly sql: string;
  readonly params: unknown[];
  readonly limit: number;
  /** True when the query cannot match anything (e.g. an empty list of subjects). */
  readonly empty: boolean;
}

const EQUALITY_FILTERS = [
  ['callerSystem', 'caller_system'],
  ['administration', 'administration'],
  ['caseworker', 'caseworker'],
  ['contract', 'contract'],
  ['purpose', 'purpose'],
  ['policy', 'policy_id'],
  ['auditId', 'audit_id'],
  ['kind', 'kind'],
  ['chain', 'chain'],
] as const satisfies readonly (readonly [keyof AuditQuery, keyof AuditRow])[];

/**
 * The search statement: every filter ANDed, newest first by (time, chain, seq), one row more
 * than the page so the caller knows whether there is a next page.
 */
export function searchSql(dialect: SearchDialect, query: AuditQuery): SearchSql {
  if (!Number.isFinite(query.limit) || query.limit < 1) throw new TypeError('AuditQuery.limit must be a positive number');
  const limit = Math.min(Math.floor(query.limit), MAX_SEARCH_LIMIT);
  const params: unknown[] = [];
  const p = (value: unknown): string => {
    params.push(value);
    return dialect.param(params.length);
  };
  const where: string[] = [];
  let empty = false;

  if (query.subject !== undefined) {
    const subjects = typeof query.subject === 'string' ? [query.subject] : [...query.subject];
    if (subjects.length === 0) empty = true;
    else if (subjects.length === 1) where.push(`subject = ${p(subjects[0])}`);
    else where.push(`subject IN (${subjects.map(p).join(', ')})`);
  }
  for (const [field, column] of EQUALITY_FILTERS) {
    const value = query[field];
    if (value === undefined) continue;
    if (typeof value !== 'string') throw new TypeError(`AuditQuery.${field} must be a string`);
    where.push(`${column} = ${p(value)}`);
  }
  if (query.decision !== undefined) {
    if (query.decision !== 'permit' && query.decision !== 'deny') throw new TypeError("AuditQuery.decision must be 'permit' or 'deny'");
    // "deny" finds what the DPO overview counts as refused (src/store/dpo-rollup.ts): a refusal
    // record (refused before any policy decision: token, replay, schema...) has no decision of
    // its own but is a refused request; a cancelled delivery and a recipient skipped for need to
    // know carry decision deny but are not a refusal of the sender's request.
    where.push(
      query.decision === 'deny'
        ? `(kind = ${p('refusal')} OR (decision = ${p('deny')} AND NOT ${dialect.hasReason(p(ROLLUP_REASONS.deliveryCancelled))} AND NOT ${dialect.hasReason(p(ROLLUP_REASONS.recipientSkipped))}))`
        : `decision = ${p('permit')}`,
    );
  }
  if (query.reason !== undefined) where.push(dialect.hasReason(p(query.reason)));
  if (query.from !== undefined) where.push(`time >= ${dialect.time(p(isoTime('from', query.from)))}`);
  if (query.to !== undefined) where.push(`time < ${dialect.time(p(isoTime('to', query.to)))}`);
  if (query.after !== undefined) {
    const at = decodeCursor(query.after);
    where.push(`(time, chain, seq) < (${dialect.time(p(at.time))}, ${p(at.chain)}, ${p(at.seq)})`);
  }
  const sql =
    'SELECT time, chain, seq, record FROM audit_record' +
    (where.length > 0 ? ` WHERE ${where.join(' AND ')}` : '') +
    ` ORDER BY time DESC, chain DESC, seq DESC LIMIT ${p(limit + 1)}`;
  return { sql, params, limit, empty };
}

/** Turns the fetched rows (limit + 1 at most) into a page. */
export function searchPage(
  rows: readonly { position: Position; record: string }[],
  limit: number,
): { records: AuditRecord[]; next?: string } {
  const page = rows.slice(0, limit);
  const records = page.map((r) => parseRecord(r.record));
  const last = page[page.length - 1];
  return rows.length > limit && last !== undefined ? { records, next: encodeCursor(last.position) } : { records };
}
