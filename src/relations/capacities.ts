import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { contractAjv } from '../contracts/ajv.js';
import { displayPath } from '../contracts/registry.js';
import { parseYamlSource, schemaErrors } from '../contracts/source.js';
import { deepFreeze } from '../lib/deep-freeze.js';
import { canonicalJson, sha256hex } from '../lib/digest.js';
import { FrozenMap } from '../lib/frozen-map.js';
import { LoadError, LoadErrors } from '../lib/load-error.js';
import { ROLES } from '../policy/roles.js';
import { ADMINISTRATION_ID } from '../policy/schemas.js';

/**
 * The capacities registry (policies/capacities.yaml): the capacities in which an administration
 * serves a citizen (cash benefit, social case, coordinating caseworker ...). A relation in the
 * register names one; later, a policy's relation clause will too.
 */

export const CAPACITIES_FILE = 'capacities.yaml';
export const CAPACITY_ID = '^[a-z][a-z0-9]*(-[a-z0-9]+)*$';

export interface Capacity {
  readonly id: string;
  /** The administrations that may serve a citizen in this capacity, listed (there is no "any"). */
  readonly administrations: readonly string[];
  /**
   * Roles the registering client system must hold (all of them), on top of the relations API's
   * own roles; absent: none more. E.g. `coordinating-caseworker` requires that role.
   */
  readonly roles?: readonly string[];
  readonly title: { readonly da: string; readonly en: string };
  readonly description: string;
}

/** The capacities in force, by id; frozen. */
export interface CapacityRegistry {
  readonly capacities: ReadonlyMap<string, Capacity>;
  /**
   * Whether a client system of `administration` holding `roles` may register a relation in
   * `capacity`: the capacity lists the administration and the system holds every role it
   * requires (false for an unknown capacity).
   */
  allows(capacity: string, administration: string, roles: readonly string[]): boolean;
  /**
   * hex SHA-256 of the RFC 8785 canonical JSON of capacities.yaml as parsed: what its approvers
   * sign (policy/approvals/registries.ts); absent without the file.
   */
  readonly contentDigest?: string;
}

const text = (max: number) => ({ type: 'string', minLength: 1, maxLength: max });

export const capacitiesSchema = {
  $id: 'urn:snitflade:capacities-file',
  type: 'object',
  additionalProperties: false,
  required: ['capacities'],
  properties: {
    capacities: {
      type: 'array',
      minItems: 1,
      maxItems: 200,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['id', 'administrations', 'title', 'description'],
        properties: {
          id: { type: 'string', pattern: CAPACITY_ID, maxLength: 64 },
          administrations: {
            type: 'array',
            minItems: 1,
            maxItems: 100,
            uniqueItems: true,
            items: { type: 'string', pattern: ADMINISTRATION_ID, maxLength: 8 },
          },
          roles: { type: 'array', minItems: 1, maxItems: 10, uniqueItems: true, items: { enum: ROLES } },
          title: {
            type: 'object',
            additionalProperties: false,
            required: ['da', 'en'],
            properties: { da: text(200), en: text(200) },
          },
          description: text(4000),
        },
      },
    },
  },
} as const;

const validate = contractAjv({ allErrors: true }).compile(capacitiesSchema);

/** A registry of the given capacities (already checked). */
export function capacityRegistry(capacities: readonly Capacity[], contentDigest?: string): CapacityRegistry {
  const map = new FrozenMap(capacities.map((c) => [c.id, deepFreeze(structuredClone(c))] as const));
  return Object.freeze({
    capacities: map,
    ...(contentDigest !== undefined ? { contentDigest } : {}),
    allows(capacity: string, administration: string, roles: readonly string[]): boolean {
      const c = map.get(capacity);
      if (c === undefined) return false;
      return c.administrations.includes(administration) && (c.roles ?? []).every((r) => roles.includes(r));
    },
  });
}

/**
 * Loads policies/capacities.yaml from `dir`: checked against its schema, ids unique, and every
 * administration named known (when `administrations` is given). Throws LoadErrors naming the
 * file, line and place of every problem. A folder without the file has no capacities: the
 * register then refuses every registration (fail closed), and nothing else changes.
 *
 * @example
 *   const capacities = loadCapacities('policies', new Set(['BIF', 'SOF']));
 *   capacities.allows('cash-benefit', 'BIF', ['caseworker-system']); // true
 */
export function loadCapacities(dir: string, administrations?: ReadonlySet<string>): CapacityRegistry {
  const file = path.join(dir, CAPACITIES_FILE);
  if (!existsSync(file)) return capacityRegistry([]);
  const shown = displayPath(file);
  let source: string;
  try {
    source = readFileSync(file, 'utf8');
  } catch (err) {
    throw new LoadErrors([new LoadError(shown, '', `cannot read the file: ${(err as Error).message}`)]);
  }
  const src = parseYamlSource(shown, source);
  if (Array.isArray(src)) throw new LoadErrors(src);
  if (!validate(src.value)) throw new LoadErrors(schemaErrors(src, validate.errors ?? [], validate.schema));
  const value: unknown = src.value;
  const items = (value as { capacities: Capacity[] }).capacities;
  const errors: LoadError[] = [];
  const seen = new Set<string>();
  items.forEach((c, i) => {
    if (seen.has(c.id)) errors.push(src.error(`/capacities/${i}/id`, `"${c.id}" is listed twice`));
    seen.add(c.id);
    if (administrations !== undefined) {
      c.administrations.forEach((a, j) => {
        if (!administrations.has(a))
          errors.push(
            src.error(
              `/capacities/${i}/administrations/${j}`,
              `unknown administration "${a}"; administrations.yaml lists: ${[...administrations].join(', ')}`,
            ),
          );
      });
    }
  });
  if (errors.length > 0) throw new LoadErrors(errors);
  return capacityRegistry(items, sha256hex(canonicalJson(value)));
}
