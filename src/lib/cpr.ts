/**
 * CPR numbers: ten digits, DDMMYY-SSSS; the first six are a real date, the seventh digit with
 * the year gives the century. The check digit (modulus 11) was dropped in 2007, so any serial
 * is valid in form.
 *
 * The gateway's synthetic citizens all have a serial 99NN (digits 7-8 are "99"): recognisably
 * fake for anyone who knows the convention, yet valid in form. 9 in position 7 with year 37-99
 * means born 1937-1999 and with year 00-36 born 2000-2036.
 */

const CPR_SHAPE = /^[0-9]{10}$/;

/** The birth year of a CPR number from its year digits and seventh digit, or undefined. */
export function cprCentury(yy: number, seventh: number): number | undefined {
  if (seventh <= 3) return 1900 + yy;
  if (seventh === 4 || seventh === 9) return yy <= 36 ? 2000 + yy : 1900 + yy;
  if (seventh >= 5 && seventh <= 8) return yy <= 57 ? 2000 + yy : 1800 + yy;
  return undefined;
}

/**
 * The citizen's birth date (YYYY-MM-DD) from a CPR number: its first six digits, with the century
 * from the seventh digit. Undefined when the value is not ten digits whose date, in that century,
 * is a real one (e.g. 29 February of a year that is no leap year in the century the seventh digit
 * gives): the birth date cannot be determined. Never put the number or the date in a log.
 *
 * @example
 *   cprBirthDate('2902049901') // '2004-02-29' (seventh digit 9, year 04: the 2000s)
 *   cprBirthDate('0101379901') // '1937-01-01' (seventh digit 9, year 37: the 1900s)
 *   cprBirthDate('2902019901') // undefined (2001 is no leap year)
 */
export function cprBirthDate(value: string): string | undefined {
  if (!CPR_SHAPE.test(value)) return undefined;
  const dd = Number(value.slice(0, 2));
  const mm = Number(value.slice(2, 4));
  const yy = Number(value.slice(4, 6));
  const year = cprCentury(yy, Number(value[6]));
  if (year === undefined || mm < 1 || mm > 12 || dd < 1) return undefined;
  const daysInMonth = new Date(Date.UTC(year, mm, 0)).getUTCDate();
  if (dd > daysInMonth) return undefined;
  return `${year}-${value.slice(2, 4)}-${value.slice(0, 2)}`;
}

/** True when the string is ten ASCII digits whose first six are a real date. */
export function isValidCpr(value: string): boolean {
  return cprBirthDate(value) !== undefined;
}

/** True for the synthetic population's numbers (serial 99NN). */
export function isSyntheticCpr(value: string): boolean {
  return isValidCpr(value) && value.slice(6, 8) === '99';
}

/*
 * The personal-data detector (ARCHITECTURE invariant 11): the one place that decides whether a
 * string may hold a CPR number, in any written form. Every caller-controlled string that can
 * reach the audit trail, a log line, a header, a metric label, an error message or a DPO page
 * passes through `mayHoldCpr`; the log scrubber uses `redactCpr`; input that is meant to be one
 * CPR number is read with `parseCpr`.
 *
 * A hit is a real date (DDMMYY) followed by a four-digit serial, not inside a longer run of
 * digits, with or without separators (spaces, hyphens and dashes, dots, commas, colons, plus
 * signs, slashes, underscores, up to four of them) between the day, month, year and serial, a
 * two- or (followed by a separator) four-digit year, in the digits of any script, with
 * invisible format characters (zero-width space, soft hyphen) anywhere, standing alone, inside
 * longer text or glued to letters, whatever digits or text stand before it. Canonical UUIDs and hex runs of 32 or more characters are identifiers made by
 * machines, not text: a digit run in them is random and is not a hit.
 */

/** Separator characters: white space (any Unicode space), hyphens and dashes, dot, comma, colon, plus, slash, backslash, underscore. */
const SEP_CHARS = '\\s.,:+_/\\\\\\u2010-\\u2015\\u2212\\uFE58\\uFE63-';
const SEP = `[${SEP_CHARS}]{0,4}`;
const SEP1 = `[${SEP_CHARS}]{1,4}`;
/**
 * Day, month, then a two-digit year or (followed by a separator) a four-digit one, then the
 * serial. Sticky: `spans` tries it at every position itself, so that a candidate that is no
 * date (a case number or a phone number just before the CPR number) never hides the number.
 */
