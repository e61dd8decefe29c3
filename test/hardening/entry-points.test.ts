/**
 * A CPR number in every written form the detector knows (src/lib/cpr.ts), at the entry points
 * beyond a query (the query's token claims, request id and property names are in corpus.test.ts):
 * a consent's evidence reference, the consent and audit APIs' property names, the audit search's
 * caseworker filter, the dead-letter search's filters, a notification's Idempotency-Key, and
 * addresses typed into the DPO pages. Each is refused; nothing is stored, echoed or shown.
 */
import { jest } from '@jest/globals';
import { CPR_WRITTEN_FORMS, mayHoldCpr } from '../../src/lib/cpr.js';
import { emitNotification } from '../../src/simulators/emit.js';
import { population } from '../../src/simulators/population.js';
import { startTestEnv, TEST_CERTS, type TestEnv } from '../support/env.js';
import { clientCreds, evidence, send, tokenWith, withoutIds, type Answer } from './support.js';

jest.setTimeout(60_000);

const SOF = 'sof-case-system';
const DPO = 'dpo-console';
const citizens = population().filter((c) => c.employment !== null);
const CITIZEN = citizens[3]!.cpr;
/** The number written in the entry points: another citizen's, so that any trace of it is a leak. */
const HIDDEN = citizens[4]!.cpr;
const SERIAL = HIDDEN.slice(6);

/** Every written form, alone and glued to letters on either side. */
const WRITTEN: readonly (readonly [string, string])[] = CPR_WRITTEN_FORMS.flatMap((f) => {
  const w = f.write(HIDDEN);
  return [
    [`${f.name}, alone`, w],
    [`${f.name}, after a letter`, `x${w}`],
    [`${f.name}, before a letter`, `${w}y`],
  ] as const;
});
/** The written forms a header or a URL path can carry as they are. */
const ASCII_WRITTEN = WRITTEN.filter(([, w]) => /^[\x21-\x7e]+$/.test(w));

let env: TestEnv;

beforeAll(async () => {
  env = await startTestEnv({
    name: 'hardening-entry-points',
    overrides: { limits: { ratePerSecond: 100_000, burst: 100_000, concurrency: 1000 } },
  });
});
afterAll(async () => {
  await env?.close();
});

async function post(
  client: string,
  urlPath: string,
  body: string,
  purpose = 'plan-coordination',
  headers: Record<string, string> = {},
): Promise<Answer> {
  const token = tokenWith(client, urlPath, body, { claims: { purpose } });
  const res = await send(env.url, {
    path: urlPath,
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, ...headers },
    body,
    creds: clientCreds(client),
  });
  evidence('entry-points', 'error-response', res.text);
  return res;
}

/** The answer holds no CPR number in any form, and not the hidden number's serial outside the gateway's own random ids. */
function nothingEchoed(res: Answer): void {
  expect(mayHoldCpr(res.text)).toBe(false);
  expect(withoutIds(res.text)).not.toContain(SERIAL);
  for (const [k, v] of Object.entries(res.headers)) expect({ k, leak: mayHoldCpr(String(v)) }).toEqual({ k, leak: false });
}

