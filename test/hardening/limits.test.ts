/**
 * Per-client limits: a token bucket (rate and burst) and a cap on requests in progress. Over a
 * limit the caller gets 429 RATE_LIMITED with Retry-After, the refusal is audited, nothing is
 * forwarded, and other clients are not affected.
 */
import { subjectAge } from '../../src/exchange/subject.js';
import { jest } from '@jest/globals';
import { population } from '../../src/simulators/population.js';
import { verifyTrail } from '../../src/audit/verify-trail.js';
import { ClientLimiter } from '../../src/server/limits.js';
import { educationStatus } from '../../src/simulators/youth.js';
import { ProviderSlots } from '../../src/upstream/provider-slots.js';
import { startTestEnv, type TestEnv } from '../support/env.js';
import { SERVED_BY_BOTH, withRelations } from '../support/relations.js';
import { STACK_TRACE, clientCreds, evidence, send, tokenWith, type Answer } from './support.js';

jest.setTimeout(60_000);

const STATUS = '/v1/queries/employment.citizen-status.v1';
const SUMMARY = '/v1/queries/social.coordination-summary.v1';
const YOUTH = '/v1/queries/youth.education-status.v1';
const shared = population().find((c) => c.employment && c.social && !c.extras.employment && !c.extras.social)!;
/** A young person in education, of the age the youth policies cover (18 to 24) today. */
const young = population().find((c) => {
  const age = subjectAge(c.cpr, new Date());
  return educationStatus(c)?.educationStatus === 'in-education' && age !== null && age >= 18 && age <= 24;
})!;

describe('ClientLimiter (the bucket arithmetic, on a controlled clock)', () => {
  let now = 0;
  const clock = (): number => now;

  it('admits a burst, then refuses with the time until the next token', () => {
    now = 0;
    const limiter = new ClientLimiter({ ratePerSecond: 2, burst: 3, concurrency: 100 }, clock);
    for (let i = 0; i < 3; i++) expect(limiter.admit('a').ok).toBe(true);
    const refused = limiter.admit('a');
    expect(refused).toEqual({ ok: false, reason: 'rate', retryAfterSeconds: 1 });
    now = 499; // 0.998 tokens
    expect(limiter.admit('a').ok).toBe(false);
    now = 500; // one token
    expect(limiter.admit('a').ok).toBe(true);
    expect(limiter.admit('a').ok).toBe(false);
  });

  it('says how long to wait when the rate is below one per second', () => {
    now = 0;
    const limiter = new ClientLimiter({ ratePerSecond: 0.25, burst: 1, concurrency: 100 }, clock);
    expect(limiter.admit('a').ok).toBe(true);
    expect(limiter.admit('a')).toEqual({ ok: false, reason: 'rate', retryAfterSeconds: 4 });
    now = 3000;
    expect(limiter.admit('a')).toEqual({ ok: false, reason: 'rate', retryAfterSeconds: 1 });
  });

  it('never saves up more than the burst', () => {
    now = 0;
    const limiter = new ClientLimiter({ ratePerSecond: 10, burst: 2, concurrency: 100 }, clock);
    expect(limiter.admit('a').ok).toBe(true);
    now = 3_600_000;
    expect(limiter.admit('a').ok).toBe(true);
    expect(limiter.admit('a').ok).toBe(true);
    expect(limiter.admit('a').ok).toBe(false);
  });

  it('caps requests in progress, frees a slot on release, and releases only once', () => {
    now = 0;
    const limiter = new ClientLimiter({ ratePerSecond: 1000, burst: 1000, concurrency: 2 }, clock);
    const a = limiter.admit('a');
    const b = limiter.admit('a');
    expect(a.ok && b.ok).toBe(true);
    expect(limiter.admit('a')).toEqual({ ok: false, reason: 'concurrency', retryAfterSeconds: 1 });
    if (!a.ok) throw new Error('unreachable');
    a.release();
    a.release();
    expect(limiter.inFlight('a')).toBe(1);
    const c = limiter.admit('a');
    expect(c.ok).toBe(true);
    expect(limiter.admit('a').ok).toBe(false);
  });

  it('keeps clients apart', () => {
    now = 0;
    const limiter = new ClientLimiter({ ratePerSecond: 1, burst: 1, concurrency: 1 }, clock);
    expect(limiter.admit('a').ok).toBe(true);
    expect(limiter.admit('a').ok).toBe(false);
    expect(limiter.admit('b').ok).toBe(true);
  });

  it('refuses nonsensical limits as a configuration mistake', () => {
    expect(() => new ClientLimiter({ ratePerSecond: 0, burst: 1, concurrency: 1 })).toThrow(TypeError);
    expect(() => new ClientLimiter({ ratePerSecond: 1, burst: 0, concurrency: 1 })).toThrow(TypeError);
    expect(() => new ClientLimiter({ ratePerSecond: 1, burst: 1, concurrency: 1.5 })).toThrow(TypeError);
  });
});

