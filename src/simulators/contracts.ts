import { healthRehabilitationInfo } from './health.js';
import {
  employmentCoordinationOverview,
  employmentJobPlanSummary,
  employmentProgressionAssessment,
  socialActionPlanSummary,
  socialCoordinationOverview,
  socialProgressionAssessment,
  socialWholePersonPlan,
} from './plans.js';
import { findCitizen } from './population.js';
import { youthEducationStatus } from './youth.js';
import type { ExtraFields } from './records.js';
import { CITIZEN_STATUS_FIELDS, COORDINATION_SUMMARY_FIELDS, citizenStatus, coordinationSummary } from './status.js';

/** One contract a simulated system provides: its response fields and where its records come from. */
export interface SimulatedContract {
  readonly id: string;
  /** The contract's response fields. */
  readonly fields: readonly string[];
  /** The citizen's record with any extra fields it carries, or undefined when there is no case. */
  lookup(cpr: string): { readonly record: object; readonly extras: ExtraFields } | undefined;
}

export const employmentCitizenStatus: SimulatedContract = {
  id: 'employment.citizen-status.v1',
  fields: CITIZEN_STATUS_FIELDS,
  lookup(cpr) {
    const citizen = findCitizen(cpr);
    if (!citizen?.employment) return undefined;
    return { record: citizenStatus(citizen.employment), extras: citizen.extras.employment ?? {} };
  },
};

export const socialCoordinationSummary: SimulatedContract = {
  id: 'social.coordination-summary.v1',
  fields: COORDINATION_SUMMARY_FIELDS,
  lookup(cpr) {
    const citizen = findCitizen(cpr);
    if (!citizen?.social) return undefined;
    return { record: coordinationSummary(citizen, citizen.social), extras: citizen.extras.social ?? {} };
  },
};

/** Which contracts each simulated system serves: system id -> contract id -> contract. Add new ones here. */
export const SIMULATED_CONTRACTS: Readonly<Record<string, Readonly<Record<string, SimulatedContract>>>> = {
  'bif-jobcentre-system': byId(
    employmentCitizenStatus,
    employmentJobPlanSummary,
    employmentCoordinationOverview,
    employmentProgressionAssessment,
  ),
  'sof-case-system': byId(
    socialCoordinationSummary,
    socialActionPlanSummary,
    socialCoordinationOverview,
    socialProgressionAssessment,
    socialWholePersonPlan,
  ),
  'suf-health-system': byId(healthRehabilitationInfo),
  'buf-youth-system': byId(youthEducationStatus),
};

function byId(...contracts: SimulatedContract[]): Readonly<Record<string, SimulatedContract>> {
  return Object.fromEntries(contracts.map((c) => [c.id, c]));
}
