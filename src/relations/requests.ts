import { bodyValidator } from '../contracts/ajv.js';
import { RELATION_END_REASONS } from '../audit/reasons.js';
import { ADMINISTRATION_ID } from '../policy/schemas.js';
import { CAPACITY_ID } from './capacities.js';
import type { RelationEndReason } from './types.js';

/**
 * JSON Schemas of the relations API's request bodies (draft 2020-12, strict). Every text a
 * caller chooses is printable ASCII of bounded length and format `no-cpr`: a case reference or
 * caseworker id that may hold a CPR number in any written form is refused (src/lib/cpr.ts). It
 * neither starts nor ends with a space nor holds two in a row, so that `SOF-7` and `SOF-7 ` cannot
 * be two references (letter case is handled by the register: compared without regard to case).
 * Validation stops at the first error, as for all caller input.
 */

const DATE = { type: 'string', format: 'date', maxLength: 10 };
const CPR = { type: 'string', format: 'cpr' };
/** A case system's own identifier: printable, no CPR number. */
const REFERENCE = { type: 'string', minLength: 1, maxLength: 100, pattern: '^[\\x21-\\x7e]+( [\\x21-\\x7e]+)*$', format: 'no-cpr' };

export const registerRelationSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['cpr', 'capacity', 'caseRef', 'from'],
  properties: {
    cpr: CPR,
    /** The administration that serves the citizen: the caller's own (the default), never another. */
    administration: { type: 'string', pattern: ADMINISTRATION_ID, maxLength: 8 },
    capacity: { type: 'string', pattern: CAPACITY_ID, maxLength: 64 },
    /** The administration's own case reference: registering it again updates that relation. */
    caseRef: REFERENCE,
    /** The responsible caseworker's id, if any. */
    caseworker: REFERENCE,
    from: DATE,
    to: DATE,
  },
} as const;

export const endRelationSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    /**
     * The last day the administration serves the citizen (inclusive); at the earliest the day
     * before the start (never in force), at the latest the current end. Required, except when
     * voiding (reason recorded-in-error: then it defaults to the day before the start).
     */
    to: DATE,
    reason: { enum: RELATION_END_REASONS },
  },
  if: { required: ['reason'], properties: { reason: { const: 'recorded-in-error' } } },
  then: {},
  else: { required: ['to'], properties: { to: DATE } },
} as const;

export const searchRelationsSchema = {
  type: 'object',
  additionalProperties: false,
  minProperties: 1,
  properties: {
    cpr: CPR,
    caseRef: REFERENCE,
  },
} as const;

export interface RegisterRelationBody {
  readonly cpr: string;
  readonly administration?: string;
  readonly capacity: string;
  readonly caseRef: string;
  readonly caseworker?: string;
  readonly from: string;
  readonly to?: string;
}

export interface EndRelationBody {
  readonly to?: string;
  readonly reason?: RelationEndReason;
}

export interface SearchRelationsBody {
  readonly cpr?: string;
  readonly caseRef?: string;
}

/** Validates a body; throws REQUEST_INVALID naming schema paths, never values (stops at the first error). */
export const validateRelationBody = bodyValidator({
  register: registerRelationSchema,
  end: endRelationSchema,
  search: searchRelationsSchema,
});
