import { isSyntheticCpr } from '../lib/cpr.js';
import { deepFreeze } from '../lib/deep-freeze.js';
import { Random } from './prng.js';
import {
  EFFORTS,
  type Benefit,
  type Contact,
  type Effort,
  type EmploymentStatus,
  type ExtraFields,
  type IsoDate,
  type MeetingKind,
  type Sanction,
  type SocialSummary,
  type TargetGroup,
} from './records.js';

/**
 * The synthetic population behind the simulated provider systems. Deterministic: a seeded PRNG
 * and a fixed reference date, so every machine and every run sees the same citizens. No real
 * person is in it: CPR numbers have the serial 99NN, names are role labels with a number,
 * phone numbers start with 0 (no Danish number does) and mail goes to example.invalid.
 */

/** Which administrations have a case for the citizen (DOMAIN.md: shared citizens have both). */
export type CitizenGroup = 'shared' | 'employment-only' | 'social-only';

export interface SyntheticCitizen {
  readonly cpr: string;
  readonly birthDate: IsoDate;
  readonly group: CitizenGroup;
  /** The jobcentre's record; null when the jobcentre has no case. */
  readonly employment: EmploymentStatus | null;
  /** Social services' record; null when they hold nothing (a closed case is openSocialCase false). */
  readonly social: SocialSummary | null;
  /** Fields outside the contracts that the provider systems send along anyway. */
  readonly extras: { readonly employment?: ExtraFields; readonly social?: ExtraFields };
}

export interface PopulationOptions {
  readonly seed?: number;
  readonly size?: number;
  /** "Today" for the records' dates (meetings ahead, sanctions behind). */
  readonly referenceDate?: IsoDate;
}

export const POPULATION_SEED = 0x5a17f1ad;
export const POPULATION_SIZE = 2500;
export const REFERENCE_DATE: IsoDate = '2025-12-01';

const DAY = 86_400_000;

const JOBCENTRE_UNITS = [
  'Jobcenter København, Nørrebro',
  'Jobcenter København, Amager',
  'Jobcenter København, Vesterbro',
  'Jobcenter København, Nordvest',
  'Jobcenter København, Valby',
  'Jobcenter København, Østerbro',
] as const;
const YOUTH_UNIT = 'Jobcenter København, Ungeindsatsen';

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0');
}

function isoDate(ms: number): IsoDate {
  return new Date(ms).toISOString().slice(0, 10);
}

/** Moves a weekend date to the Monday after: meetings happen on working days. */
function workingDay(ms: number): number {
  const dow = new Date(ms).getUTCDay();
  return dow === 6 ? ms + 2 * DAY : dow === 0 ? ms + DAY : ms;
}

function caseworker(n: number): Contact {
  const id = pad(n, 4);
  return { name: `Sagsbehandler ${id}`, phone: `+45 0000 ${id}`, email: `sagsbehandler.${id}@example.invalid` };
}

function supportContact(n: number): Contact {
  const id = pad(n, 4);
  return { name: `Kontaktperson ${id}`, phone: `+45 0001 ${id}`, email: `kontaktperson.${id}@example.invalid` };
}

/** A unique synthetic CPR number (serial 99NN) for someone born between the two dates. */
function newCpr(rng: Random, taken: Set<string>, bornFrom: number, bornTo: number): { cpr: string; birthDate: IsoDate } {
  for (;;) {
    const birth = new Date(bornFrom + Math.floor(rng.float() * ((bornTo - bornFrom) / DAY)) * DAY);
    const dd = pad(birth.getUTCDate(), 2);
    const mm = pad(birth.getUTCMonth() + 1, 2);
    const yy = pad(birth.getUTCFullYear() % 100, 2);
    // Seventh digit 9: years 00-36 are 2000-2036, 37-99 are 1937-1999 (the range used here).
    const cpr = `${dd}${mm}${yy}99${pad(rng.int(0, 99), 2)}`;
    if (taken.has(cpr) || !isSyntheticCpr(cpr)) continue;
    taken.add(cpr);
    return { cpr, birthDate: isoDate(birth.getTime()) };
  }
}

function targetGroupFor(rng: Random, age: number, group: CitizenGroup): TargetGroup {
  if (age < 30) return rng.weighted({ 'education-ready': 55, 'activity-ready': 30, 'job-ready': 15 });
  return group === 'shared'
    ? rng.weighted({ 'activity-ready': 65, 'job-ready': 35, 'education-ready': 0 })
    : rng.weighted({ 'job-ready': 55, 'activity-ready': 45, 'education-ready': 0 });
}

