import { Ajv2020 } from 'ajv/dist/2020.js';
import formatsModule from 'ajv-formats';
import type { ErrorObject, ValidateFunction } from 'ajv';
import { GatewayError } from '../errors.js';
import { isValidCpr, mayHoldCpr } from '../lib/cpr.js';

// ajv-formats is CommonJS: imported from ESM, the default is module.exports, which is the plugin
// itself (and also carries it as .default, which is what its typings describe).
type FormatsPlugin = typeof formatsModule.default;
const addFormats: FormatsPlugin = typeof formatsModule === 'function' ? formatsModule : formatsModule.default;

/**
 * The Ajv instance contract schemas are compiled with: draft 2020-12, strict mode (unknown
 * keywords, formats and ambiguous types are errors), the standard formats, and `cpr` (a CPR
 * number: ten digits whose first six are a real date) and `no-cpr` (text that holds no CPR number
 * in any written form, for free-text fields such as search filters). Union types such as ["string", "null"]
 * are allowed: "a date or nothing" is common in contracts.
 *
 * `allErrors` is for checking the gateway's own files (report every problem at once); request
 * and response validation stops at the first error.
 */
export function contractAjv(options: { allErrors?: boolean } = {}): Ajv2020 {
  const ajv = new Ajv2020({ strict: true, allowUnionTypes: true, allErrors: options.allErrors ?? false, validateFormats: true });
  addFormats(ajv);
  ajv.addFormat('cpr', { type: 'string', validate: isValidCpr });
  ajv.addFormat('no-cpr', { type: 'string', validate: (text: string) => !mayHoldCpr(text) });
  return ajv;
}

/** An error in a caller's request as the caller is told it: a place and a fixed message. */
export interface CallerSchemaError {
  readonly path: string;
  readonly message: string;
}

const FIELD_NAME = /^[A-Za-z_][A-Za-z0-9_-]{0,63}$/;
const MAX_CALLER_ERRORS = 10;

/**
 * Schema errors as a caller may see them: the place in the body and ajv's message, which names
 * only the schema's own words, never a value. A property name is the caller's own text and may
 * hold a CPR number: an unknown property is named only when it looks like a field name and holds
 * none, and a place whose path holds one points into the schema instead ("#/properties/...").
 *
 * @example
 * if (!validate(body)) throw new GatewayError('REQUEST_INVALID', { errors: callerSchemaErrors(validate.errors) });
 */
export function callerSchemaErrors(errors: readonly ErrorObject[] | null | undefined): CallerSchemaError[] {
  return (errors ?? []).slice(0, MAX_CALLER_ERRORS).map((e) => {
    const path = e.instancePath === '' ? '/' : mayHoldCpr(e.instancePath) ? e.schemaPath : e.instancePath;
    if (e.keyword !== 'additionalProperties') return { path, message: e.message ?? 'invalid' };
    const name = (e.params as { additionalProperty?: unknown }).additionalProperty;
    const named = typeof name === 'string' && FIELD_NAME.test(name) && !mayHoldCpr(name);
    return {
      path,
      message: named
        ? `unknown property "${name}"`
        : `unknown property; the properties allowed here are listed at ${e.schemaPath.replace(/\/additionalProperties$/, '/properties')}`,
    };
  });
}

/**
 * One validator for the bodies an API takes, by name: it throws REQUEST_INVALID naming schema
 * paths, never values (callerSchemaErrors), and otherwise hands the body back typed.
 *
 * @example
 *   const validateBody = bodyValidator({ record: recordSchema, search: searchSchema });
 *   const body = validateBody<RecordBody>('record', raw);
 */
export function bodyValidator<K extends string>(
  schemas: Readonly<Record<K, object>>,
  options: { allErrors?: boolean } = {},
): <T>(kind: K, body: unknown) => T {
  const ajv = contractAjv(options);
  const validators = new Map<K, ValidateFunction>();
  for (const kind of Object.keys(schemas) as K[]) validators.set(kind, ajv.compile(schemas[kind]));
  return <T>(kind: K, body: unknown): T => {
    const validate = validators.get(kind)!;
    if (!validate(body)) throw new GatewayError('REQUEST_INVALID', { errors: callerSchemaErrors(validate.errors) });
    return body as T;
  };
}
