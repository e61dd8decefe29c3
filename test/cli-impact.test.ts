import { randomBytes, randomUUID } from 'node:crypto';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Pseudonymizer } from '../src/audit/pseudonym.js';
import { AuditTrail } from '../src/audit/trail.js';
import { decisionRecords, runImpact } from '../src/cli/commands/impact.js';
import { loadContracts } from '../src/contracts/registry.js';
import { auditEntry } from '../src/audit/entry.js';
import { legalBasisText } from '../src/policy/legal-basis.js';
import { assumedRelations, decide, otherSide, type AssumedRelation } from '../src/policy/evaluate.js';
import { replayDecisions, type ImpactReport, type RecordedDecision } from '../src/policy/impact.js';
import { loadPolicySet } from '../src/policy/loader.js';
import { copenhagenDate } from '../src/policy/dates.js';
import type { ConsentStatus, RelationFact } from '../src/policy/types.js';
import type { Relation, RelationEvent } from '../src/relations/types.js';
import { population } from '../src/simulators/population.js';
import { openStore, type Store } from '../src/store/index.js';
import { captureIO } from './support/cli-io.js';

/**
 * A fixture trail: real decision records, made by the real evaluator under the repository's
 * policies and written through the real AuditTrail into a SQLite store; then a changed policy set
 * is replayed over it.
 */
const ROOT = process.cwd();
const contracts = loadContracts(path.join(ROOT, 'schemas'));
const current = loadPolicySet({ dir: path.join(ROOT, 'policies'), contracts });
const ROLES: Record<string, readonly string[]> = {
  'sof-case-system': ['caseworker-system', 'coordinating-caseworker', 'provider'],
  'bif-jobcentre-system': ['caseworker-system', 'rehabilitation-team', 'coordinating-caseworker', 'provider'],
};
const ADMIN: Record<string, string> = { 'sof-case-system': 'SOF', 'bif-jobcentre-system': 'BIF' };
const pseudonyms = new Pseudonymizer({ keys: [{ id: 'k1', secret: randomBytes(32) }], current: 'k1' });
const citizen = population()[0]!;
/**
 * Need to know: social services and the jobcentre both serve the citizen for the whole period, as
 * the relations register says (the trail's own register, which `snitflade impact` reads).
 */
const SERVED: readonly AssumedRelation[] = [
  { administration: 'SOF', capacity: 'social-case' },
  { administration: 'BIF', capacity: 'cash-benefit' },
];
const SERVED_FROM = '2025-01-01';
/** replayDecisions' `relations` look-up, as `snitflade impact` makes it: the store's register, on the day of the decision. */
const registerOf =
  (store: Store) =>
  async (record: RecordedDecision, administrations: readonly string[]): Promise<readonly RelationFact[]> =>
    record.subject === null ? [] : store.relations.active([record.subject], administrations, copenhagenDate(new Date(record.time)));
/** What a replay says of a policy's age condition: the record holds no age. */
const AGE_ASSUMED =
  "the citizen's age is not in the record: replayed as within each policy's age range (a citizen outside it would be denied, SUBJECT_OUT_OF_SCOPE)";
/** What a replay says of the relations it looked up. */
const REGISTER_ASSUMED =
  "the relations with the citizen are the register's for the day of the decision, as it holds them now, under the record's pseudonym";

interface Asked {
  readonly name: string;
  readonly time: string;
  readonly client: string;
  readonly contract: string;
  readonly purpose: string;
  readonly fields: string[];
  readonly consent?: ConsentStatus;
}

