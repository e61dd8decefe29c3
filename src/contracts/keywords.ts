import type { Ajv2020 } from 'ajv/dist/2020.js';
import type { AnySchema, ErrorObject } from 'ajv';
import type { SchemaProblem } from './safety.js';
import { nearest, pointerSegment, pointerSegments } from './source.js';

/**
 * The keywords of a contract's schemas, checked before the schema is compiled, so that a
 * mistake is reported at the keyword that holds it (its JSON pointer, hence its line) with what
 * is allowed there, instead of as one compiler message about the whole schema:
 *
 * - every keyword's value against the JSON Schema draft 2020-12 meta-schema (Ajv's
 *   validateSchema, all errors), e.g. `"type": "bool"` or `"maxItems": "3"`;
 * - no unknown keyword (as Ajv's strict mode), e.g. `"maxLenght"`;
 * - no unknown format, e.g. `"format": "dat"`.
 */

/** The type names JSON Schema knows. */
const TYPES = ['array', 'boolean', 'integer', 'null', 'number', 'object', 'string'];

/** Keywords whose value is one schema. */
const SCHEMA_KEYWORDS = new Set([
  'items',
  'additionalProperties',
  'contains',
  'unevaluatedItems',
  'unevaluatedProperties',
  'propertyNames',
  'not',
  'if',
  'then',
  'else',
  'contentSchema',
]);
/** Keywords whose value maps names to schemas. */
const SCHEMA_MAP_KEYWORDS = new Set(['properties', 'patternProperties', '$defs', 'definitions', 'dependentSchemas']);
/** Keywords whose value is a list of schemas. */
const SCHEMA_LIST_KEYWORDS = new Set(['prefixItems', 'allOf', 'anyOf', 'oneOf']);

const NON_NEGATIVE_INTEGER_KEYWORDS = new Set([
  'maxLength',
  'minLength',
  'maxItems',
  'minItems',
  'maxProperties',
  'minProperties',
  'maxContains',
  'minContains',
]);
const NUMBER_KEYWORDS = new Set(['minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum']);
const STRING_KEYWORDS = new Set([
  '$id',
  '$ref',
  '$anchor',
  '$dynamicRef',
  '$dynamicAnchor',
  '$comment',
  'title',
  'description',
  'contentEncoding',
  'contentMediaType',
]);

type Schema = Record<string, unknown>;
const isSchemaObject = (v: unknown): v is Schema => v !== null && typeof v === 'object' && !Array.isArray(v);

/** A value as a message shows it: JSON, cut short. */
function shown(value: unknown): string {
  const json = JSON.stringify(value) ?? String(value);
  return json.length > 60 ? `${json.slice(0, 57)}...` : json;
}

/** What the keyword `keyword` allows, said about the value written there. */
function whatIsAllowed(keyword: string, value: unknown): string {
  if (keyword === 'type') {
    const written = Array.isArray(value) ? value : [value];
    const wrong = written.filter((t) => typeof t !== 'string' || !TYPES.includes(t));
    const guess = wrong.length === 1 && typeof wrong[0] === 'string' ? TYPES.find((t) => t.startsWith(wrong[0] as string)) : undefined;
    const what =
      wrong.length > 0 && wrong.every((t) => typeof t === 'string')
        ? `${wrong.map((t) => shown(t)).join(', ')} ${wrong.length === 1 ? 'is not a type' : 'are not types'}`
        : `"type" is ${shown(value)}`;
    return `${what}; the types are ${TYPES.join(', ')} (one name, or a list of different names)${guess ? `; did you mean "${guess}"?` : ''}`;
  }
  if (NON_NEGATIVE_INTEGER_KEYWORDS.has(keyword)) {
    const unquoted = typeof value === 'string' && /^[0-9]+$/.test(value) ? ` (write ${value}, without quotes)` : '';
    return `"${keyword}" is ${shown(value)}; it must be a non-negative integer: 0, 1, 2, ...${unquoted}`;
  }
  if (NUMBER_KEYWORDS.has(keyword)) {
    const unquoted =
      typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value)) ? ` (write ${value}, without quotes)` : '';
    return `"${keyword}" is ${shown(value)}; it must be a number${unquoted}`;
  }
  if (keyword === 'multipleOf') return `"multipleOf" is ${shown(value)}; it must be a number greater than 0`;
  if (keyword === 'uniqueItems') return `"uniqueItems" is ${shown(value)}; it must be true or false`;
  if (keyword === 'required') return `"required" must be a list of property names (strings), each named once`;
  if (keyword === 'enum') return `"enum" is ${shown(value)}; it must be a list of the allowed values`;
  if (keyword === 'pattern') return `"pattern" is ${shown(value)}; it must be a regular expression, written as a string`;
  if (keyword === 'format') return `"format" is ${shown(value)}; it must be the name of a format, written as a string`;
  if (keyword === 'dependentRequired') return `"dependentRequired" must map each property name to the list of property names it requires`;
  if (SCHEMA_KEYWORDS.has(keyword)) return `"${keyword}" is ${shown(value)}; it must be a schema: an object, or true or false`;
  if (SCHEMA_MAP_KEYWORDS.has(keyword)) return `"${keyword}" must be an object that maps each name to its schema`;
  if (SCHEMA_LIST_KEYWORDS.has(keyword)) return `"${keyword}" must be a non-empty list of schemas`;
  if (STRING_KEYWORDS.has(keyword)) return `"${keyword}" is ${shown(value)}; it must be a string`;
  return '';
}

