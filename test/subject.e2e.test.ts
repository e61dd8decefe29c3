/**
 * Subject conditions, end to end over mutual TLS: a policy with `subject: { age: { min: 18 } }`
 * refuses a query about a 17-year-old (POLICY_DENIED, SUBJECT_OUT_OF_SCOPE), audits the refusal
 * with that reason, and forwards nothing to the provider; an adult is served.
 */
import { jest } from '@jest/globals';
import type { AuditRecord } from '../src/audit/types.js';
import { subjectAge } from '../src/exchange/subject.js';
import { copenhagenDate } from '../src/policy/dates.js';
import { population } from '../src/simulators/population.js';
import { postAs } from './support/calls.js';
import { startTestEnv, type TestEnv } from './support/env.js';

jest.setTimeout(60_000);

const JOB_PLAN = '/v1/queries/employment.job-plan-summary.v1';

/** A synthetic CPR number (serial 99NN) of someone whose 18th birthday is tomorrow, in Copenhagen. */
function seventeenYearOld(): string {
  const [y, m, d] = copenhagenDate(new Date()).split('-').map(Number) as [number, number, number];
  const born = new Date(Date.UTC(y - 18, m - 1, d + 1));
  const two = (n: number) => String(n).padStart(2, '0');
  return `${two(born.getUTCDate())}${two(born.getUTCMonth() + 1)}${two(born.getUTCFullYear() % 100)}9917`;
}

const adult = population().find((c) => c.employment !== null && (subjectAge(c.cpr, new Date()) ?? 0) >= 18)!;

let env: TestEnv;
beforeAll(async () => {
  env = await startTestEnv({ name: 'subject-e2e' });
});
afterAll(async () => {
  await env?.close();
});

const ask = (cpr: string) => postAs(env.url, 'sof-case-system', JOB_PLAN, { cpr, fields: ['jobPlan'] }, { purpose: 'plan-coordination' });

async function decisionRecord(auditId: string): Promise<AuditRecord> {
  const found = (await env.gateway.store.audit.search({ auditId, kind: 'decision', limit: 10 })).records;
  expect(found).toHaveLength(1);
  return found[0]!;
}

it('refuses a query about a 17-year-old on an adult contract (SUBJECT_OUT_OF_SCOPE), audited, nothing forwarded', async () => {
  const cpr = seventeenYearOld();
  expect(subjectAge(cpr, new Date())).toBe(17);
  const bif = env.simulators['bif-jobcentre-system']!;
  const forwarded = bif.requests;
  const res = await ask(cpr);
  expect(res.status).toBe(403);
  expect(res.body).toMatchObject({ code: 'POLICY_DENIED', reasons: ['SUBJECT_OUT_OF_SCOPE'] });
  expect(bif.requests).toBe(forwarded);
  const record = await decisionRecord((res.body as { auditId: string }).auditId);
  expect(record).toMatchObject({ decision: 'deny', reasons: ['SUBJECT_OUT_OF_SCOPE'], policy: { id: 'sof-reads-job-plan-summary' } });
  expect(JSON.stringify(record)).not.toContain(cpr);
  expect(JSON.stringify(res.body)).not.toContain(cpr);
});

it('serves the same query about an adult', async () => {
  const bif = env.simulators['bif-jobcentre-system']!;
  const forwarded = bif.requests;
  const res = await ask(adult.cpr);
  expect(res.status).toBe(200);
  expect(res.body.disclosure.policy).toEqual({ id: 'sof-reads-job-plan-summary', version: 3 });
  expect(bif.requests).toBe(forwarded + 1);
});
