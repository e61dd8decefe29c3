import { isMap, isNode, isScalar, isSeq, LineCounter, parseDocument, visit, type Node } from 'yaml';
import { LoadError } from '../lib/load-error.js';

/**
 * A parsed contract, policy or registry file that can say on which line a JSON pointer lies,
 * so load errors name the file, the line and the place.
 */
export interface SourceFile {
  /** The file as given in messages (relative to the project root). */
  readonly file: string;
  readonly value: unknown;
  /** 1-based line of the value at `pointer`, or of its nearest existing ancestor. */
  lineOf(pointer: string): number | undefined;
  /** A LoadError at `pointer`, with its line. */
  readonly error: (pointer: string, problem: string) => LoadError;
}

const MAX_ALIASES = 100;

/** Splits a JSON pointer ("/a/0/b~1c") into unescaped segments. */
export function pointerSegments(pointer: string): string[] {
  if (pointer === '' || pointer === '/') return [];
  return pointer
    .slice(1)
    .split('/')
    .map((s) => s.replaceAll('~1', '/').replaceAll('~0', '~'));
}

/** Escapes one segment for a JSON pointer. */
export function pointerSegment(segment: string | number): string {
  return String(segment).replaceAll('~', '~0').replaceAll('/', '~1');
}

function locator(contents: Node | null, lines: LineCounter): (pointer: string) => number | undefined {
  return (pointer) => {
    let node: unknown = contents;
    let offset = contents?.range?.[0];
    for (const segment of pointerSegments(pointer)) {
      if (isMap(node)) {
        const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === segment);
        if (!pair) break;
        // Point at the key: that is where a reader looks for "fields:" or "purpose:".
        offset = (isScalar(pair.key) ? pair.key.range?.[0] : undefined) ?? offset;
        node = pair.value;
      } else if (isSeq(node)) {
        const item = node.items[Number(segment)];
        if (item === undefined) break;
        node = item;
        offset = (item as Node).range?.[0] ?? offset;
      } else {
        break;
      }
    }
    return offset === undefined ? undefined : lines.linePos(offset).line;
  };
}

/**
 * Parses a YAML file. Syntax errors (and duplicate keys) become LoadErrors with their line;
 * returns them instead of a SourceFile.
 */
export function parseYamlSource(file: string, text: string): SourceFile | LoadError[] {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: true, uniqueKeys: true, strict: true, resolveKnownTags: false });
  if (doc.errors.length > 0) {
    return doc.errors.map((e) => new LoadError(file, '', `YAML syntax error: ${firstLine(e.message)}`, e.linePos?.[0]?.line));
  }
  // Plain YAML 1.2 without tags: a %YAML 1.1 directive reads 015 as 13 and "n" as false, a tag
  // makes a Date or a Set; the file must mean what a person reading it sees.
  if (doc.directives?.yaml.version !== '1.2')
    return [
      new LoadError(file, '', `the file declares YAML ${doc.directives?.yaml.version}; write plain YAML 1.2 (remove the %YAML line)`),
    ];
  const tagged: { tag: string; line: number | undefined }[] = [];
  visit(doc, (_key, node) => {
    if (isNode(node) && node.tag !== undefined)
      tagged.push({ tag: node.tag, line: node.range ? lines.linePos(node.range[0]).line : undefined });
  });
  if (tagged.length > 0)
    return tagged.map(
      (t) => new LoadError(file, '', `a YAML tag (${JSON.stringify(t.tag.slice(0, 40))}) is not allowed: write the value plainly`, t.line),
    );
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: MAX_ALIASES });
  } catch (err) {
    return [new LoadError(file, '', `cannot read YAML: ${(err as Error).message}`)];
  }
  return source(file, value, locator(doc.contents, lines));
}

/**
 * Parses a JSON file strictly (JSON.parse); lines come from reading the same text as YAML, of
 * which JSON is a subset. Duplicate keys are refused: two readers could see two values.
 */