function benefitFor(rng: Random, targetGroup: TargetGroup): Benefit {
  switch (targetGroup) {
    case 'education-ready':
      return rng.weighted<Benefit>({
        'education-benefit': 88,
        'sickness-benefit': 7,
        'cash-benefit': 5,
        'unemployment-insurance': 0,
        'resource-course': 0,
        'flex-job': 0,
        'flex-job-benefit': 0,
      });
    case 'activity-ready':
      return rng.weighted<Benefit>({
        'cash-benefit': 55,
        'resource-course': 17,
        'sickness-benefit': 12,
        'flex-job-benefit': 8,
        'flex-job': 4,
        'education-benefit': 4,
        'unemployment-insurance': 0,
      });
    case 'job-ready':
      return rng.weighted<Benefit>({
        'cash-benefit': 45,
        'unemployment-insurance': 35,
        'sickness-benefit': 8,
        'flex-job': 8,
        'flex-job-benefit': 4,
        'education-benefit': 0,
        'resource-course': 0,
      });
  }
}

function sanctionsFor(rng: Random, benefit: Benefit, today: number): Sanction[] {
  // Sanctions hit recipients of cash benefit and education benefit.
  if (benefit !== 'cash-benefit' && benefit !== 'education-benefit') return [];
  const count = rng.weighted({ zero: 80, one: 15, two: 5 });
  if (count === 'zero') return [];
  const sanctions: Sanction[] = [];
  for (let i = 0; i < (count === 'one' ? 1 : 2); i++) {
    const type = rng.weighted({ reduction: 65, periodic: 25, stop: 10 });
    const amountDkk = type === 'reduction' ? rng.int(2, 35) * 100 : type === 'periodic' ? rng.int(10, 80) * 100 : rng.int(60, 120) * 100;
    sanctions.push({ date: isoDate(today - rng.int(1, 90) * DAY), type, amountDkk });
  }
  return sanctions.sort((a, b) => a.date.localeCompare(b.date));
}

function employmentRecord(rng: Random, age: number, group: CitizenGroup, today: number): EmploymentStatus {
  const targetGroup = targetGroupFor(rng, age, group);
  const benefit = benefitFor(rng, targetGroup);
  const youth = age < 30 && targetGroup === 'education-ready';
  const unitIndex = rng.int(0, JOBCENTRE_UNITS.length - 1);
  const jobcentreUnit = youth ? YOUTH_UNIT : JOBCENTRE_UNITS[unitIndex]!;
  const caseworkerNo = (youth ? JOBCENTRE_UNITS.length : unitIndex) * 100 + rng.int(1, 40);
  let nextMeeting: EmploymentStatus['nextMeeting'] = null;
  if (rng.chance(0.85)) {
    const rehab = benefit === 'resource-course' || benefit === 'flex-job-benefit' || benefit === 'sickness-benefit';
    const kind = rng.weighted<MeetingKind>({
      'follow-up': 55,
      'job-plan': 20,
      'joint-meeting': group === 'shared' ? 18 : 3,
      'rehabilitation-team': rehab ? 20 : 2,
    });
    nextMeeting = { date: isoDate(workingDay(today + rng.int(1, 70) * DAY)), kind };
  }
  return {
    targetGroup,
    benefit,
    jobcentreUnit,
    caseworkerContact: caseworker(caseworkerNo),
    nextMeeting,
    sanctions: sanctionsFor(rng, benefit, today),
  };
}

function openSocialRecord(rng: Random, group: CitizenGroup, today: number): SocialSummary {
  const contact = rng.chance(group === 'social-only' ? 0.75 : 0.7) ? supportContact(rng.int(1, 400)) : null;
  const hasPlan = rng.chance(group === 'shared' ? 0.65 : 0.55);
  const actionPlan = hasPlan
    ? {
        exists: true,
        created: isoDate(today - rng.int(30, 1000) * DAY),
        nextReview: rng.chance(0.9) ? isoDate(workingDay(today + rng.int(7, 180) * DAY)) : null,
      }
    : { exists: false, created: null, nextReview: null };
  const chosen = new Set<Effort>();
  if (contact !== null && rng.chance(0.8)) chosen.add('support-contact-person');
  const more = rng.int(group === 'social-only' ? 1 : 0, 2);
  for (let i = 0; i < more; i++) {
    chosen.add(
      rng.weighted<Effort>({
        'housing-support': 30,
        'mental-health-support': 25,
        mentor: 20,
        'addiction-treatment': 20,
        shelter: group === 'social-only' ? 20 : 12,
        'disability-support': 10,
        'support-contact-person': 5,
      }),
    );
  }
  return { openSocialCase: true, supportContact: contact, actionPlan, efforts: EFFORTS.filter((e) => chosen.has(e)) };
}

