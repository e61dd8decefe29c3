import { readdirSync } from 'node:fs';
import path from 'node:path';
import { jest } from '@jest/globals';
import request from 'supertest';
import type { ConsentQuery, ConsentSource } from '../src/consent/types.js';
import { loadContracts } from '../src/contracts/registry.js';
import { rehabilitationInfo } from '../src/simulators/health.js';
import {
  actionPlanSummary,
  employmentOverview,
  jobPlanSummary,
  progressionAssessment,
  socialOverview,
  wholePersonPlan,
} from '../src/simulators/plans.js';
import { population } from '../src/simulators/population.js';
import { citizenStatus, coordinationSummary } from '../src/simulators/status.js';
import { SIMULATED_CONTRACTS } from '../src/simulators/contracts.js';
import { educationStatus } from '../src/simulators/youth.js';
import { subjectAge } from '../src/exchange/subject.js';
import { loadPolicyCases } from '../src/policy/testing.js';
import { postAs } from './support/calls.js';
import { startTestEnv, tls, type TestEnv } from './support/env.js';
import { COORDINATED, SERVED_BY_BOTH, withRelations } from './support/relations.js';

jest.setTimeout(60_000);

/**
 * The exchanges added for plan coordination, the coordinating caseworker, the rehabilitation
 * team, the shared progression assessment, the whole-person plan and the coordinated youth
 * effort, end to end: real gateway, real simulated BIF, SOF, SUF and BUF systems, mutual TLS.
 */

const ROOT = process.cwd();
const contracts = loadContracts(path.join(ROOT, 'schemas'));
const citizens = population();
const shared = citizens.find(
  (c) =>
    c.group === 'shared' && c.employment && c.social && jobPlanSummary(c, c.employment).jobPlan.exists && c.social.supportContact !== null,
)!;
const withPlan = citizens.find((c) => wholePersonPlan(c).plan.exists && wholePersonPlan(c).goalAreas.length > 1)!;
const atSuf = citizens.find((c) => rehabilitationInfo(c)?.extras.journalNote !== undefined)!;
// The youth policies cover 18 to 24 (the act for under-25s they cite); the youth system knows 18 to 29.
const inYouthRange = (c: { cpr: string }) => (subjectAge(c.cpr, new Date()) ?? 0) <= 24;
const young = citizens.find((c) => educationStatus(c)?.educationStatus === 'in-education' && inYouthRange(c))!;
const youthOver24 = citizens.find((c) => educationStatus(c) !== undefined && !inYouthRange(c))!;
// A shared citizen with both kinds of effort: housing or shelter, and a treatment or support that reveals health.
const bothEfforts = citizens.find((c) => {
  if (c.group !== 'shared' || !c.social) return false;
  const { socialEfforts, healthEfforts } = coordinationSummary(c, c.social);
  return socialEfforts.length > 0 && healthEfforts.some((e) => e.kind === 'addiction-treatment');
})!;
// A shared citizen whom the jobcentre has sanctioned, with the sanction still in force.
const sanctioned = citizens.find(
  (c) => c.group === 'shared' && c.employment !== null && citizenStatus(c.employment).sanctionInForceSince !== null,
)!;
const assessed = citizens.find(
  (c) =>
    progressionAssessment(c, 'jobcentre').latestAssessment !== null &&
    progressionAssessment(c, 'social-services').latestAssessment !== null,
)!;

/** Consent, as a consent source answers it: active only for the citizens (and purposes) listed. */
const consenting = new Map<string, string>();
const consentSource: ConsentSource = {
  async check(q: ConsentQuery) {
    return consenting.get(q.cpr) === q.purpose
      ? { status: 'active', consentId: 'consent-e2e', receiptDigest: 'receipt-digest-e2e' }
      : { status: 'missing' };
  },
};

let env: TestEnv;
beforeAll(async () => {
  env = await startTestEnv({ name: 'exchanges-e2e', gatewayOptions: { consent: consentSource } });
  // Need to know: the shared citizen has a coordinating caseworker in each administration, the
  // one the tokens name, as the coordinating caseworker's overview policies require.
  await withRelations(env, shared.cpr, COORDINATED);
  await withRelations(env, bothEfforts.cpr, SERVED_BY_BOTH);
  await withRelations(env, sanctioned.cpr, SERVED_BY_BOTH);
});
afterAll(async () => {
  await env?.close();
});

