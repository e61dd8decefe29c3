import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import type { ValidateFunction } from 'ajv';
import { deepFreeze } from '../lib/deep-freeze.js';
import { canonicalJson, sha256hex } from '../lib/digest.js';
import { LoadError, LoadErrors } from '../lib/load-error.js';
import { projectRoot } from '../lib/root.js';
import { localText, type LocalText } from '../lib/local-text.js';
import { contractAjv } from './ajv.js';
import { checkSchemaKeywords } from './keywords.js';
import { contractMetaSchema } from './meta-schema.js';
import { checkSchemaSafety } from './safety.js';
import { byFileAndLine, parseJsonSource, pointerSegment, schemaErrors, type SourceFile } from './source.js';
import {
  ADULT_AGE,
  CHILD_CATEGORY,
  type Administration,
  type Contract,
  type ContractRegistry,
  type ContractSubject,
  type DataCategory,
  type FieldInfo,
} from './types.js';

const validateContractFile = new Ajv2020({ strict: true, allErrors: true }).compile(contractMetaSchema);
/** The contract Ajv with every error reported, for checking the keywords of the schemas before they are compiled. */
const keywordAjv = contractAjv({ allErrors: true });

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => v !== null && typeof v === 'object' && !Array.isArray(v);

const ROOT = (() => {
  try {
    return projectRoot();
  } catch {
    return process.cwd();
  }
})();

/** A file name relative to the project root, as messages and `Contract.file` show it. */
export function displayPath(file: string): string {
  const rel = path.relative(ROOT, path.resolve(file));
  return rel === '' || rel.startsWith('..') || path.isAbsolute(rel) ? file : rel;
}

/**
 * Loads every contract file (`*.json`) in `dir`, checks it and compiles its schemas once.
 * Throws LoadErrors listing every problem in every file; returns a frozen registry.
 *
 * @example
 *   const contracts = loadContracts('schemas');
 *   contracts.get('employment.citizen-status.v1')?.validateRequest(body);
 */
export function loadContracts(dir: string): ContractRegistry {
  const errors: LoadError[] = [];
  let names: string[];
  try {
    if (!statSync(dir).isDirectory()) throw new Error('not a directory');
    names = readdirSync(dir)
      .filter((n) => n.endsWith('.json'))
      .sort();
  } catch (err) {
    throw new LoadErrors([new LoadError(displayPath(dir), '', `cannot read the contracts folder: ${(err as Error).message}`)]);
  }
  const contracts = new Map<string, Contract>();
  for (const name of names) {
    const file = path.join(dir, name);
    const shown = displayPath(file);
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      errors.push(new LoadError(shown, '', `cannot read the file: ${(err as Error).message}`));
      continue;
    }
    const src = parseJsonSource(shown, text);
    if (Array.isArray(src)) {
      errors.push(...src);
      continue;
    }
    const result = checkContract(src, name);
    if (Array.isArray(result)) errors.push(...result);
    else contracts.set(result.id, result);
  }
  if (errors.length > 0) throw new LoadErrors(byFileAndLine(errors));
  return createRegistry([...contracts.values()]);
}

/** A frozen registry over already-checked contracts. */
function createRegistry(all: readonly Contract[]): ContractRegistry {
  const byId = new Map(all.map((c) => [c.id, c]));
  const list = Object.freeze([...all].sort((a, b) => a.id.localeCompare(b.id)));
  return Object.freeze({
    get: (id: string) => byId.get(id),
    list: () => list,
  });
}