describe('consents', () => {
  const consent = (reference: string): string =>
    JSON.stringify({
      cpr: CITIZEN,
      recipients: ['BIF'],
      sources: ['SOF'],
      purposes: ['plan-coordination'],
      categories: ['social'],
      validFrom: '2026-01-01',
      validTo: '2027-12-31',
      evidence: { kind: 'recorded-by-caseworker', reference, form: 'paper' },
    });

  it.each(WRITTEN)('refuses an evidence reference holding a CPR number (%s), and records nothing', async (_name, written) => {
    const res = await post(SOF, '/v1/consents', consent(`FORM-${written}`));
    expect({ status: res.status, code: res.json.code }).toEqual({ status: 400, code: 'REQUEST_INVALID' });
    expect(res.json.errors.map((e: { path: string }) => e.path)).toEqual(['/evidence/reference']);
    nothingEchoed(res);
  });

  it('has recorded none of them', async () => {
    const res = await post(SOF, '/v1/consents/search', JSON.stringify({ cpr: CITIZEN }));
    expect(res.status).toBe(200);
    expect(res.json.consents).toEqual([]);
  });

  it.each(WRITTEN)('never names a property whose name holds a CPR number (%s) in the consent search', async (_name, written) => {
    const res = await post(SOF, '/v1/consents/search', JSON.stringify({ cpr: CITIZEN, [written]: 1 }));
    expect({ status: res.status, code: res.json.code }).toEqual({ status: 400, code: 'REQUEST_INVALID' });
    expect(res.json.errors[0].message).toMatch(/^unknown property; the properties allowed here are listed at #\//);
    nothingEchoed(res);
  });
});

describe("the DPO's audit API and the dead-letter search", () => {
  it.each(WRITTEN)('refuses a caseworker filter holding a CPR number (%s)', async (_name, written) => {
    const res = await post(DPO, '/v1/audit/search', JSON.stringify({ caseworker: `cw-${written}` }), 'audit-review');
    expect({ status: res.status, code: res.json.code }).toEqual({ status: 400, code: 'AUDIT_QUERY_INVALID' });
    nothingEchoed(res);
  });

  it.each(WRITTEN)('never names a property whose name holds a CPR number (%s) in an audit search', async (_name, written) => {
    const res = await post(DPO, '/v1/audit/search', JSON.stringify({ [written]: 1 }), 'audit-review');
    expect({ status: res.status, code: res.json.code }).toEqual({ status: 400, code: 'AUDIT_QUERY_INVALID' });
    expect(res.json.errors[0].message).toMatch(/^unknown property; /);
    nothingEchoed(res);
  });

  it.each(WRITTEN)('refuses a dead-letter audit id filter holding a CPR number (%s)', async (_name, written) => {
    const res = await post(DPO, '/v1/notifications/dead-letters/search', JSON.stringify({ auditId: written }), 'audit-review');
    expect({ status: res.status, code: res.json.code }).toEqual({ status: 400, code: 'REQUEST_INVALID' });
    nothingEchoed(res);
  });
});

describe('notifications', () => {
  const keys = ASCII_WRITTEN.filter(([, w]) => /^[A-Za-z0-9._:-]{1,100}$/.test(w));

  it('has Idempotency-Key forms to try', () => {
    expect(keys.length).toBeGreaterThanOrEqual(15);
  });

  it.each(keys)('refuses an Idempotency-Key holding a CPR number (%s), and queues nothing', async (_name, written) => {
    const before = await env.gateway.store.outbox.list({ state: 'pending', limit: 500 });
    const res = await emitNotification('sanction-notice', CITIZEN, {
      gatewayUrl: env.url,
      certsDir: TEST_CERTS,
      idempotencyKey: `key-${written}`,
    });
    expect(res.status).toBe(400);
    expect((res.body as { code: string }).code).toBe('IDEMPOTENCY_KEY_INVALID');
    expect(withoutIds(JSON.stringify(res.body))).not.toContain(SERIAL);
    const after = await env.gateway.store.outbox.list({ state: 'pending', limit: 500 });
    expect(after.deliveries.length).toBe(before.deliveries.length);
  });
});

describe('the DPO pages', () => {
  const dpo = clientCreds(DPO);
  let cookie = '';

  beforeAll(async () => {
    const form = await send(env.url, { method: 'GET', path: '/dpo/sign-in', creds: dpo });
    const token = /name="_signin" value="([^"]+)"/.exec(form.text)![1]!;
    const signinCookie = String(form.headers['set-cookie']).split(';')[0]!;
    const body = new URLSearchParams({ _signin: token, lang: 'da' }).toString();
    const res = await send(env.url, {
      method: 'POST',
      path: '/dpo/sign-in',
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: signinCookie },
      body,
      creds: dpo,
    });
    expect(res.status).toBe(303);
    cookie = (res.headers['set-cookie'] as string[]).map((c) => c.split(';')[0]).join('; ');
  });

  const page = (urlPath: string): Promise<Answer> => send(env.url, { method: 'GET', path: urlPath, headers: { cookie }, creds: dpo });

  it('is signed in (the overview answers)', async () => {
    const res = await page('/dpo/');
    expect(res.status).toBe(200);
  });

  it.each(
    ASCII_WRITTEN.flatMap(([name, w]) =>
      ['/dpo/', '/dpo/search/', '/dpo/records/', '/dpo/nothing/'].map(
        (prefix) => [`${prefix}… (${name})`, `${prefix}${encodeURIComponent(w)}`] as const,
      ),
    ),
  )('answers %s with a page that does not echo the address', async (_name, urlPath) => {
    const res = await page(urlPath);
    expect(res.status).toBe(404);
    expect(res.text).toContain('value="/dpo/"');
    nothingEchoed(res);
  });

  it.each(ASCII_WRITTEN.slice(0, 30))('does not show a CPR number (%s) typed into the search or report form again', async (_name, w) => {
    const form = await page('/dpo/');
    const csrf = /name="_csrf" value="([^"]+)"/.exec(form.text)![1]!;
    for (const [urlPath, fields] of [
      ['/dpo/search', { caseworker: `cw-${w}`, from: w }],
      ['/dpo/search', { caseworker: 'cw-1', from: w, to: '2026-01-01' }],
      ['/dpo/citizen-report', { cpr: CITIZEN, from: w, to: '2026-01-01' }],
    ] as const) {
      const body = new URLSearchParams({ _csrf: csrf, ...fields }).toString();
      const res = await send(env.url, {
        method: 'POST',
        path: urlPath,
        headers: { 'content-type': 'application/x-www-form-urlencoded', cookie },
        body,
        creds: dpo,
      });
      expect({ urlPath, status: res.status }).toEqual({ urlPath, status: 400 });
      nothingEchoed(res);
    }
  });

  it('does not send the language switch back to an address holding a CPR number', async () => {
    const form = await page('/dpo/');
    const csrf = /name="_csrf" value="([^"]+)"/.exec(form.text)![1]!;
    for (const [, w] of ASCII_WRITTEN.filter(([, x]) => /^[A-Za-z0-9_-]+$/.test(x))) {
      const body = new URLSearchParams({ _csrf: csrf, lang: 'en', back: `/dpo/${w}` }).toString();
      const res = await send(env.url, {
        method: 'POST',
        path: '/dpo/lang',
        headers: { 'content-type': 'application/x-www-form-urlencoded', cookie },
        body,
        creds: dpo,
      });
      expect(res.status).toBe(303);
      expect(res.headers.location).toBe('/dpo/');
    }
  });
});
