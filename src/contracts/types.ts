import type { ValidateFunction } from 'ajv';
import type { LocalText } from '../lib/local-text.js';

/** Administrations known to the gateway (DOMAIN.md). */
export type Administration = string; // 'BIF' | 'SOF' | 'SUF' | 'BUF', validated against policies/administrations.yaml

/** Data categories; `health` and `child` are special categories needing an Art. 9 basis. */
export type DataCategory = 'identifier' | 'contact' | 'employment' | 'social' | 'health' | 'child' | 'plan';
export const SPECIAL_CATEGORIES: readonly DataCategory[] = ['health', 'child'];

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
}

export interface ContractRegistry {
  get(id: string): Contract | undefined;
  list(): readonly Contract[];
}
