import type { SimulatedContract } from './contracts.js';
import { ageOf, dayFromToday, recordRandom, syntheticContact } from './derive.js';
import { findCitizen, type SyntheticCitizen } from './population.js';
import type { Contact, IsoDate } from './records.js';

/**
 * The simulated youth system of the Children and Youth Administration (BUF, `buf-youth-system`)
 * for the coordinated youth effort (KUI): the education status of young people aged 18 to 29.
 * Older citizens are unknown to it (SUBJECT_NOT_FOUND). The subject is always the young person;
 * the system holds nothing about their parents or their own children.
 */

export const YOUTH_MAX_AGE = 29;
export const EDUCATION_STATUSES = ['in-education', 'completed-youth-education', 'dropped-out', 'not-started'] as const;
export const EDUCATION_KINDS = ['upper-secondary', 'vocational', 'preparatory-basic-education', 'higher-preparatory', 'other'] as const;

/** youth.education-status.v1 */
export interface EducationStatus {
  readonly educationStatus: (typeof EDUCATION_STATUSES)[number];
  readonly currentEducation: { readonly kind: (typeof EDUCATION_KINDS)[number]; readonly started: IsoDate } | null;
  readonly youthGuidanceContact: Contact | null;
  readonly kuiCoordination: { readonly enrolled: boolean; readonly nextMeeting: IsoDate | null };
}

/** The young person's record, or undefined for a citizen older than 29. */
export function educationStatus(citizen: SyntheticCitizen): EducationStatus | undefined {
  const age = ageOf(citizen);
  if (age > YOUTH_MAX_AGE) return undefined;
  const r = recordRandom(citizen, 'buf-youth');
  const status =
    citizen.employment?.targetGroup === 'education-ready' || citizen.employment === null
      ? r.weighted({ 'dropped-out': 45, 'not-started': 35, 'in-education': 20, 'completed-youth-education': 0 })
      : r.weighted({ 'completed-youth-education': 40, 'in-education': 30, 'dropped-out': 20, 'not-started': 10 });
  const enrolled = r.chance(age <= 25 ? 0.7 : 0.3);
  return {
    educationStatus: status,
    currentEducation:
      status === 'in-education'
        ? {
            kind: r.weighted({
              'preparatory-basic-education': 35,
              vocational: 30,
              'higher-preparatory': 15,
              'upper-secondary': 15,
              other: 5,
            }),
            started: dayFromToday(-r.int(30, 700)),
          }
        : null,
    youthGuidanceContact: r.chance(0.85) ? syntheticContact('Ungdomsvejleder', 4, r.int(1, 80)) : null,
    kuiCoordination: { enrolled, nextMeeting: enrolled && r.chance(0.8) ? dayFromToday(r.int(5, 60)) : null },
  };
}

export const youthEducationStatus: SimulatedContract = {
  id: 'youth.education-status.v1',
  fields: ['educationStatus', 'currentEducation', 'youthGuidanceContact', 'kuiCoordination'] satisfies (keyof EducationStatus)[],
  lookup(cpr) {
    const citizen = findCitizen(cpr);
    const record = citizen ? educationStatus(citizen) : undefined;
    return record ? { record, extras: {} } : undefined;
  },
};
