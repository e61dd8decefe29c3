import { CONTRACT_ID, DATA_CATEGORIES } from '../contracts/meta-schema.js';
import { bodyValidator } from '../contracts/ajv.js';
import { ADMINISTRATION_ID, PURPOSE_ID } from '../policy/schemas.js';

/** JSON Schemas of the consent API's request bodies (draft 2020-12, strict). */

const DATE = { type: 'string', format: 'date', maxLength: 10 };
const CPR = { type: 'string', format: 'cpr' };

const ADMINISTRATIONS = {
  type: 'array',
  minItems: 1,
  maxItems: 20,
  uniqueItems: true,
  items: { type: 'string', pattern: ADMINISTRATION_ID, maxLength: 8 },
} as const;
/** Printable ASCII text holding no CPR number. */
export const PRINTABLE = (max: number) => ({
  type: 'string',
  minLength: 1,
  maxLength: max,
  pattern: '^[\\x21-\\x7e][\\x20-\\x7e]*$',
  format: 'no-cpr',
});

/**
 * What a consent covers, as a caseworker's record and a consent artefact both state it: the
 * recipients, the sources (the administrations the data may come from), the purposes and the data.
 */
export const CONSENT_SCOPE_PROPERTIES = {
  recipients: ADMINISTRATIONS,
  sources: ADMINISTRATIONS,
  purposes: { type: 'array', minItems: 1, maxItems: 20, uniqueItems: true, items: { type: 'string', pattern: PURPOSE_ID, maxLength: 64 } },
  contracts: { type: 'array', maxItems: 100, uniqueItems: true, items: { type: 'string', pattern: CONTRACT_ID, maxLength: 128 } },
  categories: { type: 'array', maxItems: DATA_CATEGORIES.length, uniqueItems: true, items: { enum: DATA_CATEGORIES } },
} as const;

/** The consent's giver, as an artefact and a recording caseworker's system both state it. */
export const consentGiverSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['role'],
  properties: {
    role: { enum: ['citizen', 'guardian', 'power-of-attorney', 'custody-holder'] },
    // The reference of the evidence of the representative's authority (the guardianship decision,
    // the power of attorney, the custody record): required for a representative, never a CPR number.
    reference: PRINTABLE(200),
  },
  if: { properties: { role: { not: { const: 'citizen' } } } },
  then: { required: ['reference'], properties: { reference: PRINTABLE(200) } },
} as const;

/**
 * A consent to record. Its evidence is either a consent service's signed artefact
 * (`citizen-signed`: the scope and period default to the artefact's and may only narrow them) or
 * a caseworker's record of a paper or verbal consent (`recorded-by-caseworker`: scope, sources
 * and period are required, the caseworker is the token's).
 */
export const recordConsentSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['cpr', 'evidence'],
  properties: {
    cpr: CPR,
    ...CONSENT_SCOPE_PROPERTIES,
    validFrom: DATE,
    validTo: DATE,
    // recorded-by-caseworker: reference and form; citizen-signed: artefact (checked in records.ts).
    evidence: {
      type: 'object',
      additionalProperties: false,
      required: ['kind'],
      properties: {
        kind: { enum: ['recorded-by-caseworker', 'citizen-signed'] },
        // Printable text: the form's number in the recording system.
        reference: { type: 'string', minLength: 1, maxLength: 200, pattern: '^[\\x21-\\x7e][\\x20-\\x7e]*$' },
        form: { enum: ['paper', 'verbal'] },
        // The compact JWS as the consent service issued it.
        artefact: { type: 'string', minLength: 1, maxLength: 16384, pattern: '^[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+$' },
      },
    },
    givenBy: consentGiverSchema,
    // A case relation in force (its id from POST /v1/relations): the consent ends when it does.
    relation: { type: 'string', format: 'uuid', maxLength: 36 },
  },
} as const;

/** What a caseworker's record must state, which a citizen-signed consent takes from its artefact. */
export const CASEWORKER_RECORD_REQUIRES = ['recipients', 'sources', 'purposes', 'validFrom', 'validTo'] as const;
/** What a citizen-signed consent takes from its artefact, so the body may not say it. */
export const CITIZEN_SIGNED_TAKES = [...CASEWORKER_RECORD_REQUIRES, 'contracts', 'categories', 'givenBy', 'relation'] as const;
/** The evidence's properties for each kind: required, and not allowed. */
export const EVIDENCE_PROPERTIES = {
  'recorded-by-caseworker': { required: ['reference', 'form'], forbidden: ['artefact'] },
  'citizen-signed': { required: ['artefact'], forbidden: ['reference', 'form'] },
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
