/**
 * The personal-data detector (src/lib/cpr.ts): the one module that decides whether a string may
 * hold a CPR number. It must find every written form people and systems use, wherever it stands
 * in a text, and must not fire on the identifiers the gateway itself makes or passes on.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { newAuditId } from '../src/audit/id.js';
import { CPR_WRITTEN_FORMS, isValidCpr, mayHoldCpr, parseCpr, redactCpr } from '../src/lib/cpr.js';
import { scrub } from '../src/log.js';

const CPR = '3112799923';

describe('the written forms of a CPR number', () => {
  const positions: readonly [string, (w: string) => string][] = [
    ['alone', (w) => w],
    ['inside text', (w) => `cpr ${w} i sagen`],
    ['after a letter', (w) => `x${w}`],
    ['before a letter', (w) => `${w}y`],
    ['between letters', (w) => `SAG${w}B`],
    ['after a prefix with a hyphen', (w) => `req-${w}`],
    ['in JSON', (w) => JSON.stringify({ note: w })],
  ];
  const table = CPR_WRITTEN_FORMS.flatMap((f) => positions.map(([where, put]) => [f.name, where, put(f.write(CPR))] as const));

  it.each(table)('finds the form "%s" %s', (_form, _where, text) => {
    expect(mayHoldCpr(text)).toBe(true);
    const redacted = redactCpr(text, '[redacted]');
    expect(redacted).toContain('[redacted]');
    expect(mayHoldCpr(redacted)).toBe(false);
  });

  it.each(CPR_WRITTEN_FORMS.map((f) => [f.name, f.write(CPR)] as const))(
    'reads the form "%s" as the citizen\'s ten digits',
    (_form, text) => {
      expect(parseCpr(text)).toBe(CPR);
      expect(parseCpr(` ${text} `)).toBe(CPR);
    },
  );

  it('finds a number that a case number or a phone number just before it used to hide', () => {
    for (const text of [
      `sag 2024-0042 311279-9923`,
      `tlf 12 34 56 78 311279-9923`,
      `j.nr 12.34 311279-9923`,
      `1234 311279-9923`,
      `12.34.311279-9923`,
    ])
      expect({ text, found: mayHoldCpr(text) }).toEqual({ text, found: true });
  });

  it('redacts a full-width number in a line that also holds an ASCII one', () => {
    expect(redactCpr(`a 311279-9923 b ${CPR_WRITTEN_FORMS.find((f) => f.name === 'full-width digits')!.write(CPR)}`, '[r]')).toBe(
      'a [r] b [r]',
    );
  });

  it('knows more than a dozen forms, each distinct', () => {
    const written = CPR_WRITTEN_FORMS.map((f) => f.write(CPR));
    expect(new Set(written).size).toBe(CPR_WRITTEN_FORMS.length);
    expect(CPR_WRITTEN_FORMS.length).toBeGreaterThan(12);
  });
});

describe('what is not a CPR number', () => {
  it.each([
    ['a case reference', 'SOF-2026-0001'],
    ['a caseworker id', 'sof-cw-0042'],
    ['an ISO timestamp', '2026-12-07T15:48:14.123Z'],
    ['a Danish date and time', '07.12.2026 15:48'],
    ['milliseconds since 1970', String(Date.UTC(2026, 11, 7))],
    ['seconds since 1970', '1765123456'],
    ['ten digits that are no date (day 32)', '3212799923'],
    ['ten digits that are no date (month 13)', '3113799923'],
    ['30 February', '3002999901'],
    ['eleven digits', `${CPR}1`],
    ['nine digits', CPR.slice(0, 9)],
    ['a twelve-digit number', `00${CPR}`],
    ['a Danish phone number', '+45 3112 7999'],
    ['a version', 'employment.citizen-status.v1'],
    ['a serial in a long digit run', `4${CPR}4`],
    ['a time with milliseconds', '15:48:14.123'],
    ['a case number and a date', 'SAG 2024-0042 af 07.12.2026'],
  ])('%s: %s', (_what, text) => {
    expect(mayHoldCpr(text)).toBe(false);
    expect(redactCpr(text, '[redacted]')).toBe(text);
    expect(parseCpr(text)).toBeUndefined();
  });

  it('leaves a UUID alone even when a group holds a date and a serial', () => {
    const crafted = `abcdef12-0000-4000-8000-ab${CPR}`;
    expect(mayHoldCpr(crafted)).toBe(false);
    expect(mayHoldCpr(`see ${crafted}, then`)).toBe(false);
    // Glued to letters it is no UUID: read as text.
    expect(mayHoldCpr(`x${crafted}`)).toBe(true);
  });

  it('leaves hex digests alone', () => {
    const digest = createHash('sha256').update('x').digest('hex').slice(0, 20) + CPR + 'abcdef0123456789abcd';
    expect(digest.length).toBeGreaterThanOrEqual(32);
    expect(mayHoldCpr(digest)).toBe(false);
  });

  it('never fires on 20,000 random UUIDs, time-ordered audit ids or SHA-256 hex digests', () => {
    for (let i = 0; i < 20_000; i++) {
      expect(mayHoldCpr(randomUUID())).toBe(false);
      expect(mayHoldCpr(newAuditId())).toBe(false);
      expect(mayHoldCpr(randomBytes(32).toString('hex'))).toBe(false);
    }
  });
});

describe('the log scrubber', () => {
  it('never alters a UUID request id (it used to rewrite about one in 200)', () => {
    for (let i = 0; i < 20_000; i++) {
      const line = JSON.stringify({ level: 'info', message: 'request', requestId: randomUUID(), auditId: newAuditId(), status: 200 });
      expect(scrub(line)).toBe(line);
    }
  });

  it('removes every written form from a log line and keeps the rest', () => {
    for (const f of CPR_WRITTEN_FORMS) {
      const id = randomUUID();
      const out = scrub(`requestId=${id} note=x${f.write(CPR)}y`);
      expect(out).toBe(`requestId=${id} note=x[redacted]y`);
    }
  });
});

describe('property: no generated CPR number slips through', () => {
  /** A real date between 1858 and 2057 and a serial that gives that century. */
  const cprNumber = fc
    .record({
      day: fc.integer({ min: 1, max: 31 }),
      month: fc.integer({ min: 1, max: 12 }),
      yy: fc.integer({ min: 0, max: 99 }),
      serial: fc.integer({ min: 0, max: 9999 }),
    })
    .map(
      ({ day, month, yy, serial }) =>
        `${String(day).padStart(2, '0')}${String(month).padStart(2, '0')}${String(yy).padStart(2, '0')}${String(serial).padStart(4, '0')}`,
    )
    .filter(isValidCpr);
  const form = fc.constantFrom(...CPR_WRITTEN_FORMS);
  // What may stand beside the number: nothing, text, letters glued to it, punctuation; never a digit.
  const beside = fc.oneof(
    fc.constant(''),
    fc.constant(' '),
    fc.stringMatching(/^[A-Za-zæøåÆØÅ]{1,6}$/),
    fc.stringMatching(/^[A-Za-z ,;:()"'=-]{0,12}[A-Za-z ,;:()"'=]$/),
  );

  it('finds the number in every form, wherever it stands', () => {
    fc.assert(
      fc.property(cprNumber, form, beside, beside, (digits, f, before, after) => {
        const text = `${before}${f.write(digits)}${after}`;
        return mayHoldCpr(text) && !mayHoldCpr(redactCpr(text, '[redacted]'));
      }),
      { numRuns: 5000 },
    );
  });

  it('finds the number after any digits and separators before it (a case number, a phone number)', () => {
    const numbersBefore = fc.stringMatching(/^[0-9]{1,4}(?:[ .,:\/-][0-9]{1,4}){0,4}[ .\/-]$/);
    fc.assert(
      fc.property(cprNumber, form, numbersBefore, beside, (digits, f, before, after) => mayHoldCpr(`${before}${f.write(digits)}${after}`)),
      { numRuns: 5000 },
    );
  });

  it('reads every form back as the same ten digits', () => {
    fc.assert(
      fc.property(cprNumber, form, (digits, f) => parseCpr(f.write(digits)) === digits),
      { numRuns: 2000 },
    );
  });
});
