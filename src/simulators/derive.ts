import { REFERENCE_DATE, type SyntheticCitizen } from './population.js';
import { Random } from './prng.js';
import type { Contact, IsoDate } from './records.js';

/**
 * Helpers for the records the simulated systems derive from a synthetic citizen: plans,
 * overviews, assessments, youth and health records. Each record comes from its own random
 * stream, seeded by the citizen's CPR number and the record's name, so it is the same on every
 * run and adding a record never changes the population or another record.
 */

const DAY = 86_400_000;
export const TODAY = Date.parse(`${REFERENCE_DATE}T00:00:00Z`);

/** FNV-1a over the text: a 32-bit seed (not a secret; it only picks the synthetic values). */
function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** The random stream of one record of one citizen. */
export function recordRandom(citizen: Pick<SyntheticCitizen, 'cpr'>, record: string): Random {
  return new Random(fnv1a(`${record}:${citizen.cpr}`));
}

export function isoDate(ms: number): IsoDate {
  return new Date(ms).toISOString().slice(0, 10);
}

/** Moves a weekend date to the Monday after: meetings happen on working days. */
export function workingDay(ms: number): number {
  const dow = new Date(ms).getUTCDay();
  return dow === 6 ? ms + 2 * DAY : dow === 0 ? ms + DAY : ms;
}

/** A working day `days` after the reference date (negative: before). */
export function dayFromToday(days: number): IsoDate {
  return isoDate(workingDay(TODAY + days * DAY));
}

/** Whole years of age on the reference date. */
export function ageOf(citizen: Pick<SyntheticCitizen, 'birthDate'>): number {
  return Math.floor((TODAY - Date.parse(`${citizen.birthDate}T00:00:00Z`)) / (365.25 * DAY));
}

/**
 * A synthetic contact: a role label with a number, a phone number starting with 0 (no Danish
 * number does) and mail to example.invalid. `series` keeps the roles' numbers apart.
 */
export function syntheticContact(role: string, series: number, n: number): Contact {
  const id = String(n).padStart(4, '0');
  const slug = role.toLowerCase().replaceAll(' ', '.').replaceAll('æ', 'ae').replaceAll('ø', 'oe').replaceAll('å', 'aa');
  return { name: `${role} ${id}`, phone: `+45 000${series} ${id}`, email: `${slug}.${id}@example.invalid` };
}