/** Where an error of the meta-schema points: the keyword whose value is wrong, or a place where a schema belongs. */
interface Place {
  /** The keyword whose value is wrong; undefined where the value should be a schema and is not. */
  readonly keyword: string | undefined;
  /** The path from the schema to that keyword (or that subschema). */
  readonly at: readonly string[];
}

/**
 * Walks an instance path of the meta-schema's errors down the schema: through the keywords
 * holding subschemas, to the keyword whose value holds the mistake (e.g. /required/1 is about
 * "required"), or to a subschema that is not a schema at all (e.g. /properties/x).
 */
function placeOf(segments: readonly string[]): Place {
  let i = 0;
  while (i < segments.length) {
    const keyword = segments[i]!;
    if (i + 1 < segments.length && (SCHEMA_MAP_KEYWORDS.has(keyword) || SCHEMA_LIST_KEYWORDS.has(keyword))) {
      i += 2; // the name or index of a subschema
      continue;
    }
    if (i + 1 < segments.length && SCHEMA_KEYWORDS.has(keyword)) {
      i += 1;
      continue;
    }
    return { keyword, at: segments.slice(0, i + 1) };
  }
  return { keyword: undefined, at: segments };
}

function valueAt(schema: unknown, segments: readonly string[]): unknown {
  let node = schema;
  for (const s of segments) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<string, unknown>)[s];
  }
  return node;
}

/** The meta-schema's errors, one problem per keyword, saying what that keyword allows. */
function metaSchemaProblems(schema: unknown, errors: readonly ErrorObject[], pointer: string): SchemaProblem[] {
  const byPlace = new Map<string, { place: Place; messages: Set<string> }>();
  for (const e of errors) {
    const place = placeOf(pointerSegments(e.instancePath));
    const key = place.at.join('/');
    const entry = byPlace.get(key) ?? { place, messages: new Set<string>() };
    if (e.keyword !== 'anyOf' && e.keyword !== 'oneOf' && e.message) entry.messages.add(e.message);
    byPlace.set(key, entry);
  }
  return [...byPlace.values()].map(({ place, messages }) => {
    const at = `${pointer}${place.at.map((s) => `/${pointerSegment(s)}`).join('')}`;
    const value = valueAt(schema, place.at);
    if (place.keyword === undefined) {
      return {
        pointer: at,
        problem: `is ${shown(value)}, not a schema; write an object (e.g. {"type": "string", "maxLength": 100}), or true or false`,
      };
    }
    const allowed = whatIsAllowed(place.keyword, value);
    return {
      pointer: at,
      problem: allowed || `"${place.keyword}" is ${shown(value)}; it ${[...messages].join(' and ') || 'is not valid here'}`,
    };
  });
}

/** Unknown keywords and formats, at every place a schema stands. */
function walkKeywords(ajv: Ajv2020, schema: unknown, pointer: string, out: SchemaProblem[]): void {
  if (!isSchemaObject(schema)) return;
  const known = Object.keys(ajv.RULES.keywords);
  const at = (...segments: string[]): string => `${pointer}/${segments.map(pointerSegment).join('/')}`;
  for (const [keyword, value] of Object.entries(schema)) {
    if (!ajv.RULES.keywords[keyword]) {
      const guess = nearest(keyword, known);
      out.push({
        pointer: at(keyword),
        problem: `unknown keyword "${keyword}"${guess ? `; did you mean "${guess}"?` : ''} (the schemas are JSON Schema draft 2020-12, and an unknown keyword is refused)`,
      });
      continue;
    }
    if (keyword === 'format' && typeof value === 'string' && !Object.hasOwn(ajv.formats, value)) {
      const formats = Object.keys(ajv.formats);
      const guess = nearest(value, formats);
      out.push({
        pointer: at(keyword),
        problem: `unknown format "${value}"${guess ? `; did you mean "${guess}"?` : ''} (the formats are ${formats.join(', ')})`,
      });
    }
    if (SCHEMA_KEYWORDS.has(keyword)) walkKeywords(ajv, value, at(keyword), out);
    else if (SCHEMA_MAP_KEYWORDS.has(keyword) && isSchemaObject(value)) {
      for (const [name, sub] of Object.entries(value)) walkKeywords(ajv, sub, at(keyword, name), out);
    } else if (SCHEMA_LIST_KEYWORDS.has(keyword) && Array.isArray(value)) {
      value.forEach((sub, i) => walkKeywords(ajv, sub, at(keyword, String(i)), out));
    }
  }
}

/**
 * Checks the keywords of one schema with an Ajv instance like the one it will be compiled with
 * (contractAjv: its meta-schema, keywords and formats), made with `allErrors` so that every
 * wrong keyword is found at once; returns every problem, each at the keyword it is about,
 * relative to `pointer` (where the schema stands in its file). An empty list means the schema's
 * keywords are sound; compiling it may still find what only the compiler sees.
 *
 * @example
 *   checkSchemaKeywords(contractAjv({ allErrors: true }), { type: 'bool' }, '/response');
 *   // [{ pointer: '/response/type', problem: '"bool" is not a type; the types are array, boolean, ...' }]
 */
export function checkSchemaKeywords(ajv: Ajv2020, schema: unknown, pointer = ''): SchemaProblem[] {
  const out = ajv.validateSchema(schema as AnySchema) === true ? [] : metaSchemaProblems(schema, ajv.errors ?? [], pointer);
  walkKeywords(ajv, schema, pointer, out);
  return out;
}
