import { DENY_REASONS } from '../audit/reasons.js';
import { CONTRACT_ID, DATA_CATEGORIES, FIELD_NAME } from '../contracts/meta-schema.js';
import { ROLES } from './roles.js';
import { localTextSchema } from '../lib/local-text.js';
import type { AcceptedEvidence, ConsentStatus } from './types.js';

const ACCEPTED_EVIDENCE = [
  'citizen-signed',
  'recorded-by-caseworker',
  'recorded-by-other-administration',
] as const satisfies readonly AcceptedEvidence[];

/**
 * JSON Schemas (draft 2020-12) of the files in policies/: administrations.yaml, purposes.yaml,
 * <id>.policy.yaml and <id>.test.yaml. Cross-references (contract, fields, purpose,
 * administrations, overlaps) are checked by the loader after these pass.
 */

export const POLICY_ID = '^[a-z][a-z0-9]*(-[a-z0-9]+)*$';
export const PURPOSE_ID = '^[a-z][a-z0-9]*(-[a-z0-9]+)*$';
export const ADMINISTRATION_ID = '^[A-Z]{2,8}$';
const DATE = { type: 'string', pattern: '^[0-9]{4}-[0-9]{2}-[0-9]{2}$', format: 'date', maxLength: 10 };
const text = (max: number) => ({ type: 'string', minLength: 1, maxLength: max });
const labels = (max: number) => ({
  type: 'object',
  additionalProperties: false,
  required: ['da', 'en'],
  properties: { da: text(max), en: text(max) },
});

export const administrationsSchema = {
  $id: 'urn:snitflade:administrations-file',
  type: 'object',
  additionalProperties: false,
  required: ['administrations'],
  properties: {
    administrations: {
      type: 'array',
      minItems: 1,
      maxItems: 100,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['id', 'name'],
        properties: { id: { type: 'string', pattern: ADMINISTRATION_ID, maxLength: 8 }, name: labels(200) },
      },
    },
  },
} as const;

export const purposesSchema = {
  $id: 'urn:snitflade:purposes-file',
  type: 'object',
  additionalProperties: false,
  required: ['purposes'],
  properties: {
    purposes: {
      type: 'array',
      minItems: 1,
      maxItems: 1000,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['id', 'title', 'description', 'legalBases', 'retention'],
        properties: {
          id: { type: 'string', pattern: PURPOSE_ID, maxLength: 64 },
          title: labels(200),
          description: localTextSchema(4000),
          legalBases: { type: 'array', minItems: 1, maxItems: 20, items: text(500) },
          // ISO 8601 duration in years, months, weeks or days, e.g. P5Y or P18M.
          retention: { type: 'string', pattern: '^P(?=[0-9])([0-9]+Y)?([0-9]+M)?([0-9]+W)?([0-9]+D)?$', maxLength: 20 },
          // The longest a consent for this purpose may run; default P1Y (src/consent/registry.ts).
          consentMaxDuration: { type: 'string', pattern: '^P(?=[0-9])([0-9]+Y)?([0-9]+M)?([0-9]+W)?([0-9]+D)?$', maxLength: 20 },
        },
      },
    },
  },
} as const;

/** Who receives the released fields: the requester of a query, the recipient of a notification. */
const party = {
  type: 'object',
  additionalProperties: false,
  required: ['administrations', 'roles'],
  properties: {
    administrations: {
      type: 'array',
      minItems: 1,
      maxItems: 100,
      uniqueItems: true,
      items: { type: 'string', pattern: ADMINISTRATION_ID, maxLength: 8 },
    },
    roles: { type: 'array', minItems: 1, maxItems: ROLES.length, uniqueItems: true, items: { enum: ROLES } },
  },
} as const;

const CAPACITY_ID = { type: 'string', pattern: '^[a-z][a-z0-9]*(-[a-z0-9]+)*$', maxLength: 64 } as const;
const capacityList = { type: 'array', minItems: 1, maxItems: 50, uniqueItems: true, items: CAPACITY_ID } as const;

/**
 * Need to know: `requester`/`provider` in a query policy, `recipient`/`sender` in a notification
 * policy (the loader checks which, and reads them as requester/provider).
 */
const relationClause = {
  type: 'object',
  additionalProperties: false,
  properties: {
    requester: capacityList,
    recipient: capacityList,
    provider: { anyOf: [capacityList, { const: 'any' }] },
    sender: { anyOf: [capacityList, { const: 'any' }] },
    sameCaseworker: { type: 'boolean' },
  },
} as const;

/** An age in completed years, as a policy's `subject.age` bounds and a policy case's `subjectAge`. */
const AGE = { type: 'integer', minimum: 0, maximum: 150 } as const;

/**
 * Whom the policy is about: `age: { min, max }`, the citizen's age range on the day, both ends
 * inclusive, at least one given (the loader checks min ≤ max).
 */
const subjectClause = {
  type: 'object',
  additionalProperties: false,
  required: ['age'],
  properties: {
    age: { type: 'object', additionalProperties: false, minProperties: 1, properties: { min: AGE, max: AGE } },
  },
} as const;

