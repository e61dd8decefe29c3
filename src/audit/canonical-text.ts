/**
 * Reads the stored text of an audit record without building it as objects: shows that the text
 * is canonical JSON, and says where its members are. The verifier hashes the stored text itself
 * (storedRecordHash in chain.ts) instead of parsing it and serialising it again.
 *
 * What "canonical" means is canonicalJson in lib/digest.ts. `canonicalMembers` accepts a strict
 * subset of the canonical texts and refuses everything else; a refusal means only "not shown
 * canonical here" (the caller then parses the text and serialises it again, as before), never
 * "not canonical". What it accepts:
 *
 *   text    := object, and nothing before or after it (no whitespace anywhere)
 *   object  := "{}" | "{" key ":" value ("," key ":" value)* "}", the keys in strictly
 *              increasing UTF-16 code-unit order (so no key twice)
 *   array   := "[]" | "[" value ("," value)* "]"
 *   value   := object | array | string | number | "true" | "false" | "null"
 *   key     := a string without backslash
 *   string  := '"' (character | escape)* '"'; no character of the whole text is a control
 *              character (below U+0020) or a UTF-16 surrogate, and the escapes are the ones
 *              JSON.stringify writes: \" \\ \b \f \n \r \t, and \u00xx (lowercase hex) for the
 *              other control characters
 *   number  := a token t of the characters 0-9 . e E + - with String(Number(t)) === t
 *
 * Why an accepted text T is exactly canonicalJson(JSON.parse(T)), part by part:
 *   - JSON.stringify writes a string without surrogates character for character, except that
 *     it escapes '"', '\' and the control characters, each in exactly one way: the way accepted
 *     here. So an accepted string is JSON.stringify of what JSON.parse reads from it;
 *   - String(Number(t)) === t says that t is how JSON.stringify writes the number JSON.parse reads
 *     from it (both use Number::toString; "-0", "1.0", "1e2", "01" and "1e999" are refused);
 *   - an object's members come out of canonicalJson sorted by Array.prototype.sort, which
 *     compares keys by UTF-16 code units: the order the text has to have (keys have no escapes,
 *     so their text is their value). Keys are strictly increasing, so JSON.parse keeps every
 *     member (of a repeated key it would keep only the last);
 *   - arrays and the literals are written as they are read.
 * Depth is capped (MAX_DEPTH); a deeper text is refused, not read.
 */

/** Nesting deeper than this is left to JSON.parse (records are three levels deep). */
const MAX_DEPTH = 32;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;

/** A control character or a surrogate anywhere: not on the fast path. */
// eslint-disable-next-line no-control-regex -- finding control characters is the point
const CONTROL_OR_SURROGATE = /[\u0000-\u001f\ud800-\udfff]/;

/**
 * The top-level members of a text that canonicalMembers accepted: for member i, where its key's
 * characters start and end (without the quotes) and where its value's text starts and ends.
 */
export class MemberSpans {
  /** keyStart, keyEnd, valueStart, valueEnd of member i at 4i .. 4i+3. */
  readonly at: number[] = [];
  count = 0;
  /** The text has no backslash at all (no string in it has an escape). */
  plain = true;

  keyStart(i: number): number {
    return this.at[4 * i] as number;
  }
  keyEnd(i: number): number {
    return this.at[4 * i + 1] as number;
  }
  valueStart(i: number): number {
    return this.at[4 * i + 2] as number;
  }
  valueEnd(i: number): number {
    return this.at[4 * i + 3] as number;
  }
}

/**
 * Fills `spans` with the top-level members of `text` and returns true when `text` is shown to be
 * the canonical JSON of an object (see the top of this file); false when it is not shown so.
 *
 * @example
 * const spans = new MemberSpans();
 * canonicalMembers('{"a":1,"b":[true]}', spans); // true; spans.count === 2
 * canonicalMembers('{"b":1,"a":2}', spans); // false: keys out of order
 */
export function canonicalMembers(text: string, spans: MemberSpans): boolean {
  spans.count = 0;
  spans.plain = text.indexOf('\\') < 0;
  if (text.length < 2 || text.charCodeAt(0) !== OPEN_BRACE || CONTROL_OR_SURROGATE.test(text)) return false;
  return objectEnd(text, 0, 0, spans.plain, spans) === text.length;
}

/**
 * Where the value of member `name` of the object at `objectStart` starts, or -1 if it has none.
 * Only for an object inside a text canonicalMembers accepted (`plain` as it found).
 */
export function memberValueStart(text: string, objectStart: number, name: string, plain: boolean): number {
  let pos = objectStart + 1;
  if (text.charCodeAt(pos) === CLOSE_BRACE) return -1;
  for (;;) {
    const keyStart = pos + 1;
    const keyEnd = text.indexOf('"', keyStart);
    const valueStart = keyEnd + 2;
    if (keyEnd - keyStart === name.length && text.startsWith(name, keyStart)) return valueStart;
    const valueEnd = valueEndAt(text, valueStart, 0, plain);
    if (valueEnd < 0 || text.charCodeAt(valueEnd) !== COMMA) return -1;
    pos = valueEnd + 1;
  }
}

/** Where the value starting at `start` ends (one past it), in a text canonicalMembers accepted. */
export function valueEnd(text: string, start: number, plain: boolean): number {
  return valueEndAt(text, start, 0, plain);
}

/**
 * Where the object starting at `p` ends (one past its "}"), or -1. Records its members in
 * `spans` when given (the top level only).
 */
