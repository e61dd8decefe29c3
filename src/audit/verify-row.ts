import { derivedColumns, encodeColumns, ENCODED_COLUMNS } from '../store/rows.js';
import type { StoredAuditPage } from '../store/types.js';
import { canonicalMembers, MemberSpans, memberValueStart, valueEnd } from './canonical-text.js';
import { storedRecordHash } from './chain.js';
import type { AuditRecord } from './types.js';

/**
 * The verifier's fast path for one stored row. Instead of parsing the record, deriving its search
 * columns and comparing them, serialising the record again and hashing that, it shows that the
 * stored text is canonical (canonical-text.ts), compares the columns with the members' text, and
 * hashes the stored text with its `"hash"` member cut out (storedRecordHash).
 *
 * The fast path only ever says "this row passes": it answers when every check that verifyChain
 * makes of a row on its own would pass, and says nothing otherwise. A row it says nothing about
 * is read again as scan reads it and checked as before, which decides what is wrong with it and
 * where. So the fast path never changes what verification finds; it only finds "nothing" sooner.
 * Each comparison below is therefore an equality that implies the slow path's equality:
 *
 *   - Members: the text is canonical, so a member's text is the canonical JSON of its value in
 *     JSON.parse(text). A string member without escapes is the characters between its quotes; a
 *     number member is Number of its text; null is "null".
 *   - The search columns (toStoredRow compares each with derivedColumns(record) by ===):
 *     `time` comes as the text toStoredRow compares (PostgreSQL writes it so itself, see
 *     scanPageSql) and must equal the string member; `reasons` (JSON text) must be the member's
 *     text character for character (then both sides of toStoredRow's comparison parse the same
 *     text). The others come encoded in one text
 *     (ENCODED_COLUMNS in rows.ts): "n" for NULL, "i<digits>;" for an integer, "s<UTF-8 bytes>:<text>"
 *     for text. The same encoding is written here from the members, and the two must be equal.
 *     Lengths make it a code that parses one way only, so equal texts mean equal values column by
 *     column, provided the stored bytes are the UTF-8 of what the driver returns: any invalid
 *     UTF-8 is returned as U+FFFD, so a row whose members hold U+FFFD is left to the slow path.
 *     Nested columns use derivedColumns' own rule (`caller?.system ?? null`): the member of an
 *     object, null when the object lacks it or is not an object.
 *   - The hash: the text is canonical, so cutting the top-level `"hash"` member and one comma
 *     leaves canonicalJson of the record without its hash, which is what recordHash hashes.
 */

/** The members read, in sorted order: the order a canonical text has them in. */
const MEMBERS = [
  'auditId',
  'caller',
  'caseworker',
  'chain',
  'contract',
  'decision',
  'hash',
  'id',
  'kind',
  'policy',
  'prevHash',
  'purpose',
  'reasons',
  'seq',
  'subject',
  'time',
] as const;
type Member = (typeof MEMBERS)[number];
const at = (name: Member): number => MEMBERS.indexOf(name);
const CHAIN = at('chain');
const HASH = at('hash');
const PREV_HASH = at('prevHash');
const REASONS = at('reasons');
const SEQ = at('seq');
const TIME = at('time');

/** Where each encoded column comes from in the record (derivedColumns in rows.ts). */
const SOURCES: Readonly<Record<(typeof ENCODED_COLUMNS)[number], readonly [Member, string?]>> = {
  chain: ['chain'],
  id: ['id'],
  audit_id: ['auditId'],
  kind: ['kind'],
  subject: ['subject'],
  caller_system: ['caller', 'system'],
  administration: ['caller', 'administration'],
  caseworker: ['caseworker'],
  contract: ['contract'],
  purpose: ['purpose'],
  policy_id: ['policy', 'id'],
  policy_version: ['policy', 'version'],
  decision: ['decision'],
};
/** For each encoded column in order: the member it comes from, and the nested member ('' for none). */
const ENCODED_MEMBER = ENCODED_COLUMNS.map((c) => at(SOURCES[c][0]));
const ENCODED_NESTED = ENCODED_COLUMNS.map((c) => SOURCES[c][1] ?? '');

// eslint-disable-next-line no-control-regex -- the range starts at NUL on purpose: every non-ASCII character
const NOT_ASCII = /[^\u0000-\u007f]/;
const QUOTE = 0x22;
const COMMA = 0x2c;
const OPEN_BRACE = 0x7b;

/** What the chain needs of a row that passed: its link to the record before and its own hash. */
export interface RowLink {
  readonly prevHash: string;
  readonly hash: string;
}

