/**
 * No leaks: after a mixed workload (releases, refusals of every kind, provider faults, a locked
 * store), none of the CPR numbers, tokens or released data values of that workload appears in
 * the operational log, the metrics, an error response or the audit trail; error responses
 * never carry a stack trace. (test/global-teardown.js holds every log file of the whole suite,
 * and the error responses and metrics pages collected here and in the other hardening tests, to
 * the same rules once all tests have run.)
 */
import { jest } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { population } from '../../src/simulators/population.js';
import { startTestEnv, type TestEnv } from '../support/env.js';
import { SERVED_BY_BOTH, withRelations } from '../support/relations.js';
import { mayHoldCpr } from '../../src/lib/cpr.js';
import { STACK_TRACE, clientCreds, evidence, send, tokenWith, type Answer } from './support.js';

jest.setTimeout(60_000);

const STATUS = '/v1/queries/employment.citizen-status.v1';
const SUMMARY = '/v1/queries/social.coordination-summary.v1';
const citizens = population()
  .filter((c) => c.employment && c.social)
  .slice(0, 25);

/** Every text inside a released value (names, phones, mail addresses, dates, units...). Numbers are too short to tell apart from ids. */
function leaves(value: unknown, out: string[] = []): string[] {
  if (typeof value === 'string' && value.length >= 6) out.push(value);
  else if (Array.isArray(value)) value.forEach((v) => leaves(v, out));
  else if (value !== null && typeof value === 'object') Object.values(value).forEach((v) => leaves(v, out));
  return out;
}

describe('leaks', () => {
  let env: TestEnv;
  const cprs = new Set<string>();
  const tokens = new Set<string>();
  const values = new Set<string>();
  const problems: Answer[] = [];

  async function post(client: string, urlPath: string, body: string, change: Parameters<typeof tokenWith>[3] = {}): Promise<Answer> {
    const token = tokenWith(client, urlPath, body, change);
    tokens.add(token);
    const res = await send(env.url, {
      path: urlPath,
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, 'x-request-id': `leak-test-${tokens.size}` },
      body,
      creds: clientCreds(client),
    });
    if (res.status >= 400) problems.push(res);
    return res;
  }

  beforeAll(async () => {
    env = await startTestEnv({ name: 'hardening-leaks', overrides: { upstream: { timeoutMs: 500, maxResponseBytes: 65_536 } } });
    const bif = env.simulators['bif-jobcentre-system']!;
    for (const [i, c] of citizens.entries()) {
      cprs.add(c.cpr);
      await withRelations(env, c.cpr, SERVED_BY_BOTH); // need to know: both administrations serve the citizen
      const body = JSON.stringify({
        cpr: c.cpr,
        fields: ['targetGroup', 'incomeSupport', 'jobcentreUnit', 'caseworkerContact', 'nextMeetingDate', 'sanctionInForceSince'],
      });
      const res = await post('sof-case-system', STATUS, body);
      if (res.status === 200) for (const v of leaves(res.json.data)) values.add(v);
      const social = await post(
        'bif-jobcentre-system',
        SUMMARY,
        JSON.stringify({ cpr: c.cpr, fields: ['openSocialCase', 'socialCaseworkerContact', 'actionPlan', 'socialEfforts'] }),
      );
      if (social.status === 200) for (const v of leaves(social.json.data)) values.add(v);
      // Refusals of many kinds, each carrying the citizen's CPR number somewhere in the request.
      await post('sof-case-system', STATUS, body, { claims: { purpose: 'curiosity' } });
      await post('sof-case-system', STATUS, JSON.stringify({ cpr: c.cpr, fields: ['targetGroup'], extra: c.cpr }));
      await post('sof-case-system', STATUS, `{"cpr":"${c.cpr}","cpr":"${c.cpr}"}`);
      await post('sof-case-system', STATUS, body, { claims: { sub: c.cpr } });
      await post('sof-case-system', SUMMARY, JSON.stringify({ cpr: c.cpr, fields: ['efforts'] }));
      await post('sof-case-system', `/v1/queries/${c.cpr}`, body);
      if (i % 10 === 0) {
        bif.setFault(i % 20 === 0 ? { kind: 'garbage' } : { kind: 'schema-break' });
        await post('sof-case-system', STATUS, JSON.stringify({ cpr: c.cpr, fields: ['caseworkerContact'] }));
        bif.setFault({ kind: 'delay', ms: 1000 });
        await post('sof-case-system', STATUS, JSON.stringify({ cpr: c.cpr, fields: ['targetGroup'] }));
        bif.setFault(null);
      }
    }
  });
  afterAll(async () => {
    await env?.close();
  });

  it('ran a workload with released data values and refusals to look for', () => {
    expect(values.size).toBeGreaterThan(50);
    expect(problems.length).toBeGreaterThan(120);
    expect(new Set(problems.map((p) => p.json?.code)).size).toBeGreaterThan(6);
  });

  it('error responses hold no CPR number, token, data value or stack trace', () => {
    const leaked: string[] = [];
    for (const p of problems) {
      evidence('leaks', 'error-response', p.text);
      expect(String(p.headers['content-type'])).toMatch(/^application\/problem\+json/);
      if (mayHoldCpr(p.text) || STACK_TRACE.test(p.text) || /eyJ[A-Za-z0-9_-]{5,}\./.test(p.text)) leaked.push(p.text);
      for (const v of values) if (p.text.includes(v)) leaked.push(`${v} in ${p.text}`);
    }
    expect(leaked).toEqual([]);
  });

  it('metrics hold no CPR number, token or data value', async () => {
    const metrics = (await send(env.url, { method: 'GET', path: '/metrics', creds: clientCreds('sof-case-system') })).text;
    evidence('leaks', 'metrics', metrics);
    expect(metrics).toContain('snitflade_requests_total');
    for (const cpr of cprs) expect(metrics).not.toContain(cpr);
    for (const t of tokens) expect(metrics).not.toContain(t.split('.')[2]!);
    const labels = [...metrics.matchAll(/\{([^}]*)\}/g)].map((m) => m[1]!).join('\n');
    for (const v of values) expect(labels).not.toContain(v);
  });

  it('the operational log holds no CPR number, token or data value', async () => {
    await new Promise((resolve) => setTimeout(resolve, 200)); // let the file transport write
    const log = readFileSync(env.logFile, 'utf8');
    expect(log.split('\n').length).toBeGreaterThan(150);
    const found = [...cprs, ...[...tokens].flatMap((t) => t.split('.').slice(1)), ...values].filter((s) => log.includes(s));
    expect(found).toEqual([]);
  });

  it('the audit trail holds no CPR number and no data value', async () => {
    const all: unknown[] = [];
    let after: string | undefined;
    do {
      const page = await env.gateway.store.audit.search({ limit: 500, ...(after ? { after } : {}) });
      all.push(...page.records);
      after = page.next;
    } while (after);
    expect(all.length).toBeGreaterThan(150);
    const text = JSON.stringify(all);
    expect([...cprs].filter((c) => text.includes(c))).toEqual([]);
    expect([...values].filter((v) => text.includes(`"${v}"`))).toEqual([]);
  });
});
