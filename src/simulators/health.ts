import type { SimulatedContract } from './contracts.js';
import { ageOf, dayFromToday, recordRandom, syntheticContact } from './derive.js';
import { findCitizen, type SyntheticCitizen } from './population.js';
import type { Contact, ExtraFields, IsoDate } from './records.js';

/**
 * The simulated health and care system of the Health and Care Administration (SUF,
 * `suf-health-system`): what it can tell the jobcentre's rehabilitation team. Only some citizens
 * are known to it: most of those with addiction treatment, mental-health or disability support
 * at social services, or on sickness benefit, a resource course or flex-job benefit, and a few
 * others. No diagnoses and no journal text are in the contract; some records carry a journal
 * note anyway, so the gateway's minimisation has something to remove.
 */

export const HEALTH_SERVICES = [
  'home-care',
  'home-nursing',
  'rehabilitation-training',
  'alcohol-treatment',
  'preventive-health-talk',
] as const;
export const FUNCTIONAL_LEVELS = ['no-limitation', 'minor-limitation', 'moderate-limitation', 'severe-limitation'] as const;

/** health.rehabilitation-info.v1 */
export interface RehabilitationInfo {
  readonly healthServices: readonly (typeof HEALTH_SERVICES)[number][];
  readonly functionalLevel: { readonly assessedOn: IsoDate; readonly level: (typeof FUNCTIONAL_LEVELS)[number] } | null;
  readonly healthContact: Contact | null;
}

/** The citizen's record at SUF, or undefined when SUF does not know the citizen. */
export function rehabilitationInfo(citizen: SyntheticCitizen): { record: RehabilitationInfo; extras: ExtraFields } | undefined {
  const r = recordRandom(citizen, 'suf-health');
  const efforts = citizen.social?.efforts ?? [];
  const benefit = citizen.employment?.benefit;
  const indicated =
    efforts.some((e) => e === 'addiction-treatment' || e === 'mental-health-support' || e === 'disability-support') ||
    benefit === 'sickness-benefit' ||
    benefit === 'resource-course' ||
    benefit === 'flex-job-benefit';
  if (!r.chance(indicated ? 0.85 : 0.08)) return undefined;
  const services = new Set<(typeof HEALTH_SERVICES)[number]>();
  if (efforts.includes('addiction-treatment') && r.chance(0.5)) services.add('alcohol-treatment');
  if (efforts.includes('disability-support') && r.chance(0.6)) services.add('home-care');
  if (ageOf(citizen) >= 55 && r.chance(0.3)) services.add('home-nursing');
  services.add(
    r.weighted({ 'rehabilitation-training': 45, 'preventive-health-talk': 35, 'home-care': 10, 'home-nursing': 5, 'alcohol-treatment': 5 }),
  );
  const level =
    benefit === 'flex-job-benefit' || benefit === 'resource-course'
      ? r.weighted({ 'moderate-limitation': 50, 'severe-limitation': 25, 'minor-limitation': 25, 'no-limitation': 0 })
      : r.weighted({ 'minor-limitation': 40, 'no-limitation': 30, 'moderate-limitation': 25, 'severe-limitation': 5 });
  const n = r.int(1, 200);
  const record: RehabilitationInfo = {
    healthServices: HEALTH_SERVICES.filter((s) => services.has(s)),
    functionalLevel: r.chance(0.8) ? { assessedOn: dayFromToday(-r.int(10, 400)), level } : null,
    healthContact: r.chance(0.85) ? syntheticContact('Sundhedskoordinator', 5, n) : null,
  };
  const extras: ExtraFields = r.chance(1 / 8)
    ? { journalNote: `SYNTETISK TESTDATA: journalnotat ${String(n).padStart(4, '0')}, må ikke deles` }
    : {};
  return { record, extras };
}

export const healthRehabilitationInfo: SimulatedContract = {
  id: 'health.rehabilitation-info.v1',
  fields: ['healthServices', 'functionalLevel', 'healthContact'] satisfies (keyof RehabilitationInfo)[],
  lookup(cpr) {
    const citizen = findCitizen(cpr);
    return citizen ? rehabilitationInfo(citizen) : undefined;
  },
};