/** The fast check of rows, one at a time (it reuses its buffers: one per verification). */
export class FastRowCheck {
  readonly #spans = new MemberSpans();
  /** For each of MEMBERS, its index in #spans. */
  readonly #member = new Int32Array(MEMBERS.length);
  #text = '';
  /** The encoded columns of the row, and how far they have been matched. */
  #columns = '';
  #at = 0;
  /** The encoded columns are ASCII only: a text's characters are its UTF-8 bytes, and none is U+FFFD. */
  #ascii = false;

  /**
   * The row's prevHash and hash when row `i` of `page` passes every check verifyChain makes of a
   * row by itself (readable, of `chain`, at the seq it is stored at, search columns agreeing,
   * content matching its hash); undefined when that is not shown here.
   */
  check(page: StoredAuditPage, i: number, chain: string): RowLink | undefined {
    const text = page.record[i];
    const spans = this.#spans;
    if (typeof text !== 'string' || !canonicalMembers(text, spans)) return undefined;
    this.#text = text;

    // Both lists are sorted: one pass finds every member, or leaves one unfound.
    let w = 0;
    for (let m = 0; m < spans.count && w < MEMBERS.length; m++) {
      const name = MEMBERS[w] as string;
      const keyStart = spans.keyStart(m);
      if (spans.keyEnd(m) - keyStart === name.length && text.startsWith(name, keyStart)) this.#member[w++] = m;
    }
    if (w < MEMBERS.length) return undefined;

    if (
      !this.#isString(CHAIN, chain) ||
      !this.#isNumber(SEQ, page.seq[i]) ||
      !this.#isString(TIME, page.time[i]) ||
      !this.#isText(REASONS, page.reasons[i])
    )
      return undefined;
    const columns = page.columns[i];
    if (typeof columns !== 'string') return undefined;
    this.#columns = columns;
    this.#ascii = !NOT_ASCII.test(columns);
    this.#at = 0;
    for (let c = 0; c < ENCODED_MEMBER.length; c++) {
      const member = ENCODED_MEMBER[c] as number;
      const nested = ENCODED_NESTED[c] as string;
      if (!(nested === '' ? this.#encoded(this.#start(member), this.#end(member)) : this.#nestedEncoded(member, nested))) return undefined;
    }
    if (this.#at !== columns.length) return undefined;

    const prevHash = this.#stringValue(PREV_HASH);
    const hash = this.#stringValue(HASH);
    if (prevHash === undefined || hash === undefined) return undefined;
    // Cut `,"hash":"…"` (or `"hash":"…",` when it is the first member).
    const memberStart = spans.keyStart(this.#member[HASH] as number) - 1;
    const memberEnd = this.#end(HASH);
    let cutStart = memberStart;
    let cutEnd = memberEnd;
    if (text.charCodeAt(memberStart - 1) === COMMA) cutStart = memberStart - 1;
    else if (text.charCodeAt(memberEnd) === COMMA) cutEnd = memberEnd + 1;
    if (storedRecordHash(prevHash, text, cutStart, cutEnd) !== hash) return undefined;
    return { prevHash, hash };
  }

  #start(w: number): number {
    return this.#spans.valueStart(this.#member[w] as number);
  }

  #end(w: number): number {
    return this.#spans.valueEnd(this.#member[w] as number);
  }

  /** Whether member `w` is the string `value` (a string without escapes: its characters are its value). */
  #isString(w: number, value: unknown): boolean {
    const start = this.#start(w);
    const t = this.#text;
    return (
      typeof value === 'string' &&
      this.#end(w) - start === value.length + 2 &&
      t.charCodeAt(start) === QUOTE &&
      t.startsWith(value, start + 1) &&
      (this.#spans.plain || value.indexOf('\\') < 0)
    );
  }

  /** Whether member `w` is the number `value`. */
  #isNumber(w: number, value: unknown): boolean {
    const start = this.#start(w);
    const c = this.#text.charCodeAt(start);
    return typeof value === 'number' && (c === 0x2d || (c >= 0x30 && c <= 0x39)) && Number(this.#text.slice(start, this.#end(w))) === value;
  }

  /** Whether member `w`'s text is `value`, character for character. */
  #isText(w: number, value: unknown): boolean {
    const start = this.#start(w);
    return typeof value === 'string' && this.#end(w) - start === value.length && this.#text.startsWith(value, start);
  }

  /** Member `w` when it is a string without escapes. */
  #stringValue(w: number): string | undefined {
    const start = this.#start(w);
    const end = this.#end(w);
    if (this.#text.charCodeAt(start) !== QUOTE) return undefined;
    const value = this.#text.slice(start + 1, end - 1);
    return this.#spans.plain || value.indexOf('\\') < 0 ? value : undefined;
  }

  /** Whether the encoded columns go on with `member.nested` (null when `member` is not an object or lacks it). */
  #nestedEncoded(w: number, nested: string): boolean {
    const t = this.#text;
    const objectStart = this.#start(w);
    const start = t.charCodeAt(objectStart) === OPEN_BRACE ? memberValueStart(t, objectStart, nested, this.#spans.plain) : -1;
    if (start >= 0) return this.#encoded(start, valueEnd(t, start, this.#spans.plain));
    if (this.#columns.charCodeAt(this.#at) !== 0x6e /* n */) return false;
    this.#at += 1;
    return true;
  }

  /**
   * Whether the encoded columns go on with the value whose text is t[start, end), in the
   * encoding of ENCODED_COLUMNS; false also for a value that encoding has no form for (an
   * object, an array, a boolean, a fraction), a string with an escape, or one holding U+FFFD.
   */
  #encoded(start: number, end: number): boolean {
    const t = this.#text;
    const columns = this.#columns;
    let at = this.#at;
    const tag = columns.charCodeAt(at);
    const c = t.charCodeAt(start);
    if (c === QUOTE) {
      // s<UTF-8 byte length>:<characters>
      if (tag !== 0x73 /* s */) return false;
      let declared = 0;
      let d = columns.charCodeAt(++at);
      if (d < 0x30 || d > 0x39 || (d === 0x30 && columns.charCodeAt(at + 1) !== 0x3a)) return false;
      for (; d >= 0x30 && d <= 0x39; d = columns.charCodeAt(++at)) declared = declared * 10 + (d - 0x30);
      if (d !== 0x3a /* : */ || declared > columns.length) return false;
      at += 1;
      if (this.#ascii) {
        // ASCII on this side, so equal characters are ASCII on the record's side too.
        const text = t.slice(start + 1, end - 1);
        if (text.length !== declared || !columns.startsWith(text, at) || (!this.#spans.plain && text.includes('\\'))) return false;
        this.#at = at + declared;
        return true;
      }
      let bytes = 0;
      for (let k = start + 1; k < end - 1; k++, at++) {
        const u = t.charCodeAt(k);
        if (u !== columns.charCodeAt(at)) return false;
        if (u < 0x80) {
          if (u === 0x5c /* \ */) return false;
          bytes += 1;
        } else if (u < 0x800) {
          bytes += 2;
        } else {
          if (u === 0xfffd) return false;
          bytes += 3; // no surrogates: canonicalMembers refuses them
        }
      }
      if (bytes !== declared) return false;
      this.#at = at;
      return true;
    }
    if (c === 0x6e /* n: null, the only value that starts so */) {
      if (tag !== 0x6e) return false;
      this.#at = at + 1;
      return true;
    }
    if (c === 0x2d || (c >= 0x30 && c <= 0x39)) {
      // i<the integer's digits, as the record has them>;
      if (tag !== 0x69 /* i */) return false;
      at += 1;
      for (let k = start; k < end; k++, at++) {
        const u = t.charCodeAt(k);
        if ((u < 0x30 || u > 0x39) && !(u === 0x2d && k === start)) return false;
        if (u !== columns.charCodeAt(at)) return false;
      }
      if (columns.charCodeAt(at) !== 0x3b /* ; */) return false;
      this.#at = at + 1;
      return true;
    }
    return false;
  }
}

/**
 * Row `i` of `page` as a record whose content was erased (erasedBy set), when it is one of `chain`
 * at the seq it is stored at and its search columns agree with it, as verifyChain's slow path would
 * find; undefined otherwise (the slow path then decides). What is left of an erased record is small:
 * it is parsed here rather than read again. Its hash is not recomputed (it cannot be: see
 * src/audit/erasure.ts); verifyChain hands it to its onErased check.
 */
export function erasedRow(page: StoredAuditPage, i: number, chain: string): AuditRecord | undefined {
  const text = page.record[i];
  if (typeof text !== 'string' || !text.includes('"erasedBy":')) return undefined;
  let record: AuditRecord;
  try {
    record = JSON.parse(text) as AuditRecord;
  } catch {
    return undefined;
  }
  if (
    record === null ||
    typeof record !== 'object' ||
    typeof record.erasedBy !== 'string' ||
    record.chain !== chain ||
    record.seq !== page.seq[i] ||
    typeof record.prevHash !== 'string' ||
    typeof record.hash !== 'string' ||
    record.time !== page.time[i] ||
    !Array.isArray(record.reasons)
  )
    return undefined;
  try {
    return page.reasons[i] === JSON.stringify(record.reasons) && encodeColumns(derivedColumns(record)) === page.columns[i]
      ? record
      : undefined;
  } catch {
    return undefined;
  }
}
