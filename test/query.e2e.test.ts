import { jest } from '@jest/globals';
import path from 'node:path';
import { readFileSync } from 'node:fs';
import request from 'supertest';
import Database from 'better-sqlite3';
import { createCa, issueCertificate } from '../src/pki/devpki.js';
import { population } from '../src/simulators/population.js';
import { isSyntheticCpr } from '../src/lib/cpr.js';
import { startTestEnv, tls, tokenFor, TEST_CERTS, type TestEnv } from './support/env.js';
import { UUID_V7 } from './support/audit-entries.js';
import { SERVED_BY_BOTH, withRelations } from './support/relations.js';

jest.setTimeout(60_000);

const STATUS = '/v1/queries/employment.citizen-status.v1';
const SUMMARY = '/v1/queries/social.coordination-summary.v1';

const citizens = population();
const shared = citizens.find((c) => c.employment && c.social && !c.extras.employment && !c.extras.social)!;
const withExtras = citizens.find((c) => c.employment && c.extras.employment)!;
const socialOnly = citizens.find((c) => !c.employment && c.social)!;

let env: TestEnv;
beforeAll(async () => {
  env = await startTestEnv({ name: 'query-e2e', overrides: { upstream: { timeoutMs: 800, maxResponseBytes: 1048576 } } });
  // Need to know: the citizens asked about are served by both administrations (the relations
  // register says so), so the policies between them apply. The social-only citizen too: the
  // register may know of a jobcentre case its system does not (yet), which is what answers 404.
  for (const c of [shared, withExtras, socialOnly]) await withRelations(env, c.cpr, SERVED_BY_BOTH);
});
afterAll(async () => {
  await env?.close();
});
afterEach(() => {
  for (const sim of Object.values(env.simulators)) sim.setFault(null);
});

/** POST as a registered client system over mutual TLS, with a token it minted for this body. */
async function post(
  client: string,
  urlPath: string,
  bodyObj: unknown,
  opts: {
    token?: string | null;
    tokenOverrides?: Parameters<typeof tokenFor>[3];
    sendBody?: string;
    tlsOf?: ReturnType<typeof tls> | null;
  } = {},
) {
  const body = JSON.stringify(bodyObj);
  const token = opts.token !== undefined ? opts.token : await tokenFor(client, urlPath, body, opts.tokenOverrides);
  let r = request(env.url).post(urlPath);
  const creds = opts.tlsOf === undefined ? tls(client) : opts.tlsOf;
  r = creds ? r.ca(creds.ca).cert(creds.cert).key(creds.key) : r.ca(tls(client).ca);
  r = r.set('content-type', 'application/json');
  if (token !== null) r = r.set('authorization', `Bearer ${token}`);
  return r.send(opts.sendBody ?? body);
}

async function auditRecords(auditId: string) {
  const { records } = await env.gateway.store.audit.search({ auditId, limit: 10 });
  return records;
}

function expectProblem(res: request.Response, status: number, code: string): void {
  expect(res.status).toBe(status);
  expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
  expect(res.body.code).toBe(code);
  expect(JSON.stringify(res.body)).not.toMatch(/at .*\.(ts|js):\d+/); // never a stack trace
}

