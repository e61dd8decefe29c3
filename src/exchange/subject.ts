import { cprBirthDate } from '../lib/cpr.js';
import { ageOn, copenhagenDate } from '../policy/dates.js';

/**
 * The subject's age for the policy (DecisionRequest.subjectAge): the citizen's age in completed
 * years on the request's day in Copenhagen, from the CPR number's date and century digit; null
 * when the birth date cannot be determined (a policy with an age condition then denies). Only the
 * age goes on to the evaluator, never the number or the birth date.
 *
 * @example
 *   decide(rules.policies, rules.contracts, { ...request, subjectAge: subjectAge(checked.cpr, at) }, consent);
 */
export function subjectAge(cpr: string, at: Date): number | null {
  const born = cprBirthDate(cpr);
  if (born === undefined || Number.isNaN(at.getTime())) return null;
  const age = ageOn(born, copenhagenDate(at));
  return age >= 0 ? age : null;
}