const ask = (client: string, contract: string, purpose: string, cpr: string, fields: readonly string[]) =>
  postAs(env.url, client, `/v1/queries/${contract}`, { cpr, fields }, { purpose });

const all = (id: string): readonly string[] => contracts.get(id)!.fieldNames;
const pick = (record: object, fields: readonly string[]): Record<string, unknown> =>
  Object.fromEntries(fields.map((f) => [f, (record as Record<string, unknown>)[f]]));

describe('plan coordination both ways', () => {
  it('social services read the job plan summary from the jobcentre system', async () => {
    const res = await ask(
      'sof-case-system',
      'employment.job-plan-summary.v1',
      'plan-coordination',
      shared.cpr,
      all('employment.job-plan-summary.v1'),
    );
    expect(res.status).toBe(200);
    // The job goal can reveal health (a flex job): social services get its area instead.
    const released = all('employment.job-plan-summary.v1').filter((f) => f !== 'jobGoal');
    expect(res.body.data).toEqual(pick(jobPlanSummary(shared, shared.employment!), released));
    expect(res.body.disclosure).toMatchObject({
      policy: { id: 'sof-reads-job-plan-summary', version: 3 },
      purpose: 'plan-coordination',
      withheld: ['jobGoal'],
    });
  });

  it('the jobcentre reads the social action plan summary from the social services system', async () => {
    const res = await ask(
      'bif-jobcentre-system',
      'social.action-plan-summary.v1',
      'plan-coordination',
      shared.cpr,
      all('social.action-plan-summary.v1'),
    );
    expect(res.status).toBe(200);
    expect(res.body.data).toEqual(pick(actionPlanSummary(shared, shared.social!), all('social.action-plan-summary.v1')));
    expect(res.body.disclosure.policy.id).toBe('bif-reads-action-plan-summary');
  });
});

describe('the efforts, split: social efforts flow for plan coordination, efforts that reveal health only on consent', () => {
  const SUMMARY = 'social.coordination-summary.v1';
  const efforts = ['efforts', 'socialEfforts', 'healthEfforts'];

  it('the jobcentre coordinating plans gets the social efforts with their periods; the health efforts and the undated list are withheld', async () => {
    consenting.delete(bothEfforts.cpr);
    const res = await ask('bif-jobcentre-system', SUMMARY, 'plan-coordination', bothEfforts.cpr, efforts);
    expect(res.status).toBe(200);
    expect(res.body.disclosure).toMatchObject({
      policy: { id: 'bif-reads-social-coordination-summary', version: 4 },
      released: ['socialEfforts'],
      withheld: ['efforts', 'healthEfforts'],
    });
    const expected = coordinationSummary(bothEfforts, bothEfforts.social!);
    expect(res.body.data).toEqual({ socialEfforts: expected.socialEfforts });
    for (const e of res.body.data.socialEfforts as { kind: string; from: string; to: string | null }[]) {
      expect(['shelter', 'housing-support', 'mentor']).toContain(e.kind);
      expect(e.from).toMatch(/^\d{4}-\d{2}-\d{2}$/);
      expect(e.to === null || e.to >= e.from).toBe(true);
    }
    // Nothing that reveals health reached the jobcentre, not even as a word in another field.
    expect(JSON.stringify(res.body.data)).not.toMatch(/addiction|mental-health|disability|support-contact/);
  });

  it("the rehabilitation team gets both, each effort with its period, on the citizen's consent", async () => {
    consenting.set(bothEfforts.cpr, 'rehabilitation-team-assessment');
    const res = await ask('bif-jobcentre-system', SUMMARY, 'rehabilitation-team-assessment', bothEfforts.cpr, efforts);
    expect(res.status).toBe(200);
    expect(res.body.disclosure).toMatchObject({
      policy: { id: 'bif-rehab-team-reads-social-efforts', version: 4 },
      released: ['socialEfforts', 'healthEfforts'],
      withheld: ['efforts'],
    });
    const expected = coordinationSummary(bothEfforts, bothEfforts.social!);
    expect(res.body.data).toEqual({ socialEfforts: expected.socialEfforts, healthEfforts: expected.healthEfforts });
    // The treatment's period, to time a job activity with it.
    const treatment = (res.body.data.healthEfforts as { kind: string; from: string }[]).find((e) => e.kind === 'addiction-treatment');
    expect(treatment?.from).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    consenting.delete(bothEfforts.cpr);
  });
});