/** Checks one parsed contract file; returns the compiled contract or every problem found. */
function checkContract(src: SourceFile, fileName: string): Contract | LoadError[] {
  if (!validateContractFile(src.value)) {
    return schemaErrors(src, validateContractFile.errors ?? [], validateContractFile.schema);
  }
  const doc = src.value as unknown as Json;
  const errors: LoadError[] = [];
  const id = doc.id as string;
  if (fileName !== `${id}.json`) {
    errors.push(src.error('/id', `the id "${id}" does not match the file name; name the file "${id}.json" (or fix the id)`));
  }
  const kind = doc.kind as Contract['kind'];
  const payloadKey = kind === 'query' ? 'response' : 'event';
  const otherKey = kind === 'query' ? 'event' : 'response';
  if (!isObject(doc[payloadKey])) {
    errors.push(src.error('', `a ${kind} contract needs "${payloadKey}": the schema of what it delivers`));
    return errors;
  }
  if (otherKey in doc) errors.push(src.error(`/${otherKey}`, `a ${kind} contract has "${payloadKey}", not "${otherKey}"`));

  const request = doc.request as Json;
  const payload = doc[payloadKey];
  const fields = doc.fields as Record<string, { category: DataCategory; label: { da: string; en: string } }>;

  for (const [key, schema] of [
    ['request', request],
    [payloadKey, payload],
  ] as const) {
    for (const p of checkSchemaSafety(schema, `/${key}`)) errors.push(src.error(p.pointer, p.problem));
  }

  // Every response (event) property is a field with a category, and every field is a property.
  const properties = isObject(payload.properties) ? payload.properties : {};
  const propertyNames = Object.keys(properties);
  for (const name of propertyNames) {
    if (!Object.hasOwn(fields, name)) {
      errors.push(
        src.error(
          `/${payloadKey}/properties/${pointerSegment(name)}`,
          `property "${name}" has no entry in "fields"; add its category and labels under /fields/${name}`,
        ),
      );
    }
  }
  for (const name of Object.keys(fields)) {
    if (!Object.hasOwn(properties, name)) {
      errors.push(
        src.error(
          `/fields/${pointerSegment(name)}`,
          `field "${name}" is not a property of the ${payloadKey} schema; remove it or add the property`,
        ),
      );
    }
  }
  if (propertyNames.length === 0)
    errors.push(
      src.error(`/${payloadKey}`, `the ${payloadKey} schema names no properties; each property is a field that policies release`),
    );

  errors.push(...checkRequest(src, kind, request, propertyNames));
  const subject = doc.subject as ContractSubject | undefined;
  errors.push(...checkSubject(src, subject, fields));

  const ajv = contractAjv();
  const validateRequest = compile(ajv, src, '/request', request, errors);
  const validateResponse = compile(ajv, src, `/${payloadKey}`, payload, errors);
  if (errors.length > 0 || !validateRequest || !validateResponse) return errors;

  const fieldInfo: Record<string, FieldInfo> = {};
  for (const name of propertyNames) fieldInfo[name] = fields[name]!;
  const provider = doc.provider as { administration: Administration; system: string };
  const contract: Contract = {
    id,
    version: Number(/\.v([0-9]+)$/.exec(id)![1]),
    title: localText(doc.title as string | LocalText),
    description: localText(doc.description as string | LocalText),
    kind,
    provider: deepFreeze({ administration: provider.administration, system: provider.system }),
    ...(subject !== undefined ? { subject: deepFreeze(structuredClone(subject)) } : {}),
    requestSchema: deepFreeze(structuredClone(request)),
    responseSchema: deepFreeze(structuredClone(payload)),
    fields: deepFreeze(fieldInfo),
    fieldNames: Object.freeze(propertyNames),
    // Validators are not frozen: Ajv sets `.errors` on them at each call.
    validateRequest,
    validateResponse,
    file: src.file,
    // What a signed policy on this contract covers: a changed contract makes its approvals stale.
    contentDigest: sha256hex(canonicalJson(doc)),
  };
  return Object.freeze(contract);
}

