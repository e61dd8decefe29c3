import type { Contract } from '../contracts/types.js';

export type Minimised =
  | { readonly ok: true; readonly data: Record<string, unknown>; readonly released: readonly string[]; readonly withheld: readonly string[]; readonly dropped: readonly string[] }
  | { readonly ok: false; readonly dropped: readonly string[]; readonly errors: readonly string[] };

const MAX_DROPPED_NAMES = 50;
const SAFE_NAME = /^[A-Za-z_][A-Za-z0-9_-]{0,63}$/;

/**
 * Step 7, minimise: names the provider sent that are not in the contract are dropped (and
 * recorded); what remains must validate against the response schema, or nothing is released;
 * then only fields in the schema ∩ permitted ∩ requested are kept.
 *
 * `permitted` is already policy ∩ requested (the decision's field set).
 */
export function minimise(contract: Contract, permitted: readonly string[], requested: readonly string[], answer: unknown): Minimised {
  if (answer === null || typeof answer !== 'object' || Array.isArray(answer)) {
    return { ok: false, dropped: [], errors: ['the answer is not a JSON object'] };
  }
  const known: Record<string, unknown> = {};
  const dropped: string[] = [];
  for (const [name, value] of Object.entries(answer)) {
    if (Object.hasOwn(contract.fields, name)) known[name] = value;
    else if (dropped.length < MAX_DROPPED_NAMES) dropped.push(SAFE_NAME.test(name) ? name : '(unnamed)');
  }
  if (!contract.validateResponse(known)) {
    return { ok: false, dropped, errors: (contract.validateResponse.errors ?? []).slice(0, 10).map((e) => `${e.instancePath || '/'} ${e.message ?? 'invalid'}`) };
  }
  const allowed = new Set(permitted);
  const data: Record<string, unknown> = {};
  const released: string[] = [];
  const withheld: string[] = [];
  // Each name once, even if a caller bypassing the request schema's uniqueItems repeats one.
  for (const name of new Set(requested)) {
    if (allowed.has(name) && Object.hasOwn(known, name)) {
      data[name] = known[name];
      released.push(name);
    } else {
      withheld.push(name);
    }
  }
  for (const name of Object.keys(known)) {
    if (!released.includes(name) && !withheld.includes(name)) dropped.push(name);
  }
  return { ok: true, data, released, withheld, dropped };
}