export function parseJsonSource(file: string, text: string): SourceFile | LoadError[] {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    const message = (err as Error).message;
    const at = /position (\d+)/.exec(message);
    const line = at ? text.slice(0, Number(at[1])).split('\n').length : undefined;
    return [new LoadError(file, '', `JSON syntax error: ${message}`, line)];
  }
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: true, uniqueKeys: true });
  const duplicate = doc.errors.find((e) => e.code === 'DUPLICATE_KEY');
  if (duplicate) return [new LoadError(file, '', firstLine(duplicate.message), duplicate.linePos?.[0]?.line)];
  const lineOf = doc.errors.length === 0 ? locator(doc.contents, lines) : () => undefined;
  return source(file, value, lineOf);
}

/** A parser message without the position and excerpt `yaml` appends (the LoadError has the line). */
function firstLine(message: string): string {
  return (message.split('\n')[0] ?? message).replace(/ at line \d+, column \d+:?$/, '');
}

/** Orders load errors by file, then line, so a reader can walk through a file top to bottom. */
export function byFileAndLine(errors: LoadError[]): LoadError[] {
  return errors.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : (a.line ?? 0) - (b.line ?? 0)));
}

function source(file: string, value: unknown, lineOf: (pointer: string) => number | undefined): SourceFile {
  return {
    file,
    value,
    lineOf,
    error: (pointer, problem) => new LoadError(file, pointer, problem, lineOf(pointer)),
  };
}

/** The subschema at a JSON pointer of Ajv's schemaPath ("#/properties/a/additionalProperties"). */
function schemaAt(root: unknown, schemaPath: string): unknown {
  let node = root;
  for (const segment of pointerSegments(schemaPath.replace(/^#/, ''))) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<string, unknown>)[segment];
  }
  return node;
}

/** Edit distance, for "did you mean" on a misspelt property name (names are short). */
function distance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length]!;
}

/** The allowed name nearest to a misspelt `name`, when it is near enough to be what was meant. */
export function nearest(name: string, allowed: readonly string[]): string | undefined {
  if (allowed.length === 0) return undefined;
  const near = allowed.map((a) => [a, distance(name.toLowerCase(), a.toLowerCase())] as const).sort((x, y) => x[1] - y[1])[0]!;
  return near[1] <= Math.max(2, Math.floor(name.length / 3)) ? near[0] : undefined;
}

function unknownProperty(name: string, allowed: readonly string[]): string {
  if (allowed.length === 0) return `unknown property "${name}"`;
  const guess = nearest(name, allowed);
  return `unknown property "${name}" (allowed here: ${allowed.join(', ')})${guess !== undefined ? `; did you mean "${guess}"?` : ''}`;
}

interface AjvError {
  instancePath: string;
  schemaPath: string;
  keyword: string;
  params: Record<string, unknown>;
  message?: string;
}

/**
 * Ajv errors as LoadErrors with lines. `schema` is the root schema validated against (a
 * ValidateFunction's `.schema`), used to name the properties allowed where an unknown one stands.
 */
export function schemaErrors(src: SourceFile, errors: readonly AjvError[], schema?: unknown): LoadError[] {
  const seen = new Set<string>();
  const out: LoadError[] = [];
  for (const e of errors) {
    let pointer = e.instancePath;
    let problem = e.message ?? 'is invalid';
    if (e.keyword === 'additionalProperties') {
      const name = String(e.params.additionalProperty);
      const parent = schemaAt(schema, e.schemaPath.replace(/\/additionalProperties$/, '')) as
        { properties?: Record<string, unknown> } | undefined;
      pointer = `${e.instancePath}/${pointerSegment(name)}`;
      problem = unknownProperty(name, Object.keys(parent?.properties ?? {}));
    } else if (e.keyword === 'required') {
      problem = `missing required property "${String(e.params.missingProperty)}"`;
    } else if (e.keyword === 'enum') {
      problem = `must be one of ${JSON.stringify(e.params.allowedValues)}`;
    } else if (e.keyword === 'format' && e.params.format === 'date') {
      problem = 'must be a real calendar date, YYYY-MM-DD';
    } else if (e.keyword === 'if' || e.keyword === 'oneOf' || e.keyword === 'anyOf') {
      continue; // the branch errors say what is wrong
    }
    const key = `${pointer}\0${problem}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(src.error(pointer, problem));
  }
  return out;
}
