/**
 * Subject conditions: a policy's `subject: { age: { min, max } }` against the citizen's age, which
 * the gateway computes from the CPR number's date and century digit on the request's day in
 * Copenhagen. Out of range, or not determinable, is SUBJECT_OUT_OF_SCOPE, decided before any
 * consent is asked for.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { subjectAge } from '../src/exchange/subject.js';
import { cprBirthDate } from '../src/lib/cpr.js';
import { ageOn } from '../src/policy/dates.js';
import { decide, type ConsentCheck } from '../src/policy/evaluate.js';
import type { DecisionRequest, PolicySet } from '../src/policy/types.js';
import type { ContractRegistry } from '../src/contracts/types.js';
import { checkRules } from '../src/rules/check.js';

const ROOT = process.cwd();

describe("the citizen's birth date from the CPR number", () => {
  it.each([
    ['0101379901', '1937-01-01'], // 9 with year 37-99: the 1900s
    ['0101369901', '2036-01-01'], // 9 with year 00-36: the 2000s
    ['0101361234', '1936-01-01'], // 0-3: always the 1900s
    ['0101364234', '2036-01-01'], // 4 with year 00-36: the 2000s
    ['0101374234', '1937-01-01'], // 4 with year 37-99: the 1900s
    ['0101575234', '2057-01-01'], // 5-8 with year 00-57: the 2000s
    ['0101588234', '1858-01-01'], // 5-8 with year 58-99: the 1800s
  ])('%s was born on %s', (cpr, born) => {
    expect(cprBirthDate(cpr)).toBe(born);
  });

  it('reads 29 February only in a leap year of the century the seventh digit gives', () => {
    expect(cprBirthDate('2902009901')).toBe('2000-02-29');
    expect(cprBirthDate('2902001234')).toBeUndefined(); // 1900 is no leap year
    expect(cprBirthDate('2902049901')).toBe('2004-02-29');
    expect(cprBirthDate('2902019901')).toBeUndefined();
  });

  it('has no birth date for a number whose date is not real or that is not ten digits', () => {
    expect(cprBirthDate('3102809901')).toBeUndefined();
    expect(cprBirthDate('010180990')).toBeUndefined();
    expect(cprBirthDate('01018099x1')).toBeUndefined();
  });
});

describe('age in completed years', () => {
  it('goes up on the birthday itself, not the day before', () => {
    expect(ageOn('2008-05-01', '2026-04-30')).toBe(17);
    expect(ageOn('2008-05-01', '2026-05-01')).toBe(18);
    expect(ageOn('1996-06-15', '2026-06-14')).toBe(29);
    expect(ageOn('1996-06-15', '2026-06-15')).toBe(30);
  });

  it('counts a 29 February birthday from 1 March in a year that is no leap year, and on 29 February in one that is', () => {
    expect(ageOn('2008-02-29', '2026-02-28')).toBe(17);
    expect(ageOn('2008-02-29', '2026-03-01')).toBe(18);
    expect(ageOn('2008-02-29', '2028-02-29')).toBe(20);
    expect(ageOn('2008-02-29', '2028-02-28')).toBe(19);
  });

  it('counts from midnight in Copenhagen, not in UTC', () => {
    const cpr = '0105089917'; // born 1 May 2008
    expect(subjectAge(cpr, new Date('2026-04-30T21:59:59Z'))).toBe(17); // 23:59:59 in Copenhagen (summer time)
    expect(subjectAge(cpr, new Date('2026-04-30T22:00:00Z'))).toBe(18); // midnight in Copenhagen
    expect(subjectAge('0101089917', new Date('2025-12-31T22:59:59Z'))).toBe(17); // winter time: 23:59:59
    expect(subjectAge('0101089917', new Date('2025-12-31T23:00:00Z'))).toBe(18);
  });

  it('is null (unknown) when the CPR number gives no birth date', () => {
    expect(subjectAge('2902019901', new Date('2026-01-01T12:00:00Z'))).toBeNull();
  });
});

describe('the subject clause in the evaluator', () => {
  let set: PolicySet;
  let contracts: ContractRegistry;
  beforeAll(async () => {
    const report = await checkRules(
      { schemas: path.join(ROOT, 'schemas'), policies: path.join(ROOT, 'policies'), certs: path.join(ROOT, 'no-such-certs') },
      { runCases: false },
    );
    set = report.policies!;
    contracts = report.contracts!;
  });
  let asked = 0;
  const consent: ConsentCheck = async () => {
    asked++;
    return { status: 'active', consentId: 'c-1' };
  };
  const request = (subject: Pick<DecisionRequest, 'subjectAge'>): DecisionRequest => ({
    contract: 'health.rehabilitation-info.v1',
    administration: 'BIF',
    roles: ['rehabilitation-team'],
    purpose: 'rehabilitation-team-assessment',
    requestedFields: ['healthServices'],
    at: new Date('2025-06-01T12:00:00Z'),
    provider: 'SUF',
    ...subject,
  });

  it('permits a citizen in range and refuses one out of range without asking for consent', async () => {
    asked = 0;
    expect((await decide(set, contracts, request({ subjectAge: 18 }), consent)).decision).toBe('permit');
    expect(asked).toBe(1);
    const d = await decide(set, contracts, request({ subjectAge: 17 }), consent);
    expect(d).toMatchObject({ decision: 'deny', reasons: ['SUBJECT_OUT_OF_SCOPE'], policy: { id: 'bif-rehab-team-reads-health-info' } });
    expect(asked).toBe(1);
    expect(d.trace.at(-1)).toBe(
      'bif-rehab-team-reads-health-info v4: covers citizens aged 18 or over; the citizen is younger: deny (SUBJECT_OUT_OF_SCOPE).',
    );
  });

  it('refuses, failing closed, when the age cannot be determined or was not given', async () => {
    for (const subject of [{ subjectAge: null }, {}]) {
      const d = await decide(set, contracts, request(subject), consent);
      expect(d).toMatchObject({ decision: 'deny', reasons: ['SUBJECT_OUT_OF_SCOPE'] });
      expect(d.trace.at(-1)).toContain('cannot be determined');
    }
  });

  it("holds the youth effort to the act's under-25s: 18 to 24", async () => {
    const youth = (age: number) =>
      decide(
        set,
        contracts,
        {
          contract: 'youth.education-status.v1',
          administration: 'BIF',
          roles: ['caseworker-system'],
          purpose: 'youth-coordination',
          requestedFields: ['educationStatus'],
          at: new Date('2025-06-01T12:00:00Z'),
          subjectAge: age,
        },
        consent,
      );
    expect((await youth(17)).decision).toBe('deny');
    expect((await youth(18)).decision).toBe('permit');
    expect((await youth(24)).decision).toBe('permit');
    expect(await youth(25)).toMatchObject({ decision: 'deny', reasons: ['SUBJECT_OUT_OF_SCOPE'] });
  });
});

describe('the subject clause in the rule set', () => {
  let dir: string;
  let policies: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'snitflade-policy-subject-'));
    policies = path.join(dir, 'policies');
    cpSync(path.join(ROOT, 'policies'), policies, { recursive: true });
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));
  const edit = (file: string, from: string, to: string): void => {
    const p = path.join(policies, file);
    const text = readFileSync(p, 'utf8');
    if (!text.includes(from)) throw new Error(`nothing to replace in ${file}`);
    writeFileSync(p, text.replace(from, to));
  };
  const problems = async () =>
    (
      await checkRules({ schemas: path.join(ROOT, 'schemas'), policies, certs: path.join(dir, 'no-certs') }, { runCases: false })
    ).errors.map((e) => `${path.basename(e.file)} ${e.path}: ${e.problem}`);

  it('refuses an age range that ends before it starts', async () => {
    edit('bif-reads-youth-education-status.policy.yaml', 'age: { min: 18, max: 24 }', 'age: { min: 25, max: 24 }');
    expect(await problems()).toEqual([
      'bif-reads-youth-education-status.policy.yaml /subject/age: the age range ends (max 24) before it starts (min 25)',
    ]);
  });

  it('refuses a negative, fractional or empty age bound', async () => {
    edit('bif-reads-youth-education-status.policy.yaml', 'age: { min: 18, max: 24 }', 'age: { min: -1, max: 24 }');
    edit('sof-reads-youth-education-status.policy.yaml', 'age: { min: 18, max: 24 }', 'age: { min: 18.5 }');
    edit('sof-reads-employment-status.policy.yaml', 'age: { min: 18 }', 'age: {}');
    const found = await problems();
    expect(found).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^bif-reads-youth-education-status\.policy\.yaml \/subject\/age\/min: /),
        expect.stringMatching(/^sof-reads-youth-education-status\.policy\.yaml \/subject\/age\/min: /),
        expect.stringMatching(/^sof-reads-employment-status\.policy\.yaml \/subject\/age: /),
      ]),
    );
    expect(found).toHaveLength(3);
  });
});