function query(
  env: TestEnv,
  client: string,
  urlPath: string,
  fields: readonly string[],
  claims: Record<string, unknown> = {},
  cpr = shared.cpr,
): Promise<Answer> {
  const body = JSON.stringify({ cpr, fields });
  return send(env.url, {
    path: urlPath,
    headers: { 'content-type': 'application/json', authorization: `Bearer ${tokenWith(client, urlPath, body, { claims })}` },
    body,
    creds: clientCreds(client),
  });
}

async function expectRateLimited(env: TestEnv, res: Answer, reason: 'RATE' | 'CONCURRENCY', client: string): Promise<void> {
  evidence('limits', 'error-response', res.text);
  expect(res.status).toBe(429);
  expect(String(res.headers['content-type'])).toMatch(/^application\/problem\+json/);
  expect(res.json).toMatchObject({ code: 'RATE_LIMITED', reasons: [reason] });
  expect(res.headers['retry-after']).toMatch(/^[1-9][0-9]*$/);
  expect(res.text).not.toMatch(STACK_TRACE);
  const { records } = await env.gateway.store.audit.search({ auditId: res.json.auditId, limit: 5 });
  expect(records).toHaveLength(1);
  expect(records[0]).toMatchObject({ kind: 'refusal', reasons: ['RATE_LIMITED', reason], status: 429, caller: { system: client } });
}

describe('the rate limit over HTTPS', () => {
  let env: TestEnv;
  beforeAll(async () => {
    env = await startTestEnv({ name: 'hardening-rate', overrides: { limits: { ratePerSecond: 1, burst: 3, concurrency: 50 } } });
    // Need to know: both administrations serve the citizen. Each registration spent one token of
    // its system's budget: let the buckets fill again before the test spends them.
    await withRelations(env, shared.cpr, SERVED_BY_BOTH);
    await new Promise((resolve) => setTimeout(resolve, 1100));
  });
  afterAll(async () => {
    await env?.close();
  });

  it('answers 429 RATE_LIMITED with Retry-After once a client exceeds its burst, audited, forwarding nothing; other clients go on', async () => {
    const provider = env.simulators['bif-jobcentre-system']!;
    const answers: Answer[] = [];
    let forwardedBefore = 0;
    for (let i = 0; i < 10; i++) {
      forwardedBefore = provider.requests;
      const res = await query(env, 'sof-case-system', STATUS, ['targetGroup']);
      answers.push(res);
      if (res.status === 429) break;
    }
    const refused = answers[answers.length - 1]!;
    expect(answers.slice(0, 3).map((a) => a.status)).toEqual([200, 200, 200]);
    await expectRateLimited(env, refused, 'RATE', 'sof-case-system');
    expect(provider.requests).toBe(forwardedBefore);

    // The jobcentre's own budget is untouched.
    const other = await query(env, 'bif-jobcentre-system', SUMMARY, ['openSocialCase']);
    expect(other.status).toBe(200);

    // After Retry-After the client is served again.
    await new Promise((resolve) => setTimeout(resolve, Number(refused.headers['retry-after']) * 1000 + 50));
    const again = await query(env, 'sof-case-system', STATUS, ['targetGroup']);
    expect(again.status).toBe(200);
  });

  it('limits the catalogue too (every identified request spends a token)', async () => {
    const creds = clientCreds('dpo-console');
    const statuses: number[] = [];
    for (let i = 0; i < 10 && !statuses.includes(429); i++)
      statuses.push((await send(env.url, { method: 'GET', path: '/v1/contracts', creds })).status);
    expect(statuses.slice(0, 3)).toEqual([200, 200, 200]);
    expect(statuses[statuses.length - 1]).toBe(429);
  });
});

