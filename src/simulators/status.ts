import { effortPeriods, type EffortPeriods } from './efforts.js';
import type { SyntheticCitizen } from './population.js';
import { SOCIAL_FIELDS, type SocialSummary } from './records.js';

/**
 * The jobcentre's citizen status (employment.citizen-status.v1) and social services' coordination
 * summary (social.coordination-summary.v1) as the simulated systems answer them: the population's
 * records (population.ts) with the fields derived from them, each from its own random stream
 * (derive.ts), so adding a field never changes the population.
 */

/** social.coordination-summary.v1 */
export interface CoordinationSummary extends SocialSummary, EffortPeriods {}

export const COORDINATION_SUMMARY_FIELDS = [
  ...SOCIAL_FIELDS,
  'socialEfforts',
  'healthEfforts',
] as const satisfies readonly (keyof CoordinationSummary)[];

export function coordinationSummary(citizen: Pick<SyntheticCitizen, 'cpr'>, social: SocialSummary): CoordinationSummary {
  return { ...social, ...effortPeriods(citizen, social) };
}