/** The request rules: a required CPR number; queries name the wanted fields. */
function checkRequest(src: SourceFile, kind: Contract['kind'], request: Json, fieldNames: readonly string[]): LoadError[] {
  const errors: LoadError[] = [];
  const props = isObject(request.properties) ? request.properties : {};
  const required = Array.isArray(request.required) ? request.required : [];
  const cpr = props.cpr;
  if (!isObject(cpr) || cpr.type !== 'string' || cpr.format !== 'cpr' || !required.includes('cpr')) {
    errors.push(
      src.error(
        '/request',
        'the request needs a required property "cpr": {"type": "string", "format": "cpr"} (the citizen, by CPR number)',
      ),
    );
  }
  if (kind === 'query') {
    const f = props.fields;
    const problems: string[] = [];
    if (!isObject(f) || !required.includes('fields')) {
      problems.push('a required property "fields"');
    } else {
      if (f.type !== 'array') problems.push('"type": "array"');
      if (f.minItems !== 1) problems.push('"minItems": 1');
      if (f.uniqueItems !== true) problems.push('"uniqueItems": true');
      const items = f.items;
      const names = isObject(items) && Array.isArray(items.enum) ? items.enum : undefined;
      const same = names !== undefined && names.length === fieldNames.length && fieldNames.every((n) => names.includes(n));
      if (!same) problems.push(`"items": {"enum": [${fieldNames.map((n) => JSON.stringify(n)).join(', ')}]} (exactly the response fields)`);
    }
    if (problems.length > 0) {
      const at = isObject(f) ? '/request/properties/fields' : '/request';
      errors.push(src.error(at, `a query request names the wanted response fields; it needs ${problems.join(', ')}`));
    }
  } else {
    if (!isObject(props.event) || !required.includes('event')) {
      errors.push(src.error('/request', 'a notification request carries its payload in a required property "event"'));
    }
    if ('fields' in props)
      errors.push(
        src.error('/request/properties/fields', 'a notification request does not name fields; recipients get what their policy permits'),
      );
  }
  return errors;
}

/**
 * Whom the contract is about: an age range that starts before it ends; and a contract carrying a
 * child's data (category `child`) is about children only (`subject.age.max` at most 17), since
 * every field describes the citizen named by `cpr`.
 */
function checkSubject(
  src: SourceFile,
  subject: ContractSubject | undefined,
  fields: Readonly<Record<string, { category: DataCategory }>>,
): LoadError[] {
  const errors: LoadError[] = [];
  const age = subject?.age;
  if (age?.min !== undefined && age.max !== undefined && age.min > age.max)
    errors.push(src.error('/subject/age', `the age range ends (max ${age.max}) before it starts (min ${age.min})`));
  const child = Object.keys(fields).filter((name) => fields[name]!.category === CHILD_CATEGORY);
  if (child.length > 0 && (age?.max === undefined || age.max >= ADULT_AGE)) {
    const about = age?.min !== undefined && age.min >= ADULT_AGE ? `this contract is about adults (subject.age.min ${age.min}); ` : '';
    errors.push(
      src.error(
        `/fields/${pointerSegment(child[0]!)}/category`,
        `${child.map((n) => `"${n}"`).join(', ')} ${child.length === 1 ? 'is' : 'are'} child data, about the citizen named by cpr; ${about}` +
          `a contract carrying a child's data is about children only: declare "subject": {"age": {"max": ${ADULT_AGE - 1}}} (a parent's data and a child's are contracts of their own)`,
      ),
    );
  }
  return errors;
}

/**
 * Compiles one of the contract's schemas. Its keywords are checked first (keywords.ts), so a
 * wrong keyword is reported at its own place and line with what it allows; the compiler's
 * message is the fallback for what only the compiler finds.
 */
function compile(ajv: Ajv2020, src: SourceFile, pointer: string, schema: Json, errors: LoadError[]): ValidateFunction | undefined {
  const problems = checkSchemaKeywords(keywordAjv, schema, pointer);
  if (problems.length > 0) {
    for (const p of problems) errors.push(src.error(p.pointer, p.problem));
    return undefined;
  }
  try {
    return ajv.compile(structuredClone(schema));
  } catch (err) {
    errors.push(src.error(pointer, `the schema does not compile (Ajv, draft 2020-12, strict mode): ${(err as Error).message}`));
    return undefined;
  }
}