describe('a permitted query', () => {
  it('releases only permitted and requested fields, with a disclosure block', async () => {
    const res = await post('sof-case-system', STATUS, { cpr: shared.cpr, fields: ['targetGroup', 'incomeSupport', 'nextMeetingDate'] });
    expect(res.status).toBe(200);
    expect(Object.keys(res.body.data).sort()).toEqual(['incomeSupport', 'nextMeetingDate', 'targetGroup']);
    expect(res.body.data.targetGroup).toBe(shared.employment!.targetGroup);
    expect(res.body.disclosure).toMatchObject({
      policy: { id: 'sof-reads-employment-status' },
      purpose: 'plan-coordination',
      released: ['targetGroup', 'incomeSupport', 'nextMeetingDate'],
      withheld: [],
    });
    expect(res.body.disclosure.legalBasis).toMatch(/Art\. 6\(1\)\(e\)/);
    // A time-ordered audit id (UUIDv7): the audit_id index grows at its end.
    expect(res.body.disclosure.auditId).toMatch(UUID_V7);
    const records = await auditRecords(res.body.disclosure.auditId);
    expect(records.map((r) => r.kind).sort()).toEqual(['decision', 'release']);
    const release = records.find((r) => r.kind === 'release')!;
    expect(release.fields.released).toEqual(['targetGroup', 'incomeSupport', 'nextMeetingDate']);
    expect(release.subject).toBe(env.gateway.pseudonyms.pseudonym(shared.cpr));
    expect(JSON.stringify(records)).not.toContain(shared.cpr);
  });

  it('drops fields the provider sent that the contract does not allow, and records their names', async () => {
    const res = await post('sof-case-system', STATUS, { cpr: withExtras.cpr, fields: ['targetGroup', 'incomeSupport'] });
    expect(res.status).toBe(200);
    expect(Object.keys(res.body.data).sort()).toEqual(['incomeSupport', 'targetGroup']);
    const release = (await auditRecords(res.body.disclosure.auditId)).find((r) => r.kind === 'release')!;
    expect(release.fields.dropped.length).toBeGreaterThan(0);
    for (const name of Object.keys(withExtras.extras.employment!)) expect(release.fields.dropped).toContain(name);
  });

  it('withholds a requested field the policy does not permit (special-category efforts)', async () => {
    const res = await post('bif-jobcentre-system', SUMMARY, { cpr: shared.cpr, fields: ['openSocialCase', 'efforts'] });
    expect(res.status).toBe(200);
    expect(Object.keys(res.body.data)).toEqual(['openSocialCase']);
    expect(res.body.disclosure.withheld).toEqual(['efforts']);
  });

  it('answers 404 SUBJECT_NOT_FOUND, audited, when the provider has no case for the citizen', async () => {
    const res = await post('sof-case-system', STATUS, { cpr: socialOnly.cpr, fields: ['targetGroup'] });
    expectProblem(res, 404, 'SUBJECT_NOT_FOUND');
    const records = await auditRecords(res.body.auditId);
    expect(records.find((r) => r.kind === 'release')?.reasons).toEqual(['SUBJECT_NOT_FOUND']);
  });
});

