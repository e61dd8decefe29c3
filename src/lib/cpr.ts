/**
 * CPR numbers: ten digits, DDMMYY-SSSS; the first six are a real date, the seventh digit with
 * the year gives the century. The check digit (modulus 11) was dropped in 2007, so any serial
 * is valid in form.
 *
 * The gateway's synthetic citizens all have a serial 99NN (digits 7-8 are "99"): recognisably
 * fake for anyone who knows the convention, yet valid in form. 9 in position 7 with year 37-99
 * means born 1937-1999 and with year 00-36 born 2000-2036.
 */

const CPR_SHAPE = /^[0-9]{10}$/;

/** The birth year of a CPR number from its year digits and seventh digit, or undefined. */
export function cprCentury(yy: number, seventh: number): number | undefined {
  if (seventh <= 3) return 1900 + yy;
  if (seventh === 4 || seventh === 9) return yy <= 36 ? 2000 + yy : 1900 + yy;
  if (seventh >= 5 && seventh <= 8) return yy <= 57 ? 2000 + yy : 1800 + yy;
  return undefined;
}

/** True when the string is ten ASCII digits whose first six are a real date. */
export function isValidCpr(value: string): boolean {
  if (!CPR_SHAPE.test(value)) return false;
  const dd = Number(value.slice(0, 2));
  const mm = Number(value.slice(2, 4));
  const yy = Number(value.slice(4, 6));
  const year = cprCentury(yy, Number(value[6]));
  if (year === undefined || mm < 1 || mm > 12 || dd < 1) return false;
  const daysInMonth = new Date(Date.UTC(year, mm, 0)).getUTCDate();
  return dd <= daysInMonth;
}

/** True for the synthetic population's numbers (serial 99NN). */
export function isSyntheticCpr(value: string): boolean {
  return isValidCpr(value) && value.slice(6, 8) === '99';
}
