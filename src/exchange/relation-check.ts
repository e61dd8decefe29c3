import { GatewayError } from '../errors.js';
import { canonicalJson, sha256b64url } from '../lib/digest.js';
import { copenhagenDate } from '../policy/dates.js';
import type { RelationCheck } from '../policy/evaluate.js';
import type { RelationFact } from '../policy/types.js';
import type { ExchangeDeps } from './deps.js';

/**
 * The part of step 4 (policy) that asks the relations register whether an administration serves
 * the citizen (need to know): the check `decide` calls for a policy with a `relation:` clause.
 * One indexed read (RelationStore.active) of the relations in force on the Copenhagen day of
 * `at`, under every pseudonym of the CPR number; never cached beyond the request, so an end
 * recorded through any gateway instance holds from the next request on. With `shared` (the
 * administrations of every decision the request makes), the first call reads them all at once
 * and the others are answered from that read. A register that cannot be read refuses the
 * request (503 RELATION_REGISTER_UNAVAILABLE): nothing is decided on a relation not seen.
 *
 * @example
 *   decide(rules.policies, rules.contracts, request, consent, relationCheck(deps, checked.cpr, at));
 */
export function relationCheck(
  deps: Pick<ExchangeDeps, 'relations' | 'pseudonyms'>,
  cpr: string,
  at: Date,
  shared?: readonly string[],
): RelationCheck {
  const read = async (administrations: readonly string[]): Promise<RelationFact[]> => {
    try {
      return (await deps.relations.active(deps.pseudonyms.all(cpr), administrations, copenhagenDate(at))).map(
        ({ id, version, administration, capacity, caseworker, from, to }) => ({
          id,
          version,
          administration,
          capacity,
          caseworker,
          from,
          to,
        }),
      );
    } catch (err) {
      throw new GatewayError('RELATION_REGISTER_UNAVAILABLE', {}, { cause: err });
    }
  };
  if (shared === undefined) return read;
  // Several decisions about one citizen (a notification's recipients): one read for all of them.
  let once: Promise<RelationFact[]> | undefined;
  return async (administrations) => {
    once ??= read([...new Set([...shared, ...administrations])]);
    const wanted = new Set(administrations);
    return (await once).filter((r) => wanted.has(r.administration));
  };
}

/**
 * What a decision record says about the relations it relied on: `relation=<id>` for each, then
 * `relations-sha256=<digest>` over their state as relied on (id, version, administration,
 * capacity, caseworker, period), so a later change of a relation is visible against the record.
 */
export function relationReasonsOf(relied: readonly RelationFact[] | undefined): string[] {
  if (relied === undefined || relied.length === 0) return [];
  return [...relied.map((r) => `relation=${r.id}`), `relations-sha256=${sha256b64url(canonicalJson(relied))}`];
}