describe('a sanction, for plan coordination: in force since when, not its history and amounts', () => {
  it('social services coordinating plans learn that a sanction is in force and since when; the sanctions with their amounts are withheld', async () => {
    const status = 'employment.citizen-status.v1';
    const res = await ask('sof-case-system', status, 'plan-coordination', sanctioned.cpr, ['sanctions', 'sanctionInForceSince']);
    expect(res.status).toBe(200);
    expect(res.body.disclosure).toMatchObject({
      policy: { id: 'sof-reads-employment-status', version: 4 },
      released: ['sanctionInForceSince'],
      withheld: ['sanctions'],
    });
    const since = citizenStatus(sanctioned.employment!).sanctionInForceSince!;
    expect(res.body.data).toEqual({ sanctionInForceSince: since });
    expect(sanctioned.employment!.sanctions.map((x) => x.date)).toContain(since);
    // No amount, no kind of sanction, no other sanction's date reached social services.
    const text = JSON.stringify(res.body);
    expect(text).not.toMatch(/amount|reduction|periodic|"stop"/i);
    for (const x of sanctioned.employment!.sanctions) expect(text).not.toContain(String(x.amountDkk));
  });

  it('asking only for the sanctions with their amounts, for plan coordination, is refused', async () => {
    const res = await ask('sof-case-system', 'employment.citizen-status.v1', 'plan-coordination', sanctioned.cpr, ['sanctions']);
    expect(res.status).toBe(403);
    expect(res.body).toMatchObject({ code: 'POLICY_DENIED', reasons: ['NO_FIELDS_PERMITTED'] });
  });
});

describe("the coordinating caseworker's overview", () => {
  it("a coordinating caseworker in social services reads the jobcentre's part", async () => {
    const res = await ask(
      'sof-case-system',
      'employment.coordination-overview.v1',
      'coordinating-caseworker',
      shared.cpr,
      all('employment.coordination-overview.v1'),
    );
    expect(res.status).toBe(200);
    // The benefit's kind and the meetings' kinds can reveal health: withheld, beside who pays and the dates.
    const revealing = ['benefit', 'upcomingMeetings'];
    const released = all('employment.coordination-overview.v1').filter((f) => !revealing.includes(f));
    expect(res.body.data).toEqual(pick(employmentOverview(shared, shared.employment!), released));
    expect(res.body.disclosure.withheld).toEqual(revealing);
  });

  it("a coordinating caseworker at the jobcentre reads social services' part with the social efforts, not what reveals health", async () => {
    const res = await ask(
      'bif-jobcentre-system',
      'social.coordination-overview.v1',
      'coordinating-caseworker',
      shared.cpr,
      all('social.coordination-overview.v1'),
    );
    expect(res.status).toBe(200);
    // The support contact person and the efforts that reveal health are health data; the rest flows.
    const revealing = ['supportContact', 'efforts', 'healthEfforts'];
    const expected = pick(
      socialOverview(shared, shared.social!),
      all('social.coordination-overview.v1').filter((f) => !revealing.includes(f)),
    );
    expect(res.body.data).toEqual(expected);
    expect(res.body.disclosure.withheld).toEqual(revealing);
  });

  it('the overview is refused for plan coordination (purpose limitation)', async () => {
    const res = await ask('sof-case-system', 'employment.coordination-overview.v1', 'plan-coordination', shared.cpr, ['incomeSupport']);
    expect(res.status).toBe(403);
    expect(res.body).toMatchObject({ code: 'POLICY_DENIED', reasons: ['PURPOSE_NOT_ALLOWED'] });
  });
});

