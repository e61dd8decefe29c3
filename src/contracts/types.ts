import type { ValidateFunction } from 'ajv';
import type { LocalText } from '../lib/local-text.js';

/** Administrations known to the gateway (DOMAIN.md). */
export type Administration = string; // 'BIF' | 'SOF' | 'SUF' | 'BUF', validated against policies/administrations.yaml

/**
 * Data categories. `health` is a special category (GDPR Art. 9). `child` is data about a child:
 * specially protected (GDPR recital 38), but not an Art. 9 category as such; it is released only
 * on a contract about children, under a policy about children (policy/loader.ts).
 */
export type DataCategory = 'identifier' | 'contact' | 'employment' | 'social' | 'health' | 'child' | 'plan';
/** The special categories of personal data (GDPR Art. 9): released only under a policy with an Art. 9(2) basis. */
export const SPECIAL_CATEGORIES: readonly DataCategory[] = ['health'];
/** Data about a child: a protected category of its own, not Art. 9. */
export const CHILD_CATEGORY: DataCategory = 'child';
/** The age of majority: a citizen is a child until the 18th birthday. */
export const ADULT_AGE = 18;

/**
 * Whom a contract's data is about (the contract's `subject`): the age range, in completed years on
 * the day of the request, both ends inclusive. `{ age: { min: 18 } }` is a contract about adults; a
 * contract with `child` fields is about children (`max` at most 17). Every policy on the contract
 * must keep its own `subject:` clause within this range, so a contract about adults is never used
 * about a child.
 */
export interface ContractSubject {
  readonly age: { readonly min?: number; readonly max?: number };
}

export interface FieldInfo {
  readonly category: DataCategory;
  /** Plain-language labels for the citizen's report and the DPO pages. */
  readonly label: { readonly da: string; readonly en: string };
}

/**
 * A loaded, compiled contract (a file in schemas/). Request bodies of every contract carry the
 * citizen's CPR number in `cpr`; query requests name the wanted response fields in `fields`.
 * Notification contracts carry their payload in `event`, whose top-level properties are the fields.
 */
export interface Contract {
  readonly id: string; // e.g. employment.citizen-status.v1 (version is part of the id)
  readonly version: number; // the trailing vN as a number
  readonly title: LocalText;
  readonly description: LocalText;
  readonly kind: 'query' | 'notification';
  readonly provider: { readonly administration: Administration; readonly system: string };
  /** Whom the data is about (see ContractSubject); absent: the contract does not say. */
  readonly subject?: ContractSubject;
  /** JSON Schemas as written in the file (for the catalogue and OpenAPI). */
  readonly requestSchema: object;
  readonly responseSchema: object; // for notifications: the event schema
  /** Every top-level property of the response (or event) schema, with its category. */
  readonly fields: Readonly<Record<string, FieldInfo>>;
  readonly fieldNames: readonly string[];
  readonly validateRequest: ValidateFunction;
  readonly validateResponse: ValidateFunction;
  /** The file it was loaded from, relative to the project root. */
  readonly file: string;
  /**
   * hex SHA-256 of the RFC 8785 canonical JSON of the contract file as parsed: part of what the
   * approvers of a policy on it sign (policy/approvals/digest.ts). Set by loadContracts.
   */
  readonly contentDigest?: string;
}

export interface ContractRegistry {
  get(id: string): Contract | undefined;
  list(): readonly Contract[];
}
