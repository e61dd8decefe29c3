import { Ajv2020 } from 'ajv/dist/2020.js';
import formatsModule from 'ajv-formats';
import { isValidCpr } from '../lib/cpr.js';

// ajv-formats is CommonJS: imported from ESM, the default is module.exports, which is the plugin
// itself (and also carries it as .default, which is what its typings describe).
type FormatsPlugin = typeof formatsModule.default;
const addFormats: FormatsPlugin = typeof formatsModule === 'function' ? (formatsModule as unknown as FormatsPlugin) : formatsModule.default;

/**
 * The Ajv instance contract schemas are compiled with: draft 2020-12, strict mode (unknown
 * keywords, formats and ambiguous types are errors), the standard formats, and `cpr` (a CPR
 * number: ten digits whose first six are a real date). Union types such as ["string", "null"]
 * are allowed: "a date or nothing" is common in contracts.
 *
 * `allErrors` is for checking the gateway's own files (report every problem at once); request
 * and response validation stops at the first error.
 */
export function contractAjv(options: { allErrors?: boolean } = {}): Ajv2020 {
  const ajv = new Ajv2020({ strict: true, allowUnionTypes: true, allErrors: options.allErrors ?? false, validateFormats: true });
  addFormats(ajv);
  ajv.addFormat('cpr', { type: 'string', validate: isValidCpr });
  return ajv;
}