describe('the shared progression assessment both ways', () => {
  it("social services read the jobcentre's assessment and the jobcentre reads social services'", async () => {
    const fromBif = await ask(
      'sof-case-system',
      'employment.progression-assessment.v1',
      'progression-assessment',
      assessed.cpr,
      all('employment.progression-assessment.v1'),
    );
    expect(fromBif.status).toBe(200);
    expect(fromBif.body.data).toEqual(pick(progressionAssessment(assessed, 'jobcentre'), all('employment.progression-assessment.v1')));
    const fromSof = await ask('bif-jobcentre-system', 'social.progression-assessment.v1', 'progression-assessment', assessed.cpr, [
      'latestAssessment',
      'referral',
    ]);
    expect(fromSof.status).toBe(200);
    expect(fromSof.body.data).toEqual(pick(progressionAssessment(assessed, 'social-services'), ['latestAssessment', 'referral']));
  });
});

describe('the whole-person plan (HOI)', () => {
  const fields = all('social.whole-person-plan.v1');

  it("without the citizen's consent the jobcentre gets the outline only", async () => {
    consenting.delete(withPlan.cpr);
    const res = await ask('bif-jobcentre-system', 'social.whole-person-plan.v1', 'whole-person-plan', withPlan.cpr, fields);
    expect(res.status).toBe(200);
    expect(res.body.disclosure).toMatchObject({
      policy: { id: 'bif-reads-whole-person-plan' },
      released: ['plan', 'coordinatingCaseworker', 'nextCoordinationMeeting'],
      withheld: ['goalAreas', 'participants'],
    });
    expect(res.body.data).toEqual(pick(wholePersonPlan(withPlan), ['plan', 'coordinatingCaseworker', 'nextCoordinationMeeting']));
  });

  it('with it the coordinating caseworker gets the whole plan under an Art. 9(2)(b) basis, and the audit record cites the consent', async () => {
    consenting.set(withPlan.cpr, 'whole-person-plan');
    const res = await ask('bif-jobcentre-system', 'social.whole-person-plan.v1', 'whole-person-plan', withPlan.cpr, fields);
    expect(res.status).toBe(200);
    expect(res.body.disclosure.policy.id).toBe('bif-coordinator-reads-whole-person-plan');
    expect(res.body.disclosure.legalBasis).toContain('Art. 9(2)(b)');
    expect(res.body.data).toEqual(pick(wholePersonPlan(withPlan), fields));
    const { records } = await env.gateway.store.audit.search({ auditId: res.body.disclosure.auditId, limit: 10 });
    expect(records.map((r) => r.consent)).toEqual(['receipt-digest-e2e', 'receipt-digest-e2e']);
  });
});

describe('the rehabilitation team and the Health and Care Administration (SUF)', () => {
  const fields = all('health.rehabilitation-info.v1');

  it("refuses health information without the citizen's consent", async () => {
    consenting.delete(atSuf.cpr);
    const res = await ask('bif-jobcentre-system', 'health.rehabilitation-info.v1', 'rehabilitation-team-assessment', atSuf.cpr, fields);
    expect(res.status).toBe(403);
    expect(res.body.reasons).toEqual(['CONSENT_NOT_IN_FORCE']);
  });

  it('releases it with consent from the simulated SUF system, dropping what the contract does not name', async () => {
    consenting.set(atSuf.cpr, 'rehabilitation-team-assessment');
    const res = await ask('bif-jobcentre-system', 'health.rehabilitation-info.v1', 'rehabilitation-team-assessment', atSuf.cpr, fields);
    expect(res.status).toBe(200);
    expect(res.body.data).toEqual(pick(rehabilitationInfo(atSuf)!.record, fields));
    expect(res.body.data).not.toHaveProperty('journalNote');
    const { records } = await env.gateway.store.audit.search({ auditId: res.body.disclosure.auditId, kind: 'release', limit: 10 });
    expect(records[0]!.fields.dropped).toEqual(['journalNote']);
  });

  it('social services may not ask for it at all', async () => {
    const res = await ask('sof-case-system', 'health.rehabilitation-info.v1', 'rehabilitation-team-assessment', atSuf.cpr, fields);
    expect(res.status).toBe(403);
    expect(res.body.reasons).toEqual(['NO_POLICY']);
  });
});

