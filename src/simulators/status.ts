import { TODAY } from './derive.js';
import { effortPeriods, type EffortPeriods } from './efforts.js';
import { socialCaseworker } from './plans.js';
import type { SyntheticCitizen } from './population.js';
import {
  EMPLOYMENT_FIELDS,
  SOCIAL_FIELDS,
  incomeSupportOf,
  type Contact,
  type EmploymentStatus,
  type IncomeSupport,
  type IsoDate,
  type Sanction,
  type SanctionType,
  type SocialSummary,
} from './records.js';

/**
 * The jobcentre's citizen status (employment.citizen-status.v1) and social services' coordination
 * summary (social.coordination-summary.v1) as the simulated systems answer them: the population's
 * records (population.ts) with the fields derived from them, each from its own random stream
 * (derive.ts), so adding a field never changes the population.
 */

/**
 * employment.citizen-status.v1: beside the benefit and the next meeting, which can reveal health
 * (sickness benefit, a rehabilitation team meeting), their parts that do not; and beside the
 * sanctions with their amounts, whether one is in force and since when, which is what plan
 * coordination needs.
 */
export interface CitizenStatus extends EmploymentStatus {
  readonly incomeSupport: IncomeSupport;
  readonly nextMeetingDate: IsoDate | null;
  readonly sanctionInForceSince: IsoDate | null;
}

export const CITIZEN_STATUS_FIELDS = [
  ...EMPLOYMENT_FIELDS,
  'incomeSupport',
  'nextMeetingDate',
  'sanctionInForceSince',
] as const satisfies readonly (keyof CitizenStatus)[];

export function citizenStatus(employment: EmploymentStatus): CitizenStatus {
  return {
    ...employment,
    incomeSupport: incomeSupportOf(employment.benefit),
    nextMeetingDate: employment.nextMeeting?.date ?? null,
    sanctionInForceSince: sanctionInForceSince(employment.sanctions),
  };
}

const DAY = 86_400_000;

/**
 * How many days the simulated jobcentre keeps each kind of sanction in force from its date: a
 * reduction for the month's payment, a stop until the citizen turns up again, a periodic sanction
 * for its period. (The real rules are the jobcentre's; these only make the demo's data plausible.)
 */
export const SANCTION_DAYS: Readonly<Record<SanctionType, number>> = { reduction: 30, stop: 45, periodic: 90 };

/**
 * Since when a sanction has been in force without a break on `today` (sanctions whose periods
 * overlap or touch count as one), or null when none is in force.
 *
 * @example
 *   sanctionInForceSince([{ date: '2025-10-01', type: 'periodic', amountDkk: 4000 }], Date.parse('2025-12-01')); // '2025-10-01'
 */
export function sanctionInForceSince(sanctions: readonly Sanction[], today: number = TODAY): IsoDate | null {
  let since: number | undefined;
  let until = -Infinity;
  for (const s of [...sanctions].sort((a, b) => a.date.localeCompare(b.date))) {
    const from = Date.parse(`${s.date}T00:00:00Z`);
    if (from > today) break;
    if (since === undefined || from > until) since = from;
    until = Math.max(until, from + SANCTION_DAYS[s.type] * DAY);
  }
  return since !== undefined && today < until ? new Date(since).toISOString().slice(0, 10) : null;
}

/**
 * social.coordination-summary.v1: beside the support contact person, who can reveal health, the
 * social caseworker to contact; and the efforts with their periods.
 */
export interface CoordinationSummary extends SocialSummary, EffortPeriods {
  readonly socialCaseworkerContact: Contact | null;
}

export const COORDINATION_SUMMARY_FIELDS = [
  ...SOCIAL_FIELDS,
  'socialCaseworkerContact',
  'socialEfforts',
  'healthEfforts',
] as const satisfies readonly (keyof CoordinationSummary)[];

export function coordinationSummary(citizen: SyntheticCitizen, social: SocialSummary): CoordinationSummary {
  return { ...social, socialCaseworkerContact: socialCaseworker(citizen, social), ...effortPeriods(citizen, social) };
}