describe('the concurrency cap over HTTPS', () => {
  let env: TestEnv;
  beforeAll(async () => {
    env = await startTestEnv({
      name: 'hardening-concurrency',
      overrides: {
        limits: { ratePerSecond: 1000, burst: 1000, concurrency: 2 },
        upstream: { timeoutMs: 10_000, maxResponseBytes: 1048576 },
      },
    });
    await withRelations(env, shared.cpr, SERVED_BY_BOTH); // need to know
  });
  afterAll(async () => {
    await env?.close();
  });

  it('refuses a third request in progress with 429 (CONCURRENCY), then serves once a slot is free', async () => {
    const provider = env.simulators['bif-jobcentre-system']!;
    provider.setFault({ kind: 'delay', ms: 1500 });
    const before = provider.requests;
    const slow = [query(env, 'sof-case-system', STATUS, ['targetGroup']), query(env, 'sof-case-system', STATUS, ['incomeSupport'])];
    for (let i = 0; i < 200 && provider.requests < before + 2; i++) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(provider.requests).toBe(before + 2);

    const third = await query(env, 'sof-case-system', STATUS, ['targetGroup']);
    await expectRateLimited(env, third, 'CONCURRENCY', 'sof-case-system');
    expect(provider.requests).toBe(before + 2);
    // Another client is not held up by this one's slots.
    provider.setFault(null);
    expect((await query(env, 'bif-jobcentre-system', SUMMARY, ['openSocialCase'])).status).toBe(200);

    expect((await Promise.all(slow)).map((r) => r.status)).toEqual([200, 200]);
    expect((await query(env, 'sof-case-system', STATUS, ['targetGroup'])).status).toBe(200);
  });

  it('frees the slot of a request whose caller hung up, without waiting for the provider', async () => {
    const provider = env.simulators['bif-jobcentre-system']!;
    provider.setFault({ kind: 'delay', ms: 5000 });
    const before = provider.requests;
    const creds = clientCreds('sof-case-system');
    const https = await import('node:https');
    const requests = [0, 1].map(() => {
      const body = JSON.stringify({ cpr: shared.cpr, fields: ['targetGroup'] });
      const req = https.request(`${env.url}${STATUS}`, {
        method: 'POST',
        ca: creds.ca,
        cert: creds.cert,
        key: creds.key,
        agent: false,
        headers: { 'content-type': 'application/json', authorization: `Bearer ${tokenWith('sof-case-system', STATUS, body)}` },
      });
      req.on('error', () => undefined);
      req.end(body);
      return req;
    });
    for (let i = 0; i < 200 && provider.requests < before + 2; i++) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(provider.requests).toBe(before + 2);
    expect((await query(env, 'sof-case-system', STATUS, ['targetGroup'])).status).toBe(429);
    for (const req of requests) req.destroy();
    for (let i = 0; i < 200 && env.running.inFlight > 0; i++) await new Promise((resolve) => setTimeout(resolve, 10));
    // The abandoned requests still wait for the provider (5 s), but their slots are free.
    provider.setFault(null);
    expect((await query(env, 'sof-case-system', STATUS, ['targetGroup'])).status).toBe(200);
  });
});

describe('ProviderSlots (the bulkhead arithmetic)', () => {
  it('gives each provider its own slots, frees one on release, and releases only once', () => {
    const slots = new ProviderSlots(2);
    const [a, b] = [slots.take('p'), slots.take('p')];
    expect(a && b).toBeDefined();
    expect(slots.take('p')).toBeUndefined();
    expect(slots.take('q')).toBeDefined();
    a!();
    a!();
    expect(slots.inFlight('p')).toBe(1);
    expect(slots.take('p')).toBeDefined();
    expect(slots.take('p')).toBeUndefined();
    expect(() => new ProviderSlots(0)).toThrow(TypeError);
  });
});

