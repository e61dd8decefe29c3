/**
 * Reading the relations import's CSV files (docs/RELATIONS.md, "Import and reconciliation"):
 * streamed line by line, never the whole file in memory; UTF-8, a byte order mark at the start
 * tolerated; lines end in LF or CRLF; fields are separated by commas and may be quoted as RFC 4180
 * says (`"` around the field, `""` for a quote inside it).
 *
 * One departure from RFC 4180, on purpose: a quoted field may not hold a line break. No value of
 * the import format may (a case reference or caseworker id is printable text on one line), and so
 * every record is one line: a row number is the line number an editor shows (the header is row 1),
 * and a record that cannot be read costs that one line only, never the rest of the file. A
 * general CSV parser (csv-parse, tried) recovers from a stray quote by reading on to the next
 * quote, which can swallow every row after it.
 */

/** A line longer than this is not a row of the import format (a runaway field, a binary file). */
export const MAX_LINE_BYTES = 4096;

/** One line of the file: its fields, or why it cannot be read (a fixed text, never the line's content). */
export type CsvLine = { readonly row: number; readonly fields: string[] } | { readonly row: number; readonly problem: string };

const LF = 0x0a;
const CR = 0x0d;
const BOM = '\ufeff';

/**
 * The lines of a CSV file read from `input` (a file stream's chunks), each with its row number,
 * as they arrive. Empty lines are skipped (they still count as rows). A line that is not UTF-8,
 * is longer than MAX_LINE_BYTES, or whose quoting is broken comes as a `problem`, and reading
 * goes on with the next line.
 *
 * @example
 *   for await (const line of csvLines(createReadStream(file))) if ('fields' in line) console.log(line.row, line.fields.length);
 */
export async function* csvLines(input: AsyncIterable<Uint8Array | string> | Iterable<Uint8Array | string>): AsyncGenerator<CsvLine> {
  const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
  let row = 0;
  /** The start of the current line, not yet ended (bytes of earlier chunks). */
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  /** The current line is over long: its bytes are dropped up to its end. */
  let tooLong = false;

  const finish = (bytes: Buffer): CsvLine | undefined => {
    row += 1;
    if (tooLong) {
      tooLong = false;
      return { row, problem: `the line is longer than ${MAX_LINE_BYTES} bytes` };
    }
    const end = bytes.length > 0 && bytes[bytes.length - 1] === CR ? bytes.length - 1 : bytes.length;
    let text: string;
    try {
      text = decoder.decode(bytes.subarray(0, end));
    } catch {
      return { row, problem: 'the line is not UTF-8 text' };
    }
    if (row === 1 && text.startsWith(BOM)) text = text.slice(1);
    if (text.length === 0) return undefined;
    return parseLine(row, text);
  };

  for await (const chunk of input) {
    const buf = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    let at = 0;
    while (at < buf.length) {
      const nl = buf.indexOf(LF, at);
      const end = nl < 0 ? buf.length : nl;
      if (!tooLong) {
        if (pendingBytes + (end - at) > MAX_LINE_BYTES + 1) {
          tooLong = true;
          pending = [];
          pendingBytes = 0;
        } else {
          pending.push(buf.subarray(at, end));
          pendingBytes += end - at;
        }
      }
      if (nl < 0) break;
      const line = pending.length === 1 ? pending[0]! : Buffer.concat(pending, pendingBytes);
      pending = [];
      pendingBytes = 0;
      const out = finish(line);
      if (out !== undefined) yield out;
      at = nl + 1;
    }
    // A chunk's bytes kept in `pending` must outlive the chunk (a stream may reuse its buffer).
    if (pending.length > 0) pending = [Buffer.from(Buffer.concat(pending, pendingBytes))];
  }
  if (pendingBytes > 0 || tooLong) {
    const out = finish(Buffer.concat(pending, pendingBytes));
    if (out !== undefined) yield out;
  }
}

/** The fields of one line, RFC 4180 quoting, or why they cannot be read. */
export function parseLine(row: number, text: string): CsvLine {
  const fields: string[] = [];
  let i = 0;
  for (;;) {
    if (text.charCodeAt(i) === 0x22) {
      let value = '';
      i += 1;
      for (;;) {
        const q = text.indexOf('"', i);
        if (q < 0) return { row, problem: 'a quoted field is not closed on its line (no value may hold a line break)' };
        value += text.slice(i, q);
        if (text.charCodeAt(q + 1) === 0x22) {
          value += '"';
          i = q + 2;
        } else {
          i = q + 1;
          break;
        }
      }
      fields.push(value);
      if (i === text.length) return { row, fields };
      if (text.charCodeAt(i) !== 0x2c) return { row, problem: 'text follows a closing quote before the next comma' };
      i += 1;
    } else {
      const comma = text.indexOf(',', i);
      const end = comma < 0 ? text.length : comma;
      const value = text.slice(i, end);
      if (value.includes('"')) return { row, problem: 'a quote inside a field that does not start with one' };
      fields.push(value);
      if (comma < 0) return { row, fields };
      i = comma + 1;
    }
  }
}