describe('refusals', () => {
  const body = () => ({ cpr: shared.cpr, fields: ['targetGroup'] });

  it('refuses a connection without a client certificate (401 CERTIFICATE_REQUIRED)', async () => {
    const res = await post('sof-case-system', STATUS, body(), { tlsOf: null });
    expectProblem(res, 401, 'CERTIFICATE_REQUIRED');
  });

  it('refuses a certificate from an unknown CA (401 CERTIFICATE_UNTRUSTED)', async () => {
    const rogueCa = createCa({ cn: 'Rogue CA' });
    const rogue = issueCertificate({ ca: rogueCa, cn: 'sof-case-system', eku: ['clientAuth'] });
    const res = await post('sof-case-system', STATUS, body(), {
      tlsOf: { ca: tls('sof-case-system').ca, cert: Buffer.from(rogue.certPem), key: Buffer.from(rogue.keyPem) },
    });
    expectProblem(res, 401, 'CERTIFICATE_UNTRUSTED');
  });

  it('refuses a trusted certificate of an unregistered system (401 CLIENT_UNKNOWN)', async () => {
    const ca = {
      certPem: readFileSync(path.join(TEST_CERTS, 'ca', 'ca.crt.pem'), 'utf8'),
      keyPem: readFileSync(path.join(TEST_CERTS, 'ca', 'ca.key.pem'), 'utf8'),
    };
    const stranger = issueCertificate({ ca, cn: 'unregistered-system', eku: ['clientAuth'] });
    const res = await post('sof-case-system', STATUS, body(), {
      tlsOf: { ca: tls('sof-case-system').ca, cert: Buffer.from(stranger.certPem), key: Buffer.from(stranger.keyPem) },
    });
    expectProblem(res, 401, 'CLIENT_UNKNOWN');
  });

  const audited = async (res: request.Response, code: string) => {
    expect(res.body.auditId).toEqual(expect.any(String));
    const records = await auditRecords(res.body.auditId);
    expect(records).toHaveLength(1);
    expect(records[0]!.reasons).toEqual([code]);
    expect(records[0]!.caller?.system).toBe('sof-case-system');
  };

  it('refuses a missing token (401 TOKEN_MISSING), audited', async () => {
    const res = await post('sof-case-system', STATUS, body(), { token: null });
    expectProblem(res, 401, 'TOKEN_MISSING');
    await audited(res, 'TOKEN_MISSING');
  });

  it('refuses a token of another client on this connection (401 TOKEN_ISSUER_MISMATCH), audited', async () => {
    const res = await post('sof-case-system', STATUS, body(), { tokenOverrides: { client: 'bif-jobcentre-system' } });
    expectProblem(res, 401, 'TOKEN_ISSUER_MISMATCH');
    await audited(res, 'TOKEN_ISSUER_MISMATCH');
  });

  it('refuses an expired token (401 TOKEN_EXPIRED), audited', async () => {
    const res = await post('sof-case-system', STATUS, body(), { tokenOverrides: { now: new Date(Date.now() - 10 * 60_000) } });
    expectProblem(res, 401, 'TOKEN_EXPIRED');
    await audited(res, 'TOKEN_EXPIRED');
  });

  it('refuses a token that lives longer than five minutes (401 TOKEN_LIFETIME_TOO_LONG)', async () => {
    const res = await post('sof-case-system', STATUS, body(), { tokenOverrides: { lifetimeSeconds: 301 } });
    expectProblem(res, 401, 'TOKEN_LIFETIME_TOO_LONG');
  });

  it('refuses a replayed jti (401 TOKEN_REPLAYED), audited', async () => {
    const b = JSON.stringify(body());
    const token = await tokenFor('sof-case-system', STATUS, b);
    const first = await post('sof-case-system', STATUS, body(), { token });
    expect(first.status).toBe(200);
    const second = await post('sof-case-system', STATUS, body(), { token });
    expectProblem(second, 401, 'TOKEN_REPLAYED');
    await audited(second, 'TOKEN_REPLAYED');
  });

  it('refuses a body changed after signing, e.g. another citizen (401 TOKEN_BODY_MISMATCH), audited', async () => {
    const other = citizens.find((c) => c.employment && c.cpr !== shared.cpr)!;
    const token = await tokenFor('sof-case-system', STATUS, JSON.stringify(body()));
    const res = await post('sof-case-system', STATUS, { cpr: other.cpr, fields: ['targetGroup'] }, { token });
    expectProblem(res, 401, 'TOKEN_BODY_MISMATCH');
    await audited(res, 'TOKEN_BODY_MISMATCH');
  });

  it('refuses alg none (401 TOKEN_ALG_NOT_ALLOWED), audited', async () => {
    const enc = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
    const now = Math.floor(Date.now() / 1000);
    const unsigned = `${enc({ alg: 'none', typ: 'JWT' })}.${enc({ iss: 'sof-case-system', aud: 'snitflade-gateway', iat: now, exp: now + 60, jti: 'none-1', sub: 'x', purpose: 'plan-coordination', case: 'c' })}.`;
    const res = await post('sof-case-system', STATUS, body(), { token: unsigned });
    expectProblem(res, 401, 'TOKEN_ALG_NOT_ALLOWED');
    await audited(res, 'TOKEN_ALG_NOT_ALLOWED');
  });

  it('refuses a token minted for another path (401 TOKEN_REQUEST_MISMATCH)', async () => {
    const res = await post('sof-case-system', STATUS, body(), { tokenOverrides: { path: SUMMARY } });
    expectProblem(res, 401, 'TOKEN_REQUEST_MISMATCH');
  });

  it('refuses an unknown contract (404 CONTRACT_UNKNOWN), audited', async () => {
    const res = await post('sof-case-system', '/v1/queries/employment.citizen-status.v9', body());
    expectProblem(res, 404, 'CONTRACT_UNKNOWN');
    await audited(res, 'CONTRACT_UNKNOWN');
  });

  it('refuses a schema-invalid body (400 REQUEST_INVALID) and names the path, not the value', async () => {
    const res = await post('sof-case-system', STATUS, { cpr: '3102709901', fields: ['targetGroup'], extra: 1 });
    expectProblem(res, 400, 'REQUEST_INVALID');
    expect(JSON.stringify(res.body)).not.toContain('3102709901');
    await audited(res, 'REQUEST_INVALID');
  });

  it('names the citizen and the contract on a refusal whose body held a well-formed CPR number (issue 22, item 3)', async () => {
    const contract = 'employment.citizen-status.v1';
    const pseudonym = (cpr: string) => env.gateway.pseudonyms.pseudonym(cpr);
    const refusal = async (res: request.Response, code: string) => {
      expect(res.body.code).toBe(code);
      const records = await auditRecords(res.body.auditId);
      expect(records.map((r) => [r.kind, r.reasons])).toEqual([['refusal', [code]]]);
      return records[0]!;
    };
    const seen = (c: { cpr: string }) => citizens.filter((x) => x.cpr !== c.cpr);
    // a replayed token: the citizen its body names
    const b = JSON.stringify(body());
    const token = await tokenFor('sof-case-system', STATUS, b);
    expect((await post('sof-case-system', STATUS, body(), { token })).status).toBe(200);
    const replayed = await refusal(await post('sof-case-system', STATUS, body(), { token }), 'TOKEN_REPLAYED');
    expect(replayed).toMatchObject({ subject: pseudonym(shared.cpr), contract });
    // a body that does not match its token: the citizen the body names (not the one signed for)
    const other = seen(shared).find((c) => c.employment)!;
    const mismatched = await refusal(
      await post(
        'sof-case-system',
        STATUS,
        { cpr: other.cpr, fields: ['targetGroup'] },
        { token: await tokenFor('sof-case-system', STATUS, b) },
      ),
      'TOKEN_BODY_MISMATCH',
    );
    expect(mismatched).toMatchObject({ subject: pseudonym(other.cpr), contract });
    // an invalid request naming a known contract, also with the number in another written form
    const invalid = await refusal(
      await post('sof-case-system', STATUS, { cpr: withExtras.cpr, fields: ['targetGroup'], extra: 1 }),
      'REQUEST_INVALID',
    );
    expect(invalid).toMatchObject({ subject: pseudonym(withExtras.cpr), contract });
    const dashed = `${withExtras.cpr.slice(0, 6)}-${withExtras.cpr.slice(6)}`;
    const written = await refusal(await post('sof-case-system', STATUS, { cpr: dashed, fields: ['targetGroup'] }), 'REQUEST_INVALID');
    expect(written).toMatchObject({ subject: pseudonym(withExtras.cpr), contract });
    // before the token: the body is read for the citizen only
    const missing = await refusal(await post('sof-case-system', STATUS, body(), { token: null }), 'TOKEN_MISSING');
    expect(missing).toMatchObject({ subject: pseudonym(shared.cpr), contract });
    // an unknown contract is not named; a number that is no CPR number (31 February) names no one
    const unknown = await refusal(await post('sof-case-system', '/v1/queries/employment.citizen-status.v9', body()), 'CONTRACT_UNKNOWN');
    expect(unknown).toMatchObject({ subject: pseudonym(shared.cpr), contract: null });
    const noCitizen = await refusal(
      await post('sof-case-system', STATUS, { cpr: '3102709901', fields: ['targetGroup'], extra: 1 }),
      'REQUEST_INVALID',
    );
    expect(noCitizen).toMatchObject({ subject: null, contract });
    // an ambiguous body (the number twice) names no one
    const dup = `{"cpr":"${shared.cpr}","cpr":"${other.cpr}","fields":["targetGroup"]}`;
    const ambiguous = await refusal(
      await post('sof-case-system', STATUS, {}, { sendBody: dup, tokenOverrides: { body: dup } }),
      'BODY_MALFORMED',
    );
    expect(ambiguous).toMatchObject({ subject: null, contract });

    // The DPO's search for the citizen (under every pseudonym key) finds the refusals.
    const found = async (cpr: string) =>
      (await env.gateway.store.audit.search({ subject: env.gateway.pseudonyms.all(cpr), kind: 'refusal', limit: 500 })).records.map(
        (r) => r.id,
      );
    expect(await found(shared.cpr)).toEqual(expect.arrayContaining([replayed.id, missing.id, unknown.id]));
    expect(await found(other.cpr)).toContain(mismatched.id);
    expect(await found(withExtras.cpr)).toEqual(expect.arrayContaining([invalid.id, written.id]));
    const all = JSON.stringify([replayed, mismatched, invalid, written, missing, unknown, noCitizen, ambiguous]);
    for (const c of [shared, other, withExtras]) expect(all).not.toContain(c.cpr);
  });

  it('refuses duplicate keys and prototype keys (400 BODY_MALFORMED)', async () => {
    const dup = `{"cpr":"${shared.cpr}","cpr":"${socialOnly.cpr}","fields":["targetGroup"]}`;
    const res = await post('sof-case-system', STATUS, {}, { sendBody: dup, tokenOverrides: { body: dup } });
    expectProblem(res, 400, 'BODY_MALFORMED');
    const proto = `{"cpr":"${shared.cpr}","fields":["targetGroup"],"__proto__":{"admin":true}}`;
    const res2 = await post('sof-case-system', STATUS, {}, { sendBody: proto, tokenOverrides: { body: proto } });
    expectProblem(res2, 400, 'BODY_MALFORMED');
  });

  it('refuses a body that is not JSON by content type (415 UNSUPPORTED_MEDIA_TYPE), audited', async () => {
    const res = await request(env.url)
      .post(STATUS)
      .ca(tls('sof-case-system').ca)
      .cert(tls('sof-case-system').cert)
      .key(tls('sof-case-system').key)
      .set('content-type', 'text/plain')
      .send('hello');
    expectProblem(res, 415, 'UNSUPPORTED_MEDIA_TYPE');
    await audited(res, 'UNSUPPORTED_MEDIA_TYPE');
  });

  it('denies when no policy matches (403 POLICY_DENIED, NO_POLICY), audited as a decision', async () => {
    // SOF asking SOF's own social summary: no policy grants it
    const res = await post('sof-case-system', SUMMARY, { cpr: shared.cpr, fields: ['openSocialCase'] });
    expectProblem(res, 403, 'POLICY_DENIED');
    expect(res.body.reasons).toEqual(['NO_POLICY']);
    const records = await auditRecords(res.body.auditId);
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({ kind: 'decision', decision: 'deny', reasons: ['NO_POLICY'] });
  });

  it('denies a purpose no policy allows (403 POLICY_DENIED, PURPOSE_NOT_ALLOWED)', async () => {
    const res = await post('sof-case-system', STATUS, body(), { tokenOverrides: { purpose: 'whole-person-plan' } });
    expectProblem(res, 403, 'POLICY_DENIED');
    expect(res.body.reasons).toEqual(['PURPOSE_NOT_ALLOWED']);
  });

  it('refuses a purpose that is not in the registry (400 PURPOSE_UNKNOWN)', async () => {
    const res = await post('sof-case-system', STATUS, body(), { tokenOverrides: { purpose: 'curiosity' } });
    expectProblem(res, 400, 'PURPOSE_UNKNOWN');
  });

  it('denies when consent is required and none is recorded (403 CONSENT_REQUIRED, CONSENT_NOT_IN_FORCE), not as "no policy"', async () => {
    const res = await post(
      'bif-jobcentre-system',
      SUMMARY,
      { cpr: shared.cpr, fields: ['healthEfforts'] },
      { tokenOverrides: { purpose: 'rehabilitation-team-assessment' } },
    );
    expectProblem(res, 403, 'CONSENT_REQUIRED');
    expect(res.body.reasons).toEqual(['CONSENT_NOT_IN_FORCE']);
    // The caller is not told whether a consent exists; the audit record keeps the precise reason.
    expect((await auditRecords(res.body.auditId)).map((r) => r.reasons)).toEqual([['CONSENT_MISSING']]);
    expect(res.body.title).toBe("The citizen's consent is required");
    expect(JSON.stringify(res.body)).not.toMatch(/no policy/i);
  });
});