const ASKED: Asked[] = [
  {
    name: 'status-with-sanction-in-force',
    time: '2025-06-02T08:00:00.000Z',
    client: 'sof-case-system',
    contract: 'employment.citizen-status.v1',
    purpose: 'plan-coordination',
    fields: ['targetGroup', 'incomeSupport', 'sanctionInForceSince'],
  },
  {
    name: 'status-income-support',
    time: '2025-06-03T09:00:00.000Z',
    client: 'sof-case-system',
    contract: 'employment.citizen-status.v1',
    purpose: 'plan-coordination',
    fields: ['incomeSupport'],
  },
  {
    name: 'summary',
    time: '2025-06-04T10:00:00.000Z',
    client: 'bif-jobcentre-system',
    contract: 'social.coordination-summary.v1',
    purpose: 'plan-coordination',
    fields: ['openSocialCase', 'socialCaseworkerContact'],
  },
  {
    name: 'summary-wrong-purpose',
    time: '2025-06-05T11:00:00.000Z',
    client: 'bif-jobcentre-system',
    contract: 'social.coordination-summary.v1',
    purpose: 'whole-person-plan',
    fields: ['openSocialCase'],
  },
  {
    name: 'rehab-with-consent',
    time: '2025-06-06T12:00:00.000Z',
    client: 'bif-jobcentre-system',
    contract: 'social.coordination-summary.v1',
    purpose: 'rehabilitation-team-assessment',
    fields: ['healthEfforts'],
    consent: 'active',
  },
  {
    name: 'status-for-hoi',
    time: '2025-06-09T13:00:00.000Z',
    client: 'sof-case-system',
    contract: 'employment.citizen-status.v1',
    purpose: 'whole-person-plan',
    fields: ['incomeSupport', 'targetGroup'],
  },
  {
    name: 'before-the-period',
    time: '2025-01-15T08:00:00.000Z',
    client: 'sof-case-system',
    contract: 'employment.citizen-status.v1',
    purpose: 'plan-coordination',
    fields: ['sanctionInForceSince'],
  },
  {
    name: 'youth',
    time: '2025-06-10T14:00:00.000Z',
    client: 'bif-jobcentre-system',
    contract: 'youth.education-status.v1',
    purpose: 'youth-coordination',
    fields: ['educationStatus'],
  },
];