/** A social case closed earlier: the system still knows the citizen, with nothing open. */
const CLOSED_SOCIAL_CASE: SocialSummary = {
  openSocialCase: false,
  supportContact: null,
  actionPlan: { exists: false, created: null, nextReview: null },
  efforts: [],
};

function extraFields(rng: Random, system: 'employment' | 'social', n: number): ExtraFields {
  const id = pad(n, 4);
  const pool: Record<string, () => string | number> =
    system === 'employment'
      ? {
          internalNote: () => `SYNTETISK TESTDATA: intern note ${id}, må ikke deles`,
          bankAccount: () => `0000 00000${pad(n, 5)}`,
          riskScore: () => rng.int(1, 99),
        }
      : {
          internalNote: () => `SYNTETISK TESTDATA: notat fra visitation ${id}`,
          diagnosisCode: () => `SYNT-${pad(rng.int(0, 99), 2)}.${rng.int(0, 9)}`,
          bankAccount: () => `0000 00000${pad(n, 5)}`,
        };
  const names = Object.keys(pool);
  const first = rng.pick(names);
  const out: Record<string, string | number> = { [first]: pool[first]!() };
  if (rng.chance(0.4)) {
    const second = rng.pick(names.filter((k) => k !== first));
    out[second] = pool[second]!();
  }
  return out;
}

/**
 * Builds a synthetic population from a seed. The same options give the same citizens, in
 * the same order, on every machine. About 70 % are shared citizens, 18 % have only an
 * employment case (a third of them a closed social case), 12 % only a social case, and about
 * one in eight citizens' records carry extra, non-contract fields.
 *
 * @example
 * const citizens = generatePopulation({ size: 100 });
 */
export function generatePopulation(options: PopulationOptions = {}): SyntheticCitizen[] {
  const rng = new Random(options.seed ?? POPULATION_SEED);
  const size = options.size ?? POPULATION_SIZE;
  const reference = options.referenceDate ?? REFERENCE_DATE;
  if (!Number.isInteger(size) || size < 1 || size > 100_000) throw new TypeError('generatePopulation: size must be 1-100000');
  const today = Date.parse(`${reference}T00:00:00Z`);
  if (!/^\d{4}-\d{2}-\d{2}$/.test(reference) || Number.isNaN(today))
    throw new TypeError('generatePopulation: referenceDate must be YYYY-MM-DD');
  const refYear = new Date(today).getUTCFullYear();
  // Ages 18 to 66, and births within 1937-2036 so that the seventh digit 9 stays valid.
  const bornFrom = Math.max(Date.UTC(refYear - 66, 0, 1), Date.UTC(1937, 0, 1));
  const bornTo = Math.min(Date.UTC(refYear - 18, 0, 1), Date.UTC(2036, 11, 31));

  const taken = new Set<string>();
  const citizens: SyntheticCitizen[] = [];
  for (let i = 0; i < size; i++) {
    const { cpr, birthDate } = newCpr(rng, taken, bornFrom, bornTo);
    const age = Math.floor((today - Date.parse(`${birthDate}T00:00:00Z`)) / (365.25 * DAY));
    const group = rng.weighted<CitizenGroup>({ shared: 70, 'employment-only': 18, 'social-only': 12 });
    const employment = group === 'social-only' ? null : employmentRecord(rng, age, group, today);
    const social = group === 'employment-only' ? (rng.chance(1 / 3) ? CLOSED_SOCIAL_CASE : null) : openSocialRecord(rng, group, today);

    const extras: { employment?: ExtraFields; social?: ExtraFields } = {};
    if (rng.chance(1 / 8)) {
      const where = employment && social ? rng.weighted({ employment: 50, social: 30, both: 20 }) : employment ? 'employment' : 'social';
      if (employment && (where === 'employment' || where === 'both')) extras.employment = extraFields(rng, 'employment', i);
      if (social && (where === 'social' || where === 'both')) extras.social = extraFields(rng, 'social', i);
    }
    citizens.push({ cpr, birthDate, group, employment, social, extras });
  }
  return citizens;
}

let cached: readonly SyntheticCitizen[] | undefined;
let index: ReadonlyMap<string, SyntheticCitizen> | undefined;

/** The demo's population (default seed, size and reference date), built once and frozen. */
export function population(): readonly SyntheticCitizen[] {
  cached ??= deepFreeze(generatePopulation());
  return cached;
}

/** The citizen with this CPR number in the demo population, or undefined. */
export function findCitizen(cpr: string): SyntheticCitizen | undefined {
  index ??= new Map(population().map((c) => [c.cpr, c]));
  return index.get(cpr);
}