describe('faults', () => {
  it('answers 504 PROVIDER_TIMEOUT when the provider does not answer in time, audited', async () => {
    env.simulators['bif-jobcentre-system']!.setFault({ kind: 'delay', ms: 3000 });
    const res = await post('sof-case-system', STATUS, { cpr: shared.cpr, fields: ['targetGroup'] });
    expectProblem(res, 504, 'PROVIDER_TIMEOUT');
    const release = (await auditRecords(res.body.auditId)).find((r) => r.kind === 'release')!;
    expect(release.reasons).toEqual(['PROVIDER_TIMEOUT']);
    expect(release.fields.released).toEqual([]);
  });

  it('answers 502 PROVIDER_UNAVAILABLE when the provider fails', async () => {
    env.simulators['bif-jobcentre-system']!.setFault({ kind: 'status', status: 500 });
    const res = await post('sof-case-system', STATUS, { cpr: shared.cpr, fields: ['targetGroup'] });
    expectProblem(res, 502, 'PROVIDER_UNAVAILABLE');
  });

  it('does not forward a provider answer that breaks the response schema (502)', async () => {
    env.simulators['bif-jobcentre-system']!.setFault({ kind: 'schema-break' });
    const res = await post('sof-case-system', STATUS, {
      cpr: shared.cpr,
      fields: ['targetGroup', 'incomeSupport', 'jobcentreUnit', 'caseworkerContact', 'nextMeetingDate', 'sanctionInForceSince'],
    });
    expectProblem(res, 502, 'PROVIDER_RESPONSE_INVALID');
    expect(res.body.data).toBeUndefined();
  });

  it('answers 503 AUDIT_UNAVAILABLE and releases nothing when the audit store cannot write', async () => {
    const before = env.simulators['bif-jobcentre-system']!.requests;
    const blocker = new Database(path.join(env.dataDir, 'snitflade.db'));
    blocker.exec('BEGIN EXCLUSIVE');
    try {
      const res = await post('sof-case-system', STATUS, { cpr: shared.cpr, fields: ['targetGroup'] });
      expectProblem(res, 503, 'AUDIT_UNAVAILABLE');
      expect(res.body.data).toBeUndefined();
      expect(env.simulators['bif-jobcentre-system']!.requests).toBe(before);
    } finally {
      blocker.exec('ROLLBACK');
      blocker.close();
    }
    // and it serves again by itself once the store is back
    const again = await post('sof-case-system', STATUS, { cpr: shared.cpr, fields: ['targetGroup'] });
    expect(again.status).toBe(200);
  });
});