describe('the bulkhead between providers over HTTPS', () => {
  let env: TestEnv;
  let relations: string[] = [];
  beforeAll(async () => {
    env = await startTestEnv({
      name: 'hardening-bulkhead',
      overrides: {
        limits: { ratePerSecond: 1000, burst: 1000, concurrency: 4, providerConcurrency: 2 },
        upstream: { timeoutMs: 10_000, maxResponseBytes: 1048576 },
      },
    });
    // Need to know: both administrations serve the citizen; a permit cites the relations it relied on.
    relations = (await withRelations(env, shared.cpr, SERVED_BY_BOTH)).map((r) => r.id).sort();
  });
  afterAll(async () => {
    await env?.close();
  });

  it("a hanging provider holds only its own slots: more requests for it get 503 PROVIDER_BUSY at once, audited, and the caller's denied requests and requests to other providers are served", async () => {
    const hanging = env.simulators['bif-jobcentre-system']!;
    const youth = env.simulators['buf-youth-system']!;
    hanging.setFault({ kind: 'delay', ms: 3000 });
    const before = hanging.requests;
    try {
      const waiting = [query(env, 'sof-case-system', STATUS, ['targetGroup']), query(env, 'sof-case-system', STATUS, ['incomeSupport'])];
      for (let i = 0; i < 200 && hanging.requests < before + 2; i++) await new Promise((resolve) => setTimeout(resolve, 10));
      expect(env.gateway.deps.providerSlots.inFlight('bif-jobcentre-system')).toBe(2);

      // More requests for the hanging provider, more than the caller's free slots: each is refused
      // without waiting for it, and gives its caller slot back.
      for (let i = 0; i < 4; i++) {
        const busy = await query(env, 'sof-case-system', STATUS, ['targetGroup']);
        evidence('limits', 'error-response', busy.text);
        expect(busy.status).toBe(503);
        expect(busy.json).toMatchObject({ code: 'PROVIDER_BUSY', auditId: expect.any(String) });
        expect(busy.headers['retry-after']).toBe('1');
        expect(busy.text).not.toMatch(STACK_TRACE);
        const { records } = await env.gateway.store.audit.search({ auditId: busy.json.auditId, limit: 5 });
        expect(records.map((r) => [r.kind, r.decision, r.reasons, r.status]).reverse()).toEqual([
          ['decision', 'permit', [...relations.map((id) => `relation=${id}`), expect.stringMatching(/^relations-sha256=/)], null],
          ['release', 'permit', ['PROVIDER_BUSY'], 503],
        ]);
      }
      expect(hanging.requests).toBe(before + 2);

      // The same caller, meanwhile: a request that is denied, and one for another provider.
      const denied = await query(env, 'sof-case-system', STATUS, ['targetGroup'], { purpose: 'youth-coordination' });
      expect(denied.status).toBe(403);
      expect(denied.json.code).toBe('POLICY_DENIED');
      const youthBefore = youth.requests;
      const other = await query(env, 'sof-case-system', YOUTH, ['educationStatus'], { purpose: 'youth-coordination' }, young.cpr);
      expect(other.status).toBe(200);
      expect(youth.requests).toBe(youthBefore + 1);

      // The waiting requests are answered when the provider is; then its slots are free again.
      expect((await Promise.all(waiting)).map((r) => r.status)).toEqual([200, 200]);
      expect(env.gateway.deps.providerSlots.inFlight('bif-jobcentre-system')).toBe(0);
    } finally {
      hanging.setFault(null);
    }
    expect((await query(env, 'sof-case-system', STATUS, ['targetGroup'])).status).toBe(200);
    expect((await verifyTrail({ store: env.gateway.store, verifier: env.gateway.audit.verifier })).ok).toBe(true);
  });
});