describe('the coordinated youth effort (KUI) with the Children and Youth Administration (BUF)', () => {
  const fields = all('youth.education-status.v1');

  it("the jobcentre reads the young person's education status from the simulated BUF system", async () => {
    const res = await ask('bif-jobcentre-system', 'youth.education-status.v1', 'youth-coordination', young.cpr, fields);
    expect(res.status).toBe(200);
    expect(res.body.data).toEqual(pick(educationStatus(young)!, fields));
  });

  it('social services get whether the young person is in education, not which education', async () => {
    const res = await ask('sof-case-system', 'youth.education-status.v1', 'youth-coordination', young.cpr, fields);
    expect(res.status).toBe(200);
    expect(Object.keys(res.body.data).sort()).toEqual(['educationStatus', 'kuiCoordination', 'youthGuidanceContact']);
    expect(res.body.disclosure.withheld).toEqual(['currentEducation']);
  });

  it('a citizen of 25 or over, whom the youth system knows, is outside the policies: refused without asking it', async () => {
    const asked = env.simulators['buf-youth-system']!.requests;
    const res = await ask('bif-jobcentre-system', 'youth.education-status.v1', 'youth-coordination', youthOver24.cpr, ['educationStatus']);
    expect(res.status).toBe(403);
    expect(res.body).toMatchObject({ code: 'POLICY_DENIED', reasons: ['SUBJECT_OUT_OF_SCOPE'] });
    expect(env.simulators['buf-youth-system']!.requests).toBe(asked);
  });

  it('the youth system itself may not query through the gateway', async () => {
    const res = await ask('buf-youth-system', 'youth.education-status.v1', 'youth-coordination', young.cpr, ['educationStatus']);
    expect(res.status).toBe(403);
    expect(res.body.reasons).toEqual(['NO_POLICY']);
  });
});

describe('every contract', () => {
  const files = readdirSync(path.join(ROOT, 'schemas'))
    .filter((f) => f.endsWith('.json'))
    .map((f) => f.replace(/\.json$/, ''));

  it('there are at least ten, and each is in GET /v1/contracts and /openapi.json', async () => {
    expect(files.length).toBeGreaterThanOrEqual(10);
    const creds = tls('sof-case-system');
    const list = await request(env.url).get('/v1/contracts').ca(creds.ca).cert(creds.cert).key(creds.key);
    expect(list.status).toBe(200);
    expect((list.body.contracts as { id: string }[]).map((c) => c.id).sort()).toEqual([...files].sort());
    const doc = await request(env.url).get('/openapi.json').ca(creds.ca).cert(creds.cert).key(creds.key);
    expect(doc.status).toBe(200);
    for (const c of contracts.list())
      expect(Object.keys(doc.body.paths)).toContain(`/v1/${c.kind === 'query' ? 'queries' : 'notifications'}/${c.id}`);
  });

  it('has at least one permitted and one denied policy test case', () => {
    const cases = loadPolicyCases(path.join(ROOT, 'policies'));
    for (const id of files) {
      const about = cases.filter((c) => c.request.contract === id);
      expect({ id, permit: about.some((c) => c.expect.decision === 'permit') }).toEqual({ id, permit: true });
      expect({ id, deny: about.some((c) => c.expect.decision === 'deny') }).toEqual({ id, deny: true });
    }
  });

  it("every query contract is served by its provider's simulated system, with records valid for the whole population", () => {
    for (const c of contracts.list().filter((x) => x.kind === 'query')) {
      const sim = SIMULATED_CONTRACTS[c.provider.system]?.[c.id];
      expect({ id: c.id, simulated: sim !== undefined }).toEqual({ id: c.id, simulated: true });
      expect([...sim!.fields].sort()).toEqual([...c.fieldNames].sort());
      let found = 0;
      for (const citizen of citizens) {
        const r = sim!.lookup(citizen.cpr);
        if (!r) continue;
        found++;
        if (!c.validateResponse(r.record)) throw new Error(`${c.id}: an invalid record: ${JSON.stringify(c.validateResponse.errors)}`);
      }
      expect(found).toBeGreaterThan(100);
    }
  });

  it('every decision record carries the digest of the policy set in force', async () => {
    const { records } = await env.gateway.store.audit.search({ kind: 'decision', limit: 500 });
    expect(records.length).toBeGreaterThan(10);
    expect(new Set(records.map((r) => r.policySet))).toEqual(new Set([env.gateway.rules().policies.digest]));
  });
});