const CPR_AT = new RegExp(
  `(?<![0-9])([0-9]{2})${SEP}([0-9]{2})(?:${SEP}([0-9]{2})${SEP}|${SEP}(?:18|19|20)([0-9]{2})${SEP1})([0-9]{4})(?![0-9])`,
  'y',
);
const CPR_WHOLE = new RegExp(`^\\s*(?:${CPR_AT.source})\\s*$`);
/** Identifiers that are read as a whole, never as text: canonical UUIDs and long hex digests. */
const IDENTIFIER =
  /(?<![0-9A-Za-z])(?:[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|[0-9a-fA-F]{32,})(?![0-9A-Za-z])/g;
/** Ten digits need at least ten characters; cheaper than the full pattern for short ids. */
const TEN_DIGITS = /(?:[0-9][^0-9]{0,4}){9}[0-9]/;
// eslint-disable-next-line no-control-regex -- the range starts at NUL on purpose: all of ASCII
const ASCII = /^[\x00-\x7f]*$/;
/** Invisible format characters (zero-width space, soft hyphen, joiners, direction marks) that may sit between digits. */
const FORMAT_CHARS = /\p{Cf}/gu;
/** Decimal digits of any script that NFKC leaves as they are (Arabic-Indic, Devanagari, ...). */
const OTHER_DIGITS = /(?![0-9])\p{Nd}/gu;
const IS_DIGIT = /^\p{Nd}$/u;

/** A piece of text where a CPR number was found: [start, end) in the text searched. */
interface CprSpan {
  readonly start: number;
  readonly end: number;
}

/** The value of a decimal digit of any script: each script's digits are one run, 0 to 9. */
function digitValue(ch: string): string {
  const cp = ch.codePointAt(0)!;
  let value = 0;
  while (value < 9 && IS_DIGIT.test(String.fromCodePoint(cp - value - 1))) value += 1;
  return String(value);
}

/**
 * ASCII text is returned as is. Other text loses its invisible format characters, and its
 * digits become ASCII: compatibility forms (full-width) through NFKC, other scripts by value.
 */
function fold(text: string): string {
  return ASCII.test(text) ? text : text.normalize('NFKC').replace(FORMAT_CHARS, '').replace(OTHER_DIGITS, digitValue);
}

function spans(text: string): CprSpan[] {
  if (!TEN_DIGITS.test(text)) return [];
  // Identifiers are blanked with same-length filler, so positions still match the text.
  const searched = text.includes('-') || text.length >= 32 ? text.replace(IDENTIFIER, (m) => 'x'.repeat(m.length)) : text;
  const found: CprSpan[] = [];
  for (let at = 0; at <= searched.length - 10;) {
    const c = searched.charCodeAt(at);
    if (c < 48 || c > 57) {
      at += 1;
      continue;
    }
    CPR_AT.lastIndex = at;
    const m = CPR_AT.exec(searched);
    if (m !== null && isValidCpr(`${m[1]}${m[2]}${m[3] ?? m[4]}${m[5]}`)) {
      found.push({ start: at, end: at + m[0].length });
      at += m[0].length;
    } else {
      at += 1;
    }
  }
  return found;
}

/**
 * True when the text may hold a CPR number in any written form (see above). Use it on every
 * caller-controlled string before it is stored, logged, echoed or shown.
 *
 * @example
 * mayHoldCpr('SOF-2026-0001')   // false
 * mayHoldCpr('x31.12.79-9923')  // true
 */
export function mayHoldCpr(text: string): boolean {
  return spans(fold(text)).length > 0;
}

/**
 * The text with every CPR number in it replaced by `replacement`. Non-ASCII text in which a
 * number is found comes back folded (NFKC, format characters removed, digits in ASCII), redacted.
 *
 * @example
 * redactCpr('cpr 311279-9923 seen', '[redacted]') // 'cpr [redacted] seen'
 */
export function redactCpr(text: string, replacement: string): string {
  const folded = fold(text);
  const found = spans(folded);
  if (found.length === 0) return text;
  let out = '';
  let at = 0;
  for (const s of found) {
    out += folded.slice(at, s.start) + replacement;
    at = s.end;
  }
  return out + folded.slice(at);
}

/**
 * The ten digits of a text that is one CPR number in any written form (surrounding white space
 * allowed), or undefined. For input meant to name a citizen, such as a DPO's search form.
 *
 * @example
 * parseCpr('31.12.79-9923') // '3112799923'
 * parseCpr('SOF-2026-0001') // undefined
 */
export function parseCpr(text: string): string | undefined {
  const m = CPR_WHOLE.exec(fold(text));
  if (m === null) return undefined;
  const digits = `${m[1]}${m[2]}${m[3] ?? m[4]}${m[5]}`;
  return isValidCpr(digits) ? digits : undefined;
}

/** One way people and systems write a CPR number; the tests and the leak scan use the whole list. */
export interface CprWrittenForm {
  readonly name: string;
  /** The number (ten digits) in this form. */
  write(digits: string): string;
}

const parts = (d: string): [string, string, string, string] => [d.slice(0, 2), d.slice(2, 4), d.slice(4, 6), d.slice(6)];
const fullYear = (d: string): string => String(cprCentury(Number(d.slice(4, 6)), Number(d[6])) ?? 1900 + Number(d.slice(4, 6)));
const fullWidth = (s: string): string => s.replace(/[0-9]/g, (c) => String.fromCharCode(0xff10 + Number(c)));
const arabicIndic = (s: string): string => s.replace(/[0-9]/g, (c) => String.fromCharCode(0x0660 + Number(c)));

/** The written forms the detector recognises, each tested for every position in text. */
export const CPR_WRITTEN_FORMS: readonly CprWrittenForm[] = [
  { name: 'ten digits', write: (d) => d },
  { name: 'hyphen', write: (d) => `${d.slice(0, 6)}-${d.slice(6)}` },
  { name: 'space', write: (d) => `${d.slice(0, 6)} ${d.slice(6)}` },
  { name: 'dot', write: (d) => `${d.slice(0, 6)}.${d.slice(6)}` },
  { name: 'slash', write: (d) => `${d.slice(0, 6)}/${d.slice(6)}` },
  { name: 'underscore', write: (d) => `${d.slice(0, 6)}_${d.slice(6)}` },
  { name: 'spaced hyphen', write: (d) => `${d.slice(0, 6)} - ${d.slice(6)}` },
  { name: 'en dash', write: (d) => `${d.slice(0, 6)}\u2013${d.slice(6)}` },
  { name: 'non-breaking space', write: (d) => `${d.slice(0, 6)}\u00a0${d.slice(6)}` },
  { name: 'hyphenated date', write: (d) => parts(d).join('-') },
  {
    name: 'dotted date, hyphen',
    write: (d) => {
      const [dd, mm, yy, s] = parts(d);
      return `${dd}.${mm}.${yy}-${s}`;
    },
  },
  {
    name: 'dotted date, space',
    write: (d) => {
      const [dd, mm, yy, s] = parts(d);
      return `${dd}.${mm}.${yy} ${s}`;
    },
  },
  {
    name: 'slashed date',
    write: (d) => {
      const [dd, mm, yy, s] = parts(d);
      return `${dd}/${mm}/${yy}-${s}`;
    },
  },
  { name: 'spaced date', write: (d) => parts(d).join(' ') },
  {
    name: 'hyphenated date, space',
    write: (d) => {
      const [dd, mm, yy, s] = parts(d);
      return `${dd}-${mm}-${yy} ${s}`;
    },
  },
  {
    name: 'four-digit year',
    write: (d) => {
      const [dd, mm, , s] = parts(d);
      return `${dd}-${mm}-${fullYear(d)}-${s}`;
    },
  },
  {
    name: 'dotted four-digit year',
    write: (d) => {
      const [dd, mm, , s] = parts(d);
      return `${dd}.${mm}.${fullYear(d)} ${s}`;
    },
  },
  { name: 'full-width digits', write: (d) => fullWidth(d) },
  { name: 'full-width digits, hyphen', write: (d) => fullWidth(`${d.slice(0, 6)}-${d.slice(6)}`) },
  { name: 'Arabic-Indic digits', write: (d) => arabicIndic(d) },
  { name: 'zero-width space', write: (d) => `${d.slice(0, 6)}\u200b${d.slice(6)}` },
  { name: 'soft hyphens', write: (d) => parts(d).join('\u00ad') },
  { name: 'colon', write: (d) => `${d.slice(0, 6)}:${d.slice(6)}` },
  { name: 'plus', write: (d) => `${d.slice(0, 6)}+${d.slice(6)}` },
  { name: 'commas', write: (d) => parts(d).join(',') },
  { name: 'four spaces', write: (d) => `${d.slice(0, 6)}    ${d.slice(6)}` },
  {
    name: 'four-digit year, no separator before it',
    write: (d) => {
      const [dd, mm, , s] = parts(d);
      return `${dd}${mm}${fullYear(d)}-${s}`;
    },
  },
];
