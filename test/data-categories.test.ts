/**
 * The data categories the loader enforces: health data (GDPR Art. 9) only under an Art. 9 basis;
 * a child's data, a protected category of its own but not Art. 9, only on a contract about
 * children under a policy about children; and a contract about adults never used about a child.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { catalogueEntry } from '../src/contracts/catalogue.js';
import { loadContracts } from '../src/contracts/registry.js';
import { SPECIAL_CATEGORIES, type ContractRegistry } from '../src/contracts/types.js';
import { LoadErrors } from '../src/lib/load-error.js';
import { decide } from '../src/policy/evaluate.js';
import { loadPolicySet } from '../src/policy/loader.js';
import type { LoadedPolicySet } from '../src/policy/types.js';

const ROOT = process.cwd();
let dir: string;
let schemas: string;
let policies: string;

beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'snitflade-categories-'));
  schemas = path.join(dir, 'schemas');
  policies = path.join(dir, 'policies');
  cpSync(path.join(ROOT, 'schemas'), schemas, { recursive: true });
  cpSync(path.join(ROOT, 'policies'), policies, { recursive: true });
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function edit(file: string, from: string, to: string): void {
  const text = readFileSync(file, 'utf8');
  if (!text.includes(from)) throw new Error(`nothing to replace in ${path.basename(file)}`);
  writeFileSync(file, text.replace(from, to));
}

/** "file pointer: problem" for every problem loading the copied contracts, then the policies. */
function problems(): string[] {
  let contracts: ContractRegistry;
  try {
    contracts = loadContracts(schemas);
  } catch (err) {
    if (!(err instanceof LoadErrors)) throw err;
    return err.errors.map((e) => `${path.basename(e.file)} ${e.path}: ${e.problem}`);
  }
  try {
    loadPolicySet({ dir: policies, contracts });
  } catch (err) {
    if (!(err instanceof LoadErrors)) throw err;
    return err.errors.map((e) => `${path.basename(e.file)} ${e.path}: ${e.problem}`);
  }
  return [];
}

function loaded(): { contracts: ContractRegistry; set: LoadedPolicySet } {
  const contracts = loadContracts(schemas);
  return { contracts, set: loadPolicySet({ dir: policies, contracts }) };
}

describe('fields that reveal health, directly or indirectly, are health data', () => {
  // [policy without an Art. 9 basis, a field of its contract that can reveal health]
  it.each([
    ['sof-reads-employment-status', 'benefit'], // sickness benefit, a resource course, a flex job
    ['sof-reads-employment-status', 'nextMeeting'], // a rehabilitation team meeting
    ['sof-coordinator-reads-employment-overview', 'benefit'],
    ['sof-coordinator-reads-employment-overview', 'upcomingMeetings'],
    ['sof-reads-job-plan-summary', 'jobGoal'], // a flex job
    ['bif-copies-summons-to-sof-contact', 'meetingKind'],
    ['bif-notifies-sof-of-sanctions', 'benefit'],
    ['bif-reads-social-coordination-summary', 'supportContact'], // a support contact person (serviceloven)
    ['bif-reads-social-coordination-summary', 'healthEfforts'],
    ['bif-coordinator-reads-social-overview', 'supportContact'],
    ['bif-coordinator-reads-social-overview', 'healthEfforts'],
  ])('%s may not release %s without an Art. 9 basis', (policy, field) => {
    const file = path.join(policies, `${policy}.policy.yaml`);
    expect(readFileSync(file, 'utf8')).not.toContain('gdprSpecial');
    edit(file, '\nfields: [', `\nfields: [${field}, `);
    const found = problems();
    expect(found).toContain(
      `${policy}.policy.yaml /fields/0: "${field}" is health data, a special category (GDPR Art. 9); a policy that permits it needs legalBasis.gdprSpecial citing an Art. 9(2) basis, or must not permit it`,
    );
    // Besides, a policy on consent must have the consent cover health: nothing else is wrong.
    expect(found.filter((p) => !p.includes(`"${field}" is health data`))).toEqual(
      /consent:\n {2}required: true/.test(readFileSync(file, 'utf8'))
        ? [expect.stringMatching(new RegExp(`^${policy}\\.policy\\.yaml /consent/categories: .*add health`))]
        : [],
    );
  });

  it('a policy with an Art. 9 basis on consent releases them, its consent covering health', () => {
    const file = path.join(policies, 'bif-rehab-team-reads-social-efforts.policy.yaml');
    expect(readFileSync(file, 'utf8')).toContain('gdprSpecial: Art. 9(2)(b)');
    expect(problems()).toEqual([]);
    edit(file, 'categories: [social, plan, health]', 'categories: [social, plan]');
    expect(problems()).toEqual([
      'bif-rehab-team-reads-social-efforts.policy.yaml /consent/categories: the consent must cover every category this policy releases; add health (or remove the fields)',
    ]);
  });
});

// ---- a contract about a child, and a policy on it ----

