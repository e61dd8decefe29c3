/**
 * Policy validity periods are written as dates ("2025-01-01"), meant as dates in Denmark:
 * a policy valid to 2025-12-31 holds until midnight Copenhagen time, whatever the server's
 * time zone. Periods are turned into instants once, so the evaluator compares numbers.
 */
const ZONE = 'Europe/Copenhagen';
const DATE = /^([0-9]{4})-([0-9]{2})-([0-9]{2})$/;

const clock = new Intl.DateTimeFormat('en-GB', {
  timeZone: ZONE,
  hourCycle: 'h23',
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
});

function wallClock(ms: number): { y: number; m: number; d: number; h: number; mi: number; s: number } {
  const parts: Record<string, number> = {};
  for (const p of clock.formatToParts(new Date(ms))) if (p.type !== 'literal') parts[p.type] = Number(p.value);
  return { y: parts.year!, m: parts.month!, d: parts.day!, h: parts.hour!, mi: parts.minute!, s: parts.second! };
}

/** Copenhagen's offset from UTC at an instant, in ms (3,600,000 in winter, 7,200,000 in summer). */
function offsetAt(ms: number): number {
  const w = wallClock(ms);
  return Date.UTC(w.y, w.m - 1, w.d, w.h, w.mi, w.s) - Math.floor(ms / 1000) * 1000;
}

/** The instant a day starts in Copenhagen (month 1-12; days beyond the month roll over). */
function startOfDay(y: number, m: number, d: number): number {
  const utcMidnight = Date.UTC(y, m - 1, d);
  // Danish clocks change at 02:00/03:00, so midnight always exists and is unambiguous.
  const guess = utcMidnight - offsetAt(utcMidnight);
  return utcMidnight - offsetAt(guess);
}

function parse(date: string): [number, number, number] | undefined {
  const m = DATE.exec(date);
  return m ? [Number(m[1]), Number(m[2]), Number(m[3])] : undefined;
}

/** The instant a Copenhagen date starts, or NaN for a malformed date. */
export function dayStart(date: string): number {
  const p = parse(date);
  return p ? startOfDay(p[0], p[1], p[2]) : Number.NaN;
}

/** The instant after a Copenhagen date ends (the next day's start), or NaN for a malformed date. */
export function dayEnd(date: string): number {
  const p = parse(date);
  return p ? startOfDay(p[0], p[1], p[2] + 1) : Number.NaN;
}

/** The date in Copenhagen at an instant, as YYYY-MM-DD. */
export function copenhagenDate(at: Date): string {
  const w = wallClock(at.getTime());
  return `${String(w.y).padStart(4, '0')}-${String(w.m).padStart(2, '0')}-${String(w.d).padStart(2, '0')}`;
}

/** True when the text is a real calendar date YYYY-MM-DD. */
export function isCalendarDate(date: string): boolean {
  const p = parse(date);
  if (!p) return false;
  const d = new Date(Date.UTC(p[0], p[1] - 1, p[2]));
  return d.getUTCFullYear() === p[0] && d.getUTCMonth() === p[1] - 1 && d.getUTCDate() === p[2];
}

/**
 * The calendar date `duration` (ISO 8601, years, months, weeks and days: "P1Y", "P6M2W") after
 * `date`, both YYYY-MM-DD. A month added to the 31st ends on the month's last day (2025-01-31
 * plus P1M is 2025-02-28), as a person counting on a calendar would say.
 *
 * @example
 *   addDuration('2026-03-01', 'P1Y'); // '2027-03-01'
 */
export function addDuration(date: string, duration: string): string {
  return shift(date, duration, 1, 'addDuration');
}

/**
 * The calendar date `duration` before `date`: addDuration counting back (years and months
 * first, a month taken from the 31st ending on the month's last day, then weeks and days).
 *
 * @example
 *   subtractDuration('2026-03-06', 'P2Y'); // '2024-03-06'
 *   subtractDuration('2026-03-31', 'P1M'); // '2026-02-28'
 */
export function subtractDuration(date: string, duration: string): string {
  return shift(date, duration, -1, 'subtractDuration');
}

function shift(date: string, duration: string, sign: 1 | -1, name: string): string {
  const p = parse(date);
  const m = /^P(?=[0-9])(?:([0-9]+)Y)?(?:([0-9]+)M)?(?:([0-9]+)W)?(?:([0-9]+)D)?$/.exec(duration);
  if (!p || !m) throw new TypeError(`${name}: not a date and a duration: ${date}, ${duration}`);
  const [years, months, weeks, days] = [1, 2, 3, 4].map((i) => sign * Number(m[i] ?? 0));
  const totalMonths = p[0] * 12 + (p[1] - 1) + years! * 12 + months!;
  const y = Math.floor(totalMonths / 12);
  const mo = totalMonths - y * 12;
  const lastDay = new Date(Date.UTC(y, mo + 1, 0)).getUTCDate();
  const d = new Date(Date.UTC(y, mo, Math.min(p[2], lastDay) + weeks! * 7 + days!));
  return d.toISOString().slice(0, 10);
}

/**
 * A person's age in completed years on a day: `birthDate` and `day` are YYYY-MM-DD (a Copenhagen
 * date, see copenhagenDate). The age goes up on the birthday itself; someone born on 29 February
 * is a year older on 1 March in a year that is no leap year (the day after 28 February, which is
 * the stricter reading for a minimum age). Throws TypeError for a malformed date (a programming
 * mistake: callers pass dates they made).
 *
 * @example
 *   ageOn('2008-05-01', '2026-04-30'); // 17
 *   ageOn('2008-05-01', '2026-05-01'); // 18
 */
export function ageOn(birthDate: string, day: string): number {
  const b = parse(birthDate);
  const d = parse(day);
  if (!b || !d) throw new TypeError(`ageOn: not two dates: ${b ? 'birth date ok' : 'birth date malformed'}, ${day}`);
  const beforeBirthday = d[1] < b[1] || (d[1] === b[1] && d[2] < b[2]);
  return d[0] - b[0] - (beforeBirthday ? 1 : 0);
}
