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
 * (sickness benefit, a rehabilitation team meeting), their parts that do not.
 */
export interface CitizenStatus extends EmploymentStatus {
  readonly incomeSupport: IncomeSupport;
  readonly nextMeetingDate: IsoDate | null;
}

export const CITIZEN_STATUS_FIELDS = [
  ...EMPLOYMENT_FIELDS,
  'incomeSupport',
  'nextMeetingDate',
] as const satisfies readonly (keyof CitizenStatus)[];

export function citizenStatus(employment: EmploymentStatus): CitizenStatus {
  return {
    ...employment,
    incomeSupport: incomeSupportOf(employment.benefit),
    nextMeetingDate: employment.nextMeeting?.date ?? null,
  };
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