let dir: string;
let db: string;
let changed: string;
const auditIds: Record<string, string> = {};

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'snitflade-impact-'));
  db = path.join(dir, 'trail.db');
  const store = await openStore({ kind: 'sqlite', file: db });
  let now = new Date(0);
  const trail = await AuditTrail.open(store, { chain: 'gw-impact', now: () => now });
  // The case systems register the relations first: each with its audit record, in one commit, as the gateway writes them.
  now = new Date(`${SERVED_FROM}T09:00:00.000Z`);
  for (const [i, r] of SERVED.entries()) {
    const system = Object.keys(ADMIN).find((s) => ADMIN[s] === r.administration)!;
    const auditId = randomUUID();
    const relation: Relation = {
      id: randomUUID(),
      subject: pseudonyms.pseudonym(citizen.cpr),
      administration: r.administration,
      capacity: r.capacity,
      caseRef: `${r.administration}-IMPACT-${i + 1}`,
      caseworker: null,
      from: SERVED_FROM,
      to: null,
      endReason: null,
      version: 1,
      registeredAt: now.toISOString(),
      updatedAt: now.toISOString(),
    };
    const event: RelationEvent = {
      type: 'registered',
      at: now.toISOString(),
      actor: { system, administration: r.administration, caseworker: 'cw-0001' },
      auditId,
      changed: [],
      reason: null,
    };
    await trail.append(
      auditEntry('relation', {
        auditId,
        requestId: randomUUID(),
        caller: { system, administration: r.administration },
        subject: relation.subject,
        caseworker: 'cw-0001',
        caseRef: 'CASE-1',
        policySet: current.digest,
        reasons: ['RELATION_REGISTERED', `relation=${relation.id}`, `capacity=${relation.capacity}`, `case=${relation.caseRef}`],
        status: 201,
      }),
      { relation: { relation, event, expectedVersion: 0 } },
    );
  }
  for (const a of ASKED) {
    now = new Date(a.time);
    const d = await decide(
      current,
      contracts,
      {
        contract: a.contract,
        administration: ADMIN[a.client]!,
        roles: ROLES[a.client]!,
        purpose: a.purpose,
        requestedFields: a.fields,
        at: now,
        ...otherSide(contracts, a.contract),
        caseworker: 'cw-0001',
        subjectAge: 20, // in the age range of every policy, adult and youth
      },
      async () =>
        a.consent === 'active'
          ? { status: 'active', consentId: 'c-1', receiptDigest: 'receipt-digest-1' }
          : { status: a.consent ?? 'missing' },
      assumedRelations(SERVED),
    );
    const auditId = randomUUID();
    auditIds[a.name] = auditId;
    await trail.append(
      auditEntry('decision', {
        auditId,
        requestId: randomUUID(),
        caller: { system: a.client, administration: ADMIN[a.client]! },
        contract: a.contract,
        purpose: a.purpose,
        subject: pseudonyms.pseudonym(citizen.cpr),
        caseworker: 'cw-0001',
        caseRef: 'CASE-1',
        policySet: current.digest,
        ...(d.policy ? { policy: { id: d.policy.id, version: d.policy.version }, legalBasis: legalBasisText(d.policy) } : {}),
        ...(d.consent?.receiptDigest ? { consent: d.consent.receiptDigest } : {}),
        decision: d.decision,
        reasons: d.decision === 'deny' ? d.reasons : [],
        fields: { requested: a.fields, released: d.decision === 'permit' ? d.fields : [] },
        status: d.decision === 'deny' ? 403 : null,
      }),
    );
  }
  await trail.close();
  await store.close();

  // The changed policy set: one field fewer, one policy ended, one consent newly required, one new policy.
  changed = path.join(dir, 'policies');
  cpSync(path.join(ROOT, 'policies'), changed, { recursive: true });
  const edit = (file: string, from: string, to: string): void => {
    const p = path.join(changed, file);
    const text = readFileSync(p, 'utf8');
    if (!text.includes(from)) throw new Error(`${from} not in ${file}`);
    writeFileSync(p, text.replace(from, to));
  };
  edit(
    'sof-reads-employment-status.policy.yaml',
    'fields: [targetGroup, incomeSupport, jobcentreUnit, caseworkerContact, nextMeetingDate, sanctionInForceSince]',
    'fields: [targetGroup, incomeSupport, jobcentreUnit, caseworkerContact, nextMeetingDate]',
  );
  edit('bif-reads-youth-education-status.policy.yaml', '  to: 2027-12-31', '  to: 2025-05-31');
  edit(
    'bif-reads-social-coordination-summary.policy.yaml',
    'consent:\n  required: false',
    'consent:\n  required: true\n  categories: [social, contact, plan]',
  );
  writeFileSync(
    path.join(changed, 'sof-reads-employment-status-for-hoi.policy.yaml'),
    readFileSync(path.join(ROOT, 'policies', 'sof-reads-employment-status.policy.yaml'), 'utf8')
      .replace('id: sof-reads-employment-status', 'id: sof-reads-employment-status-for-hoi')
      .replace('purpose: plan-coordination', 'purpose: whole-person-plan')
      .replace(
        'fields: [targetGroup, incomeSupport, jobcentreUnit, caseworkerContact, nextMeetingDate, sanctionInForceSince]',
        'fields: [incomeSupport]',
      ),
  );
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

function expectExactlyTheFlips(report: ImpactReport): void {
  expect(report.changes.map((c) => [c.auditId, c.kind])).toEqual([
    [auditIds['status-with-sanction-in-force'], 'fields-changed'],
    [auditIds['summary'], 'permit-to-deny'],
    [auditIds['status-for-hoi'], 'deny-to-permit'],
    [auditIds['youth'], 'permit-to-deny'],
  ]);
  const [fields, consent, hoi, youth] = report.changes;
  expect(fields).toMatchObject({
    before: {
      decision: 'permit',
      policy: { id: 'sof-reads-employment-status', version: 4 },
      fields: ['targetGroup', 'incomeSupport', 'sanctionInForceSince'],
    },
    after: { decision: 'permit', policy: { id: 'sof-reads-employment-status', version: 4 }, fields: ['targetGroup', 'incomeSupport'] },
    fieldsAdded: [],
    fieldsRemoved: ['sanctionInForceSince'],
    assumptions: [REGISTER_ASSUMED, AGE_ASSUMED],
  });
  expect(consent).toMatchObject({
    after: { decision: 'deny', reasons: ['CONSENT_MISSING'] },
    fieldsRemoved: ['openSocialCase', 'socialCaseworkerContact'],
  });
  // Consent is decided before need to know: the replay did not need the relations.
  expect(consent!.assumptions).toEqual(['the citizen\'s consent at the time is not in the record: replayed as "missing"', AGE_ASSUMED]);
  expect(hoi).toMatchObject({
    before: { decision: 'deny', reasons: ['PURPOSE_NOT_ALLOWED'] },
    after: { decision: 'permit', policy: { id: 'sof-reads-employment-status-for-hoi' }, fields: ['incomeSupport'] },
    fieldsAdded: ['incomeSupport'],
  });
  expect(youth).toMatchObject({ after: { decision: 'deny', reasons: ['POLICY_NOT_IN_FORCE'] }, fieldsRemoved: ['educationStatus'] });
  expect(report.summary).toEqual({ 'permit-to-deny': 2, 'deny-to-permit': 1, 'fields-changed': 1, 'policy-changed': 0 });
}

