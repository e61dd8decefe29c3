import type { DataCategory } from './types.js';
import { localTextSchema } from '../lib/local-text.js';

/**
 * The shape of a contract file in schemas/ (JSON Schema draft 2020-12). The request, response
 * and event schemas themselves are checked further by compiling them (strict Ajv) and by
 * `checkSchemaSafety`; the cross-rules (id = file name, fields = response properties, cpr and
 * fields in the request) are checked in registry.ts.
 */

export const DATA_CATEGORIES = [
  'identifier',
  'contact',
  'employment',
  'social',
  'health',
  'child',
  'plan',
] as const satisfies readonly DataCategory[];

/** Contract ids: dotted lower-case names ending in the version, e.g. employment.citizen-status.v1. */
export const CONTRACT_ID = '^[a-z][a-z0-9-]*(\\.[a-z][a-z0-9-]*)+\\.v[1-9][0-9]{0,3}$';
/** Response field names: plain camelCase names (they appear in audit records and URLs of the catalogue). */
export const FIELD_NAME = '^[a-z][A-Za-z0-9]{0,63}$';

const text = (max: number) => ({ type: 'string', minLength: 1, maxLength: max });
const age = { type: 'integer', minimum: 0, maximum: 150 } as const;
const schemaObject = { type: 'object', required: ['type'], properties: { type: { const: 'object' } } };

export const contractMetaSchema = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  $id: 'urn:snitflade:contract-file',
  type: 'object',
  additionalProperties: false,
  required: ['id', 'title', 'description', 'kind', 'provider', 'request', 'fields'],
  properties: {
    $comment: { type: 'string' },
    id: { type: 'string', pattern: CONTRACT_ID, maxLength: 128 },
    title: localTextSchema(200),
    description: localTextSchema(4000),
    kind: { enum: ['query', 'notification'] },
    provider: {
      type: 'object',
      additionalProperties: false,
      required: ['administration', 'system'],
      properties: {
        administration: { type: 'string', pattern: '^[A-Z]{2,8}$' },
        system: { type: 'string', pattern: '^[a-z][a-z0-9-]{1,63}$' },
      },
    },
    // Whom the data is about: an age range, e.g. {"age": {"min": 18}} for a contract about adults.
    subject: {
      type: 'object',
      additionalProperties: false,
      required: ['age'],
      properties: {
        age: { type: 'object', additionalProperties: false, minProperties: 1, properties: { min: age, max: age } },
      },
    },
    request: schemaObject,
    response: schemaObject,
    event: schemaObject,
    fields: {
      type: 'object',
      minProperties: 1,
      propertyNames: { pattern: FIELD_NAME },
      additionalProperties: {
        type: 'object',
        additionalProperties: false,
        required: ['category', 'label'],
        properties: {
          category: { enum: DATA_CATEGORIES },
          label: {
            type: 'object',
            additionalProperties: false,
            required: ['da', 'en'],
            properties: { da: text(200), en: text(200) },
          },
        },
      },
    },
  },
} as const;