describe('catalogue and operations', () => {
  it('lists the contracts to a registered client', async () => {
    const c = tls('sof-case-system');
    const res = await request(env.url).get('/v1/contracts').ca(c.ca).cert(c.cert).key(c.key);
    expect(res.status).toBe(200);
    expect(res.body.contracts.map((x: { id: string }) => x.id)).toEqual(
      expect.arrayContaining(['employment.citizen-status.v1', 'social.coordination-summary.v1']),
    );
  });

  it('tells anyone only whether it is ready; the detail with certificate days left to the operators; metrics without personal data', async () => {
    const c = tls('sof-case-system');
    const summary = await request(env.url).get('/readyz').ca(c.ca);
    expect(summary.status).toBe(200);
    expect(summary.body).toEqual({ ready: true, reasons: [] });
    // The detail: a registered client with role operations, by its certificate.
    const ops = tls('ops-console');
    const ready = await request(env.url).get('/v1/admin/readiness').ca(ops.ca).cert(ops.cert).key(ops.key);
    expect(ready.status).toBe(200);
    expect(ready.body).toMatchObject({ ready: true, reasons: [] });
    expect(ready.body.rules.policySet).toBe(env.gateway.rules().policies.digest);
    expect(ready.body.store.writable).toBe(true);
    expect(ready.body.store.durability).toEqual({ setting: 'synchronous', value: 'FULL', durable: true });
    expect(ready.body.chain).toEqual({ id: env.config.instanceId, lease: 'held' });
    expect(ready.body.certificates[0]).toMatchObject({ name: 'gateway', valid: true });
    expect(ready.body.certificates[0].daysLeft).toBeGreaterThan(300);
    const metrics = await request(env.url).get('/metrics').ca(c.ca);
    expect(metrics.status).toBe(200);
    expect(metrics.text).toContain(
      'snitflade_requests_total{route="query",contract="employment.citizen-status.v1",outcome="ok",code="OK"}',
    );
    expect(metrics.text).toContain('snitflade_audit_write_duration_seconds_bucket');
    expect(metrics.text).not.toMatch(/="[^"]*[0-9]{6}-?[0-9]{4}[^"]*"/); // no CPR-shaped label value
  });

  it('gives the readiness detail to the operations role only: 401 without a certificate, 403 to another client, audited', async () => {
    const c = tls('sof-case-system');
    const anonymous = await request(env.url).get('/v1/admin/readiness').ca(c.ca);
    expectProblem(anonymous, 401, 'CERTIFICATE_REQUIRED');
    const other = await request(env.url).get('/v1/admin/readiness').ca(c.ca).cert(c.cert).key(c.key);
    expectProblem(other, 403, 'FORBIDDEN_ROLE');
    expect(other.body.policySet).toBeUndefined();
    expect((await auditRecords(other.body.auditId as string))[0]).toMatchObject({ kind: 'refusal', reasons: ['FORBIDDEN_ROLE'] });
  });

  it('uses only synthetic citizens', () => {
    expect(isSyntheticCpr(shared.cpr)).toBe(true);
  });
});
