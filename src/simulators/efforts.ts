import { dayFromToday, recordRandom } from './derive.js';
import type { SyntheticCitizen } from './population.js';
import type { Effort, IsoDate, SocialSummary } from './records.js';

/**
 * Social services' efforts for a citizen, each with its period, split as the contracts split
 * them (social.coordination-summary.v1, social.coordination-overview.v1): the social efforts
 * (shelter, housing support, mentor), which reveal no health, and the efforts that do (addiction
 * treatment, mental-health and disability support, a support contact person). The periods let
 * the jobcentre time a job activity with a treatment, as the papers ask.
 */

export const SOCIAL_EFFORT_KINDS = ['shelter', 'housing-support', 'mentor'] as const satisfies readonly Effort[];
export const HEALTH_EFFORT_KINDS = [
  'addiction-treatment',
  'mental-health-support',
  'disability-support',
  'support-contact-person',
] as const satisfies readonly Effort[];
export type SocialEffortKind = (typeof SOCIAL_EFFORT_KINDS)[number];
export type HealthEffortKind = (typeof HEALTH_EFFORT_KINDS)[number];

/** One effort and its period: from its first day to its planned last day, or null while it has no end date. */
export interface EffortPeriod<K extends Effort> {
  readonly kind: K;
  readonly from: IsoDate;
  readonly to: IsoDate | null;
}

export interface EffortPeriods {
  readonly socialEfforts: readonly EffortPeriod<SocialEffortKind>[];
  readonly healthEfforts: readonly EffortPeriod<HealthEffortKind>[];
}

const isSocial = (e: Effort): e is SocialEffortKind => (SOCIAL_EFFORT_KINDS as readonly Effort[]).includes(e);
const isHealth = (e: Effort): e is HealthEffortKind => (HEALTH_EFFORT_KINDS as readonly Effort[]).includes(e);

/**
 * The periods of the citizen's current and planned efforts (the record's `efforts`), from their
 * own random stream: most began in the past, some start within two months; about half have a
 * planned end, always after the reference date. Each list is ordered by start.
 */
export function effortPeriods(citizen: Pick<SyntheticCitizen, 'cpr'>, social: SocialSummary): EffortPeriods {
  const r = recordRandom(citizen, 'effort-periods');
  const periods = social.efforts.map((kind) => {
    const fromDays = r.chance(0.15) ? r.int(7, 60) : -r.int(14, 720);
    const ends = r.chance(0.5);
    const toDays = Math.max(fromDays, 0) + r.int(30, 270);
    return { kind, from: dayFromToday(fromDays), to: ends ? dayFromToday(toDays) : null };
  });
  const byStart = <T extends { from: IsoDate }>(list: T[]): T[] => list.sort((a, b) => a.from.localeCompare(b.from));
  return {
    socialEfforts: byStart(periods.filter((p): p is EffortPeriod<SocialEffortKind> => isSocial(p.kind))),
    healthEfforts: byStart(periods.filter((p): p is EffortPeriod<HealthEffortKind> => isHealth(p.kind))),
  };
}
