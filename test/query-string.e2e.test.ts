/**
 * Nothing travels in a query string: the request token binds the path alone and no route of the
 * gateway's API reads one, so a query string (even a bare "?") is refused on every path but the
 * DPO pages' with 400 QUERY_STRING_NOT_ALLOWED, before anything else: no client identification,
 * token check, body read, audit record or provider call. A fragment ("#", not valid in a request
 * target) is refused as HTTP_MALFORMED. What was in the URL reaches no answer, log line or metric.
 */
import { jest } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import request from 'supertest';
import { mayHoldCpr } from '../src/lib/cpr.js';
import { GATEWAY_OPERATIONS } from '../src/server/openapi.js';
import { simulatedEvent } from '../src/simulators/emit.js';
import { population } from '../src/simulators/population.js';
import { caOnly, clientCreds, send } from './hardening/support.js';
import { postWithToken, waitFor } from './support/calls.js';
import { startTestEnv, tls, tokenFor, type TestEnv } from './support/env.js';
import { SERVED_BY_BOTH, withRelations } from './support/relations.js';

jest.setTimeout(60_000);

const STATUS = '/v1/queries/employment.citizen-status.v1';
const SANCTION = '/v1/notifications/employment.sanction-notice.v1';
/** A synthetic CPR number (digits 7-8 are 99), and a marker the log scrubber has no reason to hide. */
const CPR = '3112799923';
const MARKER = `marker-${randomUUID()}`;
const QUERY = `?cpr=${CPR}&trace=${MARKER}`;
const citizen = population().find((c) => c.employment && c.social && !c.extras.employment && !c.extras.social)!;

let env: TestEnv;
beforeAll(async () => {
  env = await startTestEnv({ name: 'query-string' });
  // Need to know: both administrations serve the citizen of the valid requests.
  await withRelations(env, citizen.cpr, SERVED_BY_BOTH);
});
afterAll(async () => {
  await env?.close();
});

/** What a refusal before anything else must leave as it was: the trail, the outbox and every simulated provider. */
async function untouched(): Promise<unknown> {
  const head = await env.gateway.store.audit.head(env.config.instanceId);
  const outbox = await env.gateway.store.outbox.list({ limit: 500 });
  return {
    trail: head?.seq ?? 0,
    outbox: outbox.deliveries.length,
    providers: Object.fromEntries(Object.entries(env.simulators).map(([id, sim]) => [id, sim.requests])),
  };
}

function expectRefused(res: { status: number; headers: Record<string, unknown>; text: string }, code = 'QUERY_STRING_NOT_ALLOWED'): void {
  expect(res.status).toBe(400);
  expect(String(res.headers['content-type'])).toMatch(/^application\/problem\+json/);
  const problem = JSON.parse(res.text) as Record<string, unknown>;
  expect(problem).toMatchObject({ status: 400, code });
  expect(problem.auditId).toBeUndefined();
  expect(mayHoldCpr(res.text)).toBe(false);
  expect(res.text).not.toContain(MARKER);
  expect(res.text).not.toContain('cpr=');
}

/** A valid exchange request, its token minted for the path alone. */
async function exchange(kind: 'query' | 'notification') {
  if (kind === 'query') {
    const body = JSON.stringify({ cpr: citizen.cpr, fields: ['targetGroup'] });
    return { client: 'sof-case-system', path: STATUS, body, token: await tokenFor('sof-case-system', STATUS, body), ok: 200 };
  }
  const body = JSON.stringify({ cpr: citizen.cpr, event: simulatedEvent('sanction-notice', citizen.cpr) });
  const token = await tokenFor('bif-jobcentre-system', SANCTION, body, { purpose: 'sanction-notice' });
  return { client: 'bif-jobcentre-system', path: SANCTION, body, token, ok: 202 };
}

const post = (client: string, urlPath: string, body: string, token: string) => postWithToken(env.url, client, urlPath, body, token);