export const policySchema = {
  $id: 'urn:snitflade:policy-file',
  type: 'object',
  additionalProperties: false,
  // `requester` (query policies) or `recipient` (notification policies): the loader checks which.
  required: ['id', 'version', 'example', 'title', 'contract', 'purpose', 'legalBasis', 'consent', 'fields', 'validity', 'owner'],
  properties: {
    id: { type: 'string', pattern: POLICY_ID, maxLength: 100 },
    version: { type: 'integer', minimum: 1, maximum: 1000000 },
    example: { type: 'boolean' },
    title: localTextSchema(300),
    contract: { type: 'string', pattern: CONTRACT_ID, maxLength: 128 },
    requester: party,
    recipient: party,
    purpose: { type: 'string', pattern: PURPOSE_ID, maxLength: 64 },
    legalBasis: {
      type: 'object',
      additionalProperties: false,
      required: ['gdpr', 'national', 'description'],
      properties: {
        // The Art. 6(1) point first; more text may follow (e.g. "Art. 6(1)(e), cf. Art. 6(3)").
        gdpr: { type: 'string', pattern: '^Art\\. 6\\(1\\)\\([a-f]\\)', maxLength: 300 },
        gdprSpecial: { type: 'string', pattern: '^Art\\. 9\\(2\\)\\([a-j]\\)', maxLength: 300 },
        national: text(1000),
        description: localTextSchema(4000),
      },
    },
    consent: {
      type: 'object',
      additionalProperties: false,
      required: ['required'],
      properties: {
        required: { type: 'boolean' },
        categories: { type: 'array', minItems: 1, maxItems: DATA_CATEGORIES.length, uniqueItems: true, items: { enum: DATA_CATEGORIES } },
        // The evidence the policy accepts; default citizen-signed and recorded-by-caseworker.
        evidence: { type: 'array', minItems: 1, maxItems: 3, uniqueItems: true, items: { enum: ACCEPTED_EVIDENCE } },
      },
    },
    relation: relationClause,
    subject: subjectClause,
    fields: { type: 'array', minItems: 1, maxItems: 200, uniqueItems: true, items: { type: 'string', pattern: FIELD_NAME, maxLength: 64 } },
    validity: {
      type: 'object',
      additionalProperties: false,
      required: ['from'],
      properties: { from: DATE, to: DATE },
    },
    owner: localTextSchema(200),
  },
} as const;

export const CONSENT_STATUSES = [
  'active',
  'missing',
  'withdrawn',
  'expired',
  'scope',
  'evidence',
  'unavailable',
] as const satisfies readonly ConsentStatus[];

export const policyCasesSchema = {
  $id: 'urn:snitflade:policy-cases-file',
  type: 'object',
  additionalProperties: false,
  required: ['policy', 'cases'],
  properties: {
    policy: { type: 'string', pattern: POLICY_ID, maxLength: 100 },
    cases: {
      type: 'array',
      minItems: 1,
      maxItems: 1000,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['name', 'request', 'expect'],
        properties: {
          name: text(300),
          request: {
            type: 'object',
            additionalProperties: false,
            required: ['contract', 'administration', 'roles', 'purpose', 'fields'],
            properties: {
              contract: { type: 'string', maxLength: 128 },
              administration: { type: 'string', maxLength: 8 },
              roles: { type: 'array', maxItems: 20, items: { type: 'string', maxLength: 64 } },
              purpose: { type: 'string', maxLength: 64 },
              fields: { type: 'array', minItems: 1, maxItems: 200, items: { type: 'string', maxLength: 64 } },
              at: DATE,
              consent: { enum: CONSENT_STATUSES },
              /** For `consent: active`: the evidence it rests on; default citizen-signed. */
              consentEvidence: {
                type: 'object',
                additionalProperties: false,
                required: ['level'],
                properties: {
                  level: { enum: ['citizen-signed', 'recorded-by-caseworker'] },
                  recordedBy: { type: 'string', pattern: ADMINISTRATION_ID, maxLength: 8 },
                },
              },
              /** The citizen's age on the day (a policy's `subject:` clause); default 40, an adult. */
              subjectAge: AGE,
              /** The token's caseworker (for a policy with `sameCaseworker`). */
              caseworker: { type: 'string', minLength: 1, maxLength: 64 },
              /** The relations in force on the day (need to know); default none. */
              relations: {
                type: 'array',
                maxItems: 20,
                items: {
                  type: 'object',
                  additionalProperties: false,
                  required: ['administration', 'capacity'],
                  properties: {
                    administration: { type: 'string', maxLength: 8 },
                    capacity: { type: 'string', maxLength: 64 },
                    caseworker: { type: 'string', minLength: 1, maxLength: 64 },
                  },
                },
              },
            },
          },
          expect: {
            type: 'object',
            required: ['decision'],
            properties: { decision: { enum: ['permit', 'deny'] } },
            if: { properties: { decision: { const: 'permit' } } },
            then: {
              additionalProperties: false,
              required: ['policy', 'fields'],
              properties: {
                decision: true,
                policy: { type: 'string', pattern: POLICY_ID, maxLength: 100 },
                fields: { type: 'array', minItems: 1, maxItems: 200, uniqueItems: true, items: { type: 'string', maxLength: 64 } },
              },
            },
            else: {
              additionalProperties: false,
              required: ['reasons'],
              properties: {
                decision: true,
                reasons: { type: 'array', minItems: 1, maxItems: DENY_REASONS.length, uniqueItems: true, items: { enum: DENY_REASONS } },
              },
            },
          },
        },
      },
    },
  },
} as const;
