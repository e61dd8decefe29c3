import { CONTRACT_ID, DATA_CATEGORIES } from '../contracts/meta-schema.js';
import { bodyValidator } from '../contracts/ajv.js';
import { ADMINISTRATION_ID, PURPOSE_ID } from '../policy/schemas.js';

/** JSON Schemas of the consent API's request bodies (draft 2020-12, strict). */

const DATE = { type: 'string', format: 'date', maxLength: 10 };
const CPR = { type: 'string', format: 'cpr' };

export const recordConsentSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['cpr', 'recipients', 'purposes', 'validFrom', 'validTo', 'evidence'],
  properties: {
    cpr: CPR,
    recipients: {
      type: 'array',
      minItems: 1,
      maxItems: 20,
      uniqueItems: true,
      items: { type: 'string', pattern: ADMINISTRATION_ID, maxLength: 8 },
    },
    purposes: {
      type: 'array',
      minItems: 1,
      maxItems: 20,
      uniqueItems: true,
      items: { type: 'string', pattern: PURPOSE_ID, maxLength: 64 },
    },
    contracts: { type: 'array', maxItems: 100, uniqueItems: true, items: { type: 'string', pattern: CONTRACT_ID, maxLength: 128 } },
    categories: { type: 'array', maxItems: DATA_CATEGORIES.length, uniqueItems: true, items: { enum: DATA_CATEGORIES } },
    validFrom: DATE,
    validTo: DATE,
    evidence: {
      type: 'object',
      additionalProperties: false,
      required: ['kind', 'reference'],
      properties: {
        kind: { enum: ['signed-form', 'digital'] },
        // Printable text: a form number or a digital consent's id in the recording system.
        reference: { type: 'string', minLength: 1, maxLength: 200, pattern: '^[\\x21-\\x7e][\\x20-\\x7e]*$' },
      },
    },
  },
} as const;

export const searchConsentsSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['cpr'],
  properties: { cpr: CPR },
} as const;

export const withdrawConsentSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['cpr'],
  properties: {
    // The citizen the consent is about: a wrong id never withdraws another citizen's consent.
    cpr: CPR,
    reason: { enum: ['citizen-request', 'recorded-in-error', 'other'] },
  },
} as const;

/** Validates a body; throws REQUEST_INVALID naming schema paths, never values. */
export const validateBody = bodyValidator(
  { record: recordConsentSchema, search: searchConsentsSchema, withdraw: withdrawConsentSchema },
  { allErrors: true },
);