const CHILD_CONTRACT = 'child.school-attendance.v1';
const childContract = (subject: object | undefined) => ({
  id: CHILD_CONTRACT,
  title: "A child's school attendance (test contract)",
  description: 'Test contract: the data describes the child named by cpr.',
  kind: 'query',
  provider: { administration: 'BUF', system: 'buf-youth-system' },
  ...(subject !== undefined ? { subject } : {}),
  request: {
    type: 'object',
    additionalProperties: false,
    required: ['cpr', 'fields'],
    properties: {
      cpr: { type: 'string', format: 'cpr' },
      fields: {
        type: 'array',
        minItems: 1,
        maxItems: 2,
        uniqueItems: true,
        items: { type: 'string', enum: ['attendance', 'schoolContact'] },
      },
    },
  },
  response: {
    type: 'object',
    additionalProperties: false,
    properties: {
      attendance: { type: 'string', enum: ['regular', 'irregular', 'absent'] },
      schoolContact: { type: 'string', minLength: 1, maxLength: 200 },
    },
  },
  fields: {
    attendance: { category: 'child', label: { da: 'Fremmøde i skolen', en: 'School attendance' } },
    schoolContact: { category: 'contact', label: { da: 'Kontaktlærer', en: 'Contact teacher' } },
  },
});
const CHILD_POLICY = 'sof-reads-school-attendance.policy.yaml';
const childPolicy = (subject: string | undefined, consent = 'consent: { required: false }') =>
  [
    'id: sof-reads-school-attendance',
    'version: 1',
    'example: true',
    "title: Test policy on a child's data",
    `contract: ${CHILD_CONTRACT}`,
    'requester: { administrations: [SOF], roles: [caseworker-system] }',
    'purpose: youth-coordination',
    'legalBasis:',
    '  gdpr: Art. 6(1)(e)',
    '  national: "Barnets lov (test fixture)"',
    '  description: Example for tests.',
    consent,
    ...(subject !== undefined ? [subject] : []),
    'fields: [attendance, schoolContact]',
    'validity: { from: 2024-01-01 }',
    'owner: test owner',
    '',
  ].join('\n');
function withChildExchange(contractSubject: object | undefined, policySubject: string | undefined, consent?: string): void {
  writeFileSync(path.join(schemas, `${CHILD_CONTRACT}.json`), JSON.stringify(childContract(contractSubject), null, 2));
  writeFileSync(path.join(policies, CHILD_POLICY), childPolicy(policySubject, consent));
}

describe("a child's data: a protected category of its own, not Art. 9", () => {
  it('is not a special category: a policy about children releases it without an Art. 9 basis, and only about a child', async () => {
    expect(SPECIAL_CATEGORIES).toEqual(['health']);
    withChildExchange({ age: { max: 17 } }, 'subject: { age: { max: 17 } }');
    expect(problems()).toEqual([]);
    const { contracts, set } = loaded();
    const contract = contracts.get(CHILD_CONTRACT)!;
    expect(catalogueEntry(contract).fields.map((f) => [f.name, f.category, f.special])).toEqual([
      ['attendance', 'child', false],
      ['schoolContact', 'contact', false],
    ]);
    expect(catalogueEntry(contract).subject).toEqual({ age: { max: 17 } });
    const ask = (subjectAge: number) =>
      decide(
        set,
        contracts,
        {
          contract: CHILD_CONTRACT,
          administration: 'SOF',
          roles: ['caseworker-system'],
          purpose: 'youth-coordination',
          requestedFields: ['attendance'],
          at: new Date('2025-06-01T10:00:00Z'),
          subjectAge,
        },
        async () => {
          throw new Error('no consent is asked for');
        },
      );
    expect(await ask(12)).toMatchObject({ decision: 'permit', fields: ['attendance'] });
    expect(await ask(18)).toMatchObject({ decision: 'deny', reasons: ['SUBJECT_OUT_OF_SCOPE'] });
  });

  it('refuses a policy releasing it that is not about children', async () => {
    withChildExchange({ age: { max: 17 } }, undefined);
    expect(problems()).toEqual([
      `${CHILD_POLICY} /subject: ${CHILD_CONTRACT} is about citizens aged 17 or under; a policy on it must say so (subject: { age: { max: 17 } }, or a narrower range), so that it is never used about an adult`,
      `${CHILD_POLICY} /fields/0: "attendance" is child data (specially protected; not GDPR Art. 9): a policy that permits it is about children only, with subject: { age: { max: 17 } } and the national provision on children's data in legalBasis.national; or it must not permit it`,
    ]);
  });

  it('refuses a policy releasing it whose range reaches into adulthood, even with an Art. 9 basis', async () => {
    withChildExchange({ age: { max: 17 } }, 'subject: { age: { max: 18 } }');
    edit(path.join(policies, CHILD_POLICY), '  gdpr: Art. 6(1)(e)', '  gdpr: Art. 6(1)(e)\n  gdprSpecial: Art. 9(2)(g)');
    // Errors come in the order of their lines: the age clause is written above the fields.
    expect(problems()).toEqual([
      expect.stringMatching(
        /^sof-reads-school-attendance\.policy\.yaml \/subject\/age\/max: child\.school-attendance\.v1 is about citizens aged 17 or under/,
      ),
      expect.stringMatching(/^sof-reads-school-attendance\.policy\.yaml \/fields\/0: "attendance" is child data/),
    ]);
  });

  it('refuses it on consent that the recipient could record itself, as for special categories', async () => {
    withChildExchange({ age: { max: 17 } }, 'subject: { age: { max: 17 } }', 'consent: { required: true, categories: [child, contact] }');
    expect(problems()).toEqual([
      `${CHILD_POLICY} /consent/evidence: this policy releases a child's data on consent, so it must not accept "recorded-by-caseworker" (the recipient could record a consent itself); accept citizen-signed and/or recorded-by-other-administration`,
    ]);
  });

  it('refuses a contract carrying it that is not about children only', () => {
    withChildExchange(undefined, 'subject: { age: { max: 17 } }');
    const missing = problems();
    withChildExchange({ age: { min: 18 } }, 'subject: { age: { max: 17 } }');
    const adults = problems();
    withChildExchange({ age: { min: 10, max: 20 } }, 'subject: { age: { max: 17 } }');
    const mixed = problems();
    expect(missing).toEqual([
      `${CHILD_CONTRACT}.json /fields/attendance/category: "attendance" is child data, about the citizen named by cpr; a contract carrying a child's data is about children only: declare "subject": {"age": {"max": 17}} (a parent's data and a child's are contracts of their own)`,
    ]);
    expect(adults).toEqual([
      `${CHILD_CONTRACT}.json /fields/attendance/category: "attendance" is child data, about the citizen named by cpr; this contract is about adults (subject.age.min 18); a contract carrying a child's data is about children only: declare "subject": {"age": {"max": 17}} (a parent's data and a child's are contracts of their own)`,
    ]);
    expect(mixed).toEqual([expect.stringMatching(/\/fields\/attendance\/category: "attendance" is child data/)]);
  });
});