describe('a query string on an exchange path', () => {
  it.each(['query', 'notification'] as const)(
    'refuses a %s with a CPR number in its query string: 400, nothing audited, forwarded or queued, and the token not used up',
    async (kind) => {
      const x = await exchange(kind);
      const before = await untouched();
      const res = await post(x.client, `${x.path}${QUERY}`, x.body, x.token);
      expectRefused(res);
      expect(await untouched()).toEqual(before);
      // Nothing of the token check happened: the same token on the path alone is served.
      expect((await post(x.client, x.path, x.body, x.token)).status).toBe(x.ok);
      // A notification's deliveries are audited as they go out: let them finish before the next test counts.
      await waitFor('deliveries done', async () =>
        (await env.gateway.store.outbox.list({ limit: 500 })).deliveries.every((d) => d.state === 'delivered'),
      );
    },
  );

  it('refuses a bare "?", an empty parameter and a path in another case', async () => {
    const x = await exchange('query');
    const before = await untouched();
    // Sent as written (an HTTP client library may drop a bare "?").
    for (const target of [`${STATUS}?`, `${STATUS}?=`, `${STATUS}/?${CPR}`, `${STATUS.toUpperCase()}?${CPR}`]) {
      const res = await send(env.url, {
        path: target,
        headers: { 'content-type': 'application/json', authorization: `Bearer ${x.token}` },
        body: x.body,
        creds: clientCreds(x.client),
      });
      expectRefused(res);
    }
    expect(await untouched()).toEqual(before);
  });

  it('refuses it before the client certificate, the content type and the body size are looked at', async () => {
    const x = await exchange('query');
    const before = await untouched();
    const noCertificate = await request(env.url)
      .post(`${STATUS}${QUERY}`)
      .ca(caOnly().ca)
      .set('content-type', 'application/json')
      .send(x.body);
    expectRefused(noCertificate);
    const creds = tls('sof-case-system');
    const notJson = await request(env.url)
      .post(`${STATUS}${QUERY}`)
      .ca(creds.ca)
      .cert(creds.cert)
      .key(creds.key)
      .type('text/plain')
      .send('x');
    expectRefused(notJson);
    const tooLarge = await post(x.client, `${STATUS}${QUERY}`, JSON.stringify({ cpr: CPR, pad: 'x'.repeat(200_000) }), x.token);
    expectRefused(tooLarge);
    expect(await untouched()).toEqual(before);
  });

  it('refuses a fragment (not valid in a request target) as HTTP_MALFORMED, nothing audited or forwarded', async () => {
    const x = await exchange('query');
    const before = await untouched();
    // The token minted for the path with the fragment: express would route on the path and drop the fragment.
    const target = `${STATUS}#${CPR}`;
    const token = await tokenFor('sof-case-system', target, x.body);
    const res = await send(env.url, {
      path: target,
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: x.body,
      creds: clientCreds('sof-case-system'),
    });
    expectRefused(res, 'HTTP_MALFORMED');
    expect(await untouched()).toEqual(before);
  });
});

describe('every other path but the DPO pages', () => {
  const targets = GATEWAY_OPERATIONS.map(([method, p]) => [method, p.replace(/\{[^}]+\}/g, randomUUID())] as const);

  it.each([...targets, ['GET', '/v1/nothing-here'] as const])('%s %s refuses a query string', async (method, urlPath) => {
    const before = await untouched();
    const res = await send(env.url, {
      method,
      path: `${urlPath}${QUERY}`,
      headers: { 'content-type': 'application/json' },
      ...(method === 'POST' ? { body: '{}' } : {}),
      creds: clientCreds('ops-console'),
    });
    expectRefused(res);
    expect(await untouched()).toEqual(before);
  });
});

describe("the DPO pages' own query parameters", () => {
  let dpo: ReturnType<typeof clientCreds>;
  let cookie = '';
  const page = (urlPath: string) => send(env.url, { method: 'GET', path: urlPath, headers: { cookie }, creds: dpo });

  beforeAll(async () => {
    dpo = clientCreds('dpo-console');
    const form = await send(env.url, { method: 'GET', path: '/dpo/sign-in', creds: dpo });
    const token = /name="_signin" value="([^"]+)"/.exec(form.text)![1]!;
    const signinCookie = String(form.headers['set-cookie']).split(';')[0]!;
    const res = await send(env.url, {
      method: 'POST',
      path: '/dpo/sign-in',
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: signinCookie },
      body: new URLSearchParams({ _signin: token, lang: 'da' }).toString(),
      creds: dpo,
    });
    expect(res.status).toBe(303);
    cookie = (res.headers['set-cookie'] as string[]).map((c) => c.split(';')[0]).join('; ');
  });

  it('still read ?lang= on the sign-in page', async () => {
    const english = await send(env.url, { method: 'GET', path: '/dpo/sign-in?lang=en', creds: dpo });
    expect(english.status).toBe(200);
    expect(english.text).toContain('<html lang="en">');
    expect((await send(env.url, { method: 'GET', path: '/dpo/sign-in', creds: dpo })).text).toContain('<html lang="da">');
  });

  it('still read ?from= and ?to= on the overview', async () => {
    const res = await page('/dpo/?from=2026-01-01&to=2026-01-31');
    expect(res.status).toBe(200);
    expect(res.text).toContain('value="2026-01-01"');
    expect(res.text).toContain('value="2026-01-31"');
  });
});

describe('what the refusals left behind', () => {
  it('no log line and no metric holds the query string; the refusals are counted by code', async () => {
    const metrics = (await send(env.url, { method: 'GET', path: '/metrics', creds: caOnly() })).text;
    expect(metrics).toMatch(
      /snitflade_requests_total\{route="other",contract="none",outcome="error",code="QUERY_STRING_NOT_ALLOWED"\} [1-9]/,
    );
    expect(metrics).not.toContain(MARKER);
    expect(metrics).not.toContain(CPR);

    await new Promise((resolve) => setTimeout(resolve, 200)); // let the file transport write
    const lines = readFileSync(env.logFile, 'utf8').split('\n');
    expect(lines.filter((l) => l.includes('"code":"QUERY_STRING_NOT_ALLOWED"')).length).toBeGreaterThan(10);
    expect(lines.filter((l) => mayHoldCpr(l) || l.includes(MARKER) || l.includes('cpr=') || l.includes('redacted'))).toEqual([]);
  });
});