function objectEnd(t: string, p: number, depth: number, plain: boolean, spans: MemberSpans | undefined): number {
  if (depth > MAX_DEPTH) return -1;
  let pos = p + 1;
  if (t.charCodeAt(pos) === CLOSE_BRACE) return pos + 1;
  let prevStart = -1;
  let prevEnd = -1;
  for (;;) {
    if (t.charCodeAt(pos) !== QUOTE) return -1;
    const keyStart = pos + 1;
    const keyEnd = t.indexOf('"', keyStart);
    if (keyEnd < 0) return -1;
    // A key with an escape would end at an escaped quote, or sort by other characters than its own.
    if (!plain) {
      const slash = t.indexOf('\\', keyStart);
      if (slash >= 0 && slash < keyEnd) return -1;
    }
    if (prevStart >= 0 && !before(t, prevStart, prevEnd, keyStart, keyEnd)) return -1;
    if (t.charCodeAt(keyEnd + 1) !== COLON) return -1;
    const valueStart = keyEnd + 2;
    const valueEnd = valueEndAt(t, valueStart, depth + 1, plain);
    if (valueEnd < 0) return -1;
    if (spans !== undefined) {
      const k = 4 * spans.count;
      spans.at[k] = keyStart;
      spans.at[k + 1] = keyEnd;
      spans.at[k + 2] = valueStart;
      spans.at[k + 3] = valueEnd;
      spans.count += 1;
    }
    prevStart = keyStart;
    prevEnd = keyEnd;
    const c = t.charCodeAt(valueEnd);
    if (c === CLOSE_BRACE) return valueEnd + 1;
    if (c !== COMMA) return -1;
    pos = valueEnd + 1;
  }
}

/** Whether t[aStart, aEnd) sorts strictly before t[bStart, bEnd) by UTF-16 code units. */
function before(t: string, aStart: number, aEnd: number, bStart: number, bEnd: number): boolean {
  const aLength = aEnd - aStart;
  const bLength = bEnd - bStart;
  const common = aLength < bLength ? aLength : bLength;
  for (let i = 0; i < common; i++) {
    const a = t.charCodeAt(aStart + i);
    const b = t.charCodeAt(bStart + i);
    if (a !== b) return a < b;
  }
  return aLength < bLength;
}

/** Where the value starting at `p` ends (one past it), or -1. */
function valueEndAt(t: string, p: number, depth: number, plain: boolean): number {
  const c = t.charCodeAt(p);
  if (c === QUOTE) {
    // Without a backslash in the text, the next quote closes the string.
    const close = plain ? t.indexOf('"', p + 1) : escapedStringEnd(t, p + 1);
    return close < 0 ? -1 : close + 1;
  }
  if (c === OPEN_BRACE) return objectEnd(t, p, depth, plain, undefined);
  if (c === OPEN_BRACKET) return arrayEnd(t, p, depth, plain);
  if (c === 0x74 /* t */) return t.startsWith('true', p) ? p + 4 : -1;
  if (c === 0x66 /* f */) return t.startsWith('false', p) ? p + 5 : -1;
  if (c === 0x6e /* n */) return t.startsWith('null', p) ? p + 4 : -1;
  if (c === 0x2d /* - */ || (c >= 0x30 && c <= 0x39)) return numberEnd(t, p);
  return -1;
}

/** The closing quote of a string whose characters start at `p`, its escapes as JSON.stringify writes them; or -1. */
function escapedStringEnd(t: string, p: number): number {
  for (let i = p; i < t.length; i++) {
    const c = t.charCodeAt(i);
    if (c === QUOTE) return i;
    if (c !== BACKSLASH) continue;
    i += 1;
    const e = t.charCodeAt(i);
    // \" \\ \b \f \n \r \t
    if (e === QUOTE || e === BACKSLASH || e === 0x62 || e === 0x66 || e === 0x6e || e === 0x72 || e === 0x74) continue;
    // \u00xx for a control character that has no short escape
    if (e !== 0x75 /* u */ || t.charCodeAt(i + 1) !== 0x30 || t.charCodeAt(i + 2) !== 0x30) return -1;
    const high = t.charCodeAt(i + 3);
    const low = t.charCodeAt(i + 4);
    const lowValue = low >= 0x30 && low <= 0x39 ? low - 0x30 : low >= 0x61 && low <= 0x66 ? low - 0x61 + 10 : -1;
    if ((high !== 0x30 && high !== 0x31) || lowValue < 0) return -1;
    const code = (high - 0x30) * 16 + lowValue;
    if (code === 0x08 || code === 0x09 || code === 0x0a || code === 0x0c || code === 0x0d) return -1;
    i += 4;
  }
  return -1;
}

function arrayEnd(t: string, p: number, depth: number, plain: boolean): number {
  if (depth > MAX_DEPTH) return -1;
  let pos = p + 1;
  if (t.charCodeAt(pos) === CLOSE_BRACKET) return pos + 1;
  for (;;) {
    const valueEnd = valueEndAt(t, pos, depth + 1, plain);
    if (valueEnd < 0) return -1;
    const c = t.charCodeAt(valueEnd);
    if (c === CLOSE_BRACKET) return valueEnd + 1;
    if (c !== COMMA) return -1;
    pos = valueEnd + 1;
  }
}

function numberEnd(t: string, p: number): number {
  // 1-15 digits, the first not 0: an integer that Number::toString writes exactly so.
  let plainInteger = t.charCodeAt(p) >= 0x31;
  let e = p + 1;
  for (; e < t.length; e++) {
    const c = t.charCodeAt(e);
    if (c >= 0x30 && c <= 0x39) continue;
    if (c === 0x2e /* . */ || c === 0x65 /* e */ || c === 0x45 /* E */ || c === 0x2b /* + */ || c === 0x2d /* - */) {
      plainInteger = false;
      continue;
    }
    break;
  }
  if (plainInteger && e - p <= 15) return e;
  const token = t.slice(p, e);
  return String(Number(token)) === token ? e : -1;
}
