import type { Contract } from '../contracts/types.js';

export type Minimised =
  | {
      readonly ok: true;
      readonly data: Record<string, unknown>;
      readonly released: readonly string[];
      readonly withheld: readonly string[];
      readonly dropped: readonly string[];
    }
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
    return {
      ok: false,
      dropped,
      errors: (contract.validateResponse.errors ?? []).slice(0, 10).map((e) => `${e.instancePath || '/'} ${e.message ?? 'invalid'}`),
    };
  }
  const { data, released, withheld } = keep(known, permitted, requested);
  for (const name of Object.keys(known)) {
    if (!released.includes(name) && !withheld.includes(name)) dropped.push(name);
  }
  return { ok: true, data, released, withheld, dropped };
}

/**
 * Minimise for a notification, per recipient: the event was validated against the contract's
 * request schema when it came in (step 3), so no name is dropped; the recipient gets only the
 * fields in the event ∩ permitted, and the other fields of the event are withheld.
 *
 * `permitted` is the recipient's decision's field set (policy ∩ `present`); `present` the
 * contract's fields the event holds.
 */
export function minimiseEvent(event: Record<string, unknown>, permitted: readonly string[], present: readonly string[]): Kept {
  return keep(event, permitted, present);
}

/** What a recipient gets of an answer or an event, and the names it does not get. */
export interface Kept {
  readonly data: Record<string, unknown>;
  readonly released: readonly string[];
  readonly withheld: readonly string[];
}

/** The fields in `known` ∩ permitted ∩ requested, each once, in the requested order; the other requested names are withheld. */
function keep(known: Record<string, unknown>, permitted: readonly string[], requested: readonly string[]): Kept {
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
  return { data, released, withheld };
}
