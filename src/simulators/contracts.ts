import { findCitizen } from './population.js';
import { EMPLOYMENT_FIELDS, SOCIAL_FIELDS, type ExtraFields } from './records.js';

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
  fields: EMPLOYMENT_FIELDS,
  lookup(cpr) {
    const citizen = findCitizen(cpr);
    if (!citizen?.employment) return undefined;
    return { record: citizen.employment, extras: citizen.extras.employment ?? {} };
  },
};

export const socialCoordinationSummary: SimulatedContract = {
  id: 'social.coordination-summary.v1',
  fields: SOCIAL_FIELDS,
  lookup(cpr) {
    const citizen = findCitizen(cpr);
    if (!citizen?.social) return undefined;
    return { record: citizen.social, extras: citizen.extras.social ?? {} };
  },
};

/** Which contracts each simulated system serves: system id -> contract id -> contract. Add new ones here. */
export const SIMULATED_CONTRACTS: Readonly<Record<string, Readonly<Record<string, SimulatedContract>>>> = {
  'bif-jobcentre-system': { [employmentCitizenStatus.id]: employmentCitizenStatus },
  'sof-case-system': { [socialCoordinationSummary.id]: socialCoordinationSummary },
};