describe('impact: replaying the audit trail against a changed policy set', () => {
  it('replaying the policies in force changes nothing', async () => {
    const store = await openStore({ kind: 'sqlite', file: db });
    try {
      const report = await replayDecisions({
        records: decisionRecords(store.audit, {}),
        policies: current,
        contracts,
        rolesOf: (s) => ROLES[s],
        relations: registerOf(store),
      });
      expect(report.replayed).toBe(ASKED.length);
      expect(report.changes).toEqual([]);
      expect(report.recordedUnder).toEqual({ [current.digest]: ASKED.length });
    } finally {
      await store.close();
    }
  });

  it('lists exactly the decisions of the period that flip, and not those outside it', async () => {
    const store = await openStore({ kind: 'sqlite', file: db });
    try {
      const next = loadPolicySet({ dir: changed, contracts });
      const report = await replayDecisions({
        records: decisionRecords(store.audit, { from: '2025-06-01T00:00:00.000Z', to: '2025-07-01T00:00:00.000Z' }),
        policies: next,
        contracts,
        rolesOf: (s) => ROLES[s],
        relations: registerOf(store),
      });
      expect(report.replayed).toBe(ASKED.length - 1);
      expect(report.unchanged).toBe(3);
      expectExactlyTheFlips(report);
    } finally {
      await store.close();
    }
  });

  it('skips callers that are no longer registered, and says so', async () => {
    const store = await openStore({ kind: 'sqlite', file: db });
    try {
      const report = await replayDecisions({
        records: decisionRecords(store.audit, {}),
        policies: current,
        contracts,
        rolesOf: (s) => (s === 'sof-case-system' ? ROLES[s] : undefined),
        relations: registerOf(store),
      });
      expect(report.skipped).toEqual({ 'caller system no longer registered': 4 });
      expect(report.replayed).toBe(4);
    } finally {
      await store.close();
    }
  });

  it('snitflade impact prints the same flips from the SQLite trail (Copenhagen dates as the period)', async () => {
    const io = captureIO();
    const code = await runImpact({ policies: changed, db, from: '2025-06-01', to: '2025-06-30', json: true }, io);
    expect(io.err()).toBe('');
    expect(code).toBe(0);
    const report = JSON.parse(io.out()) as ImpactReport & { period: { from: string; to: string } };
    expect(report.period).toEqual({ from: '2025-05-31T22:00:00.000Z', to: '2025-06-30T22:00:00.000Z' });
    expectExactlyTheFlips(report);

    const text = captureIO();
    expect(await runImpact({ policies: changed, db, from: '2025-06-01', to: '2025-06-30', failOnChange: true }, text)).toBe(1);
    expect(text.out()).toContain('replayed 7 decision(s): 4 would now be decided differently, 3 the same');
    expect(text.out()).toContain(`deny → permit  2025-06-09T13:00:00.000Z  audit ${auditIds['status-for-hoi']}`);
    expect(text.out()).toContain(
      '    was deny (PURPOSE_NOT_ALLOWED)\n    now permit (sof-reads-employment-status-for-hoi v4) [incomeSupport]\n    fields added: incomeSupport',
    );
    expect(text.out()).toContain('    fields removed: sanctionInForceSince');
  });

  it('refuses a store that does not exist instead of creating one', async () => {
    const io = captureIO();
    expect(await runImpact({ policies: changed, db: path.join(dir, 'no-such.db') }, io)).toBe(2);
    expect(io.err()).toContain('no audit store at');
  });
});