describe('a contract about adults', () => {
  const STATUS_POLICY = () => path.join(policies, 'sof-reads-employment-status.policy.yaml');

  it('every repository contract says whom it is about: adults, the youth effort 18 to 29; none carries a child', () => {
    const contracts = loadContracts(schemas);
    for (const c of contracts.list()) {
      expect({ id: c.id, subject: c.subject }).toEqual({
        id: c.id,
        subject: c.id === 'youth.education-status.v1' ? { age: { min: 18, max: 29 } } : { age: { min: 18 } },
      });
      expect(Object.values(c.fields).map((f) => f.category)).not.toContain('child');
    }
  });

  it('refuses a policy on it without an age clause, or one that reaches below 18', () => {
    edit(STATUS_POLICY(), 'subject:\n  age: { min: 18 }\n', '');
    expect(problems()).toEqual([
      'sof-reads-employment-status.policy.yaml /subject: employment.citizen-status.v1 is about citizens aged 18 or over; a policy on it must say so (subject: { age: { min: 18 } }, or a narrower range), so that it is never used about a child',
    ]);
    edit(STATUS_POLICY(), 'consent:\n  required: false\n', 'consent:\n  required: false\nsubject:\n  age: { min: 16 }\n');
    expect(problems()).toEqual([
      expect.stringMatching(
        /^sof-reads-employment-status\.policy\.yaml \/subject\/age\/min: employment\.citizen-status\.v1 is about citizens aged 18 or over/,
      ),
    ]);
    edit(STATUS_POLICY(), 'age: { min: 16 }', 'age: { max: 66 }');
    expect(problems()).toEqual([expect.stringMatching(/^sof-reads-employment-status\.policy\.yaml \/subject\/age: /)]);
  });

  it('accepts a narrower range', () => {
    edit(STATUS_POLICY(), 'age: { min: 18 }', 'age: { min: 25, max: 66 }');
    expect(problems()).toEqual([]);
  });

  it("binds the youth contract's policies to its 18 to 29", () => {
    edit(path.join(policies, 'bif-reads-youth-education-status.policy.yaml'), 'age: { min: 18, max: 24 }', 'age: { min: 18, max: 30 }');
    expect(problems()).toEqual([
      'bif-reads-youth-education-status.policy.yaml /subject/age/max: youth.education-status.v1 is about citizens aged 18 to 29; a policy on it must say so (subject: { age: { min: 18, max: 29 } }, or a narrower range), so that it is never used about an older citizen',
    ]);
  });

  it('is the contract that binds: without its declaration a policy need not say', () => {
    edit(path.join(schemas, 'employment.citizen-status.v1.json'), '  "subject": { "age": { "min": 18 } },\n', '');
    edit(STATUS_POLICY(), 'subject:\n  age: { min: 18 }\n', '');
    expect(problems()).toEqual([]);
  });

  it('refuses a contract whose age range ends before it starts', () => {
    edit(
      path.join(schemas, 'employment.citizen-status.v1.json'),
      '"subject": { "age": { "min": 18 } }',
      '"subject": { "age": { "min": 18, "max": 17 } }',
    );
    expect(problems()).toEqual(['employment.citizen-status.v1.json /subject/age: the age range ends (max 17) before it starts (min 18)']);
  });
});
