import { pointerSegment } from './source.js';

/**
 * Rules that keep a contract's schemas safe against hostile or careless data, in the spirit of
 * ajv's json-schema-secure meta-schema:
 *
 * - every object schema states `additionalProperties: false` (nothing unnamed gets through);
 * - every string is bounded: `maxLength`, or `enum`/`const`, or a format of bounded length;
 *   a `pattern` always needs `maxLength` (a regular expression over unbounded input);
 * - every array has `maxItems` (and so does `uniqueItems`, whose check is quadratic);
 * - every place a value is validated says what it is (`type`, `enum`, `const`, `$ref` or a
 *   combination of such schemas): `{}` or `true` would let anything through.
 */
export interface SchemaProblem {
  /** JSON pointer into the schema, relative to where the check started. */
  readonly pointer: string;
  readonly problem: string;
}

/** Formats whose valid values have a small fixed length; the format check bounds the string. */
const BOUNDED_FORMATS = new Set(['date', 'time', 'date-time', 'cpr', 'uuid']);

/** Keywords holding one subschema in which a value is validated. */
const VALUE_SUBSCHEMA = ['items', 'additionalProperties', 'contains', 'unevaluatedItems', 'unevaluatedProperties', 'propertyNames'];
/** Keywords holding a map of subschemas in which values are validated. */
const VALUE_SUBSCHEMA_MAPS = ['properties', 'patternProperties', '$defs', 'definitions'];
/** Keywords holding a list of alternative value schemas. */
const VALUE_SUBSCHEMA_LISTS = ['prefixItems', 'anyOf', 'oneOf'];
/** Keywords holding schemas that only add constraints (no type needed). */
const CONSTRAINT_SUBSCHEMA = ['not', 'if', 'then', 'else'];
const CONSTRAINT_SUBSCHEMA_LISTS = ['allOf'];
const CONSTRAINT_SUBSCHEMA_MAPS = ['dependentSchemas'];

type Schema = Record<string, unknown>;

function isSchemaObject(value: unknown): value is Schema {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function types(schema: Schema): Set<string> {
  const t = schema.type;
  if (typeof t === 'string') return new Set([t]);
  if (Array.isArray(t)) return new Set(t.filter((x): x is string => typeof x === 'string'));
  return new Set();
}

/** Checks a schema (and all its subschemas) against the rules above; returns every problem. */
export function checkSchemaSafety(schema: unknown, pointer = ''): SchemaProblem[] {
  const problems: SchemaProblem[] = [];
  walk(schema, pointer, true, problems);
  return problems;
}

function walk(schema: unknown, pointer: string, valuePosition: boolean, out: SchemaProblem[]): void {
  if (schema === true || (isSchemaObject(schema) && Object.keys(schema).length === 0)) {
    if (valuePosition) out.push({ pointer, problem: 'accepts any value; say what is allowed (type, enum or const)' });
    return;
  }
  if (!isSchemaObject(schema)) return; // `false` (nothing allowed) is safe; other values are Ajv's to refuse
  const t = types(schema);
  const hasValues = 'enum' in schema || 'const' in schema;
  const combined = ['anyOf', 'oneOf', 'allOf', '$ref'].some((k) => k in schema);
  if (valuePosition && t.size === 0 && !hasValues && !combined) {
    out.push({ pointer, problem: 'has no "type" (nor enum, const or $ref); say what is allowed' });
  }
  const isObject = t.has('object') || (valuePosition && t.size === 0 && ('properties' in schema || 'required' in schema));
  if (isObject && schema.additionalProperties !== false) {
    out.push({ pointer, problem: 'object schema without "additionalProperties": false; every object must name all its properties' });
  }
  if (t.has('string') && !hasValues) {
    const format = typeof schema.format === 'string' ? schema.format : undefined;
    if ('pattern' in schema && !('maxLength' in schema)) {
      out.push({ pointer, problem: 'string with "pattern" but no "maxLength"; bound the input a regular expression runs over' });
    } else if (!('maxLength' in schema) && !(format !== undefined && BOUNDED_FORMATS.has(format))) {
      out.push({
        pointer,
        problem: `string without "maxLength"${format ? ` (format "${format}" is not of bounded length)` : ''}; add maxLength, enum or a bounded format (${[...BOUNDED_FORMATS].join(', ')})`,
      });
    }
  }
  const isArray = t.has('array') || (valuePosition && t.size === 0 && ('items' in schema || 'prefixItems' in schema));
  if ((isArray || 'uniqueItems' in schema) && !('maxItems' in schema)) {
    out.push({ pointer, problem: 'array without "maxItems"; bound every list' });
  }

  const at = (...segments: (string | number)[]): string => `${pointer}/${segments.map(pointerSegment).join('/')}`;
  for (const k of VALUE_SUBSCHEMA) {
    if (k in schema && !(k === 'additionalProperties' && typeof schema[k] === 'boolean')) walk(schema[k], at(k), true, out);
  }
  for (const k of VALUE_SUBSCHEMA_MAPS) {
    const m = schema[k];
    if (isSchemaObject(m)) for (const [name, sub] of Object.entries(m)) walk(sub, at(k, name), true, out);
  }
  for (const k of VALUE_SUBSCHEMA_LISTS) {
    const l = schema[k];
    if (Array.isArray(l)) l.forEach((sub, i) => walk(sub, at(k, i), true, out));
  }
  for (const k of CONSTRAINT_SUBSCHEMA) {
    if (k in schema) walk(schema[k], at(k), false, out);
  }
  for (const k of CONSTRAINT_SUBSCHEMA_LISTS) {
    const l = schema[k];
    if (Array.isArray(l)) l.forEach((sub, i) => walk(sub, at(k, i), false, out));
  }
  for (const k of CONSTRAINT_SUBSCHEMA_MAPS) {
    const m = schema[k];
    if (isSchemaObject(m)) for (const [name, sub] of Object.entries(m)) walk(sub, at(k, name), false, out);
  }
}
