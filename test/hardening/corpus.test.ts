/**
 * The bad-input corpus: several hundred hostile or broken requests, each a real HTTPS request
 * over mutual TLS against the real gateway and simulators. For every case:
 *   - the exact status and problem+json `code` (from src/errors.ts);
 *   - nothing reached a provider system (the simulators' request counters did not move);
 *   - no stack trace and no CPR number in the answer;
 *   - where the caller was identified, the refusal is in the audit trail under the problem's auditId;
 * and after each category the gateway still answers a normal request.
 */
import { callerDenyReasons } from '../../src/audit/reasons.js';
import { jest } from '@jest/globals';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CPR_WRITTEN_FORMS, mayHoldCpr } from '../../src/lib/cpr.js';
import { createCa, createCrl, issueCertificate } from '../../src/pki/devpki.js';
import { population } from '../../src/simulators/population.js';
import { startTestEnv, testCerts, TEST_CERTS, type TestEnv } from '../support/env.js';
import { SERVED_BY_BOTH, withRelations } from '../support/relations.js';
import {
  STACK_TRACE,
  bodyDigest,
  caOnly,
  claimsFor,
  clientCreds,
  compactJws,
  evidence,
  send,
  sendRaw,
  signingKeyPem,
  signingPubPem,
  testRsaKey,
  tlsKeyPem,
  tokenWith,
  withoutIds,
  type Answer,
  type Creds,
} from './support.js';

// Some cases (headers with tokens of the demo clients) are built while the tests are declared,
// so the development PKI must exist before that: on a fresh clone it does not yet.
await testCerts();

jest.setTimeout(60_000);

const STATUS = '/v1/queries/employment.citizen-status.v1';
const SUMMARY = '/v1/queries/social.coordination-summary.v1';
const SOF = 'sof-case-system';
const BIF = 'bif-jobcentre-system';

const citizens = population();
const shared = citizens.find((c) => c.employment && c.social && !c.extras.employment && !c.extras.social)!;
const CPR = shared.cpr;

/** A caller and a contract it may query; the token, body and schema categories run for each. */
interface Route {
  readonly client: string;
  readonly other: string;
  readonly path: string;
  readonly otherPath: string;
  readonly fields: readonly string[];
  readonly allFields: readonly string[];
  readonly foreignField: string;
}
const ROUTES: readonly Route[] = [
  {
    client: SOF,
    other: BIF,
    path: STATUS,
    otherPath: SUMMARY,
    fields: ['targetGroup'],
    allFields: [
      'targetGroup',
      'benefit',
      'incomeSupport',
      'jobcentreUnit',
      'caseworkerContact',
      'nextMeeting',
      'nextMeetingDate',
      'sanctions',
      'sanctionInForceSince',
    ],
    foreignField: 'openSocialCase',
  },
  {
    client: BIF,
    other: SOF,
    path: SUMMARY,
    otherPath: STATUS,
    fields: ['openSocialCase'],
    allFields: ['openSocialCase', 'socialCaseworkerContact', 'supportContact', 'actionPlan', 'efforts', 'socialEfforts', 'healthEfforts'],
    foreignField: 'targetGroup',
  },
];
const validBody = (r: Route): string => JSON.stringify({ cpr: CPR, fields: r.fields });

/** What one case sends and what it must get back. */
interface Case {
  readonly name: string;
  /** The registered client whose certificate is used (and who signs the default token). */
  readonly as?: string;
  /** Other TLS credentials: the caller is then not identified. */
  readonly creds?: () => Creds;
  readonly method?: string;
  readonly path?: string;
  readonly contentType?: string | null;
  readonly headers?: Record<string, string>;
  readonly body?: string | Buffer;
  /** Default: a valid token of `as` for this method, path and body bytes. null: none. */
  readonly token?: string | null | (() => string | Promise<string>);
  /** Raw bytes on a fresh connection instead of an HTTP client request. */
  readonly raw?: () => string | Buffer;
  readonly status: number;
  readonly code: string;
  /** Default: identified (no creds override, no raw); the public catalogue's refusals are not audited. */
  readonly audited?: boolean;
  /** For POLICY_DENIED: the reasons. */
  readonly reasons?: readonly string[];
  readonly check?: (res: Answer) => void;
}

// ---------------------------------------------------------------------------------------------
// Certificates for the transport cases, and the CRL the gateway is started with

let env: TestEnv;
let certs: Record<'rogue' | 'selfSigned' | 'expired' | 'notYet' | 'revoked' | 'serverOnly' | 'stranger', Creds>;
const counted: string[] = [];

function leaf(
  ca: { certPem: string; keyPem: string },
  o: Partial<Parameters<typeof issueCertificate>[0]> & { cn: string },
): Creds & { serial: string } {
  const issued = issueCertificate({ ca, eku: ['clientAuth'], keyPem: testRsaKey(2), ...o });
  return { ca: caOnly().ca, cert: issued.certPem, key: issued.keyPem, serial: new X509Certificate(issued.certPem).serialNumber };
}

beforeAll(async () => {
  await testCerts();
  const ca = {
    certPem: readFileSync(path.join(TEST_CERTS, 'ca', 'ca.crt.pem'), 'utf8'),
    keyPem: readFileSync(path.join(TEST_CERTS, 'ca', 'ca.key.pem'), 'utf8'),
  };
  const day = 86_400_000;
  const rogueCa = createCa({ cn: 'Rogue CA', keyPem: testRsaKey(0) });
  const selfSigned = createCa({ cn: SOF, keyPem: testRsaKey(1) });
  const revoked = leaf(ca, { cn: SOF });
  certs = {
    rogue: leaf(rogueCa, { cn: SOF }),
    selfSigned: { ca: caOnly().ca, cert: selfSigned.certPem, key: selfSigned.keyPem },
    expired: leaf(ca, { cn: SOF, notBefore: new Date(Date.now() - 30 * day), notAfter: new Date(Date.now() - day) }),
    notYet: leaf(ca, { cn: SOF, notBefore: new Date(Date.now() + day), notAfter: new Date(Date.now() + 30 * day) }),
    revoked,
    serverOnly: leaf(ca, { cn: SOF, eku: ['serverAuth'] }),
    stranger: leaf(ca, { cn: 'unregistered-system' }),
  };
  const data = mkdtempSync(path.join(os.tmpdir(), 'snitflade-corpus-'));
  const crl = path.join(data, 'crl.pem');
  writeFileSync(crl, createCrl(ca, [revoked.serial]));
  env = await startTestEnv({
    name: 'hardening-corpus',
    overrides: {
      paths: { certs: TEST_CERTS, data, crl },
      limits: { ratePerSecond: 100_000, burst: 100_000, concurrency: 1000 },
      upstream: { timeoutMs: 2000, maxResponseBytes: 1048576 },
    },
  });
  // Need to know: both administrations serve the citizen of the well-formed requests.
  await withRelations(env, CPR, SERVED_BY_BOTH);
});

afterAll(async () => {
  process.stdout.write(`\nbad-input corpus: ${counted.length} cases, each a real request over mutual TLS\n`);
  await env?.close();
});

const providerRequests = (): number => Object.values(env.simulators).reduce((n, s) => n + s.requests, 0);

async function run(c: Case): Promise<void> {
  const as = c.as ?? SOF;
  const method = c.method ?? 'POST';
  const urlPath = c.path ?? STATUS;
  const body = c.body ?? (method === 'POST' ? JSON.stringify({ cpr: CPR, fields: ['targetGroup'] }) : undefined);
  let token: string | null;
  if (c.token === undefined) token = body === undefined ? null : tokenWith(as, urlPath.split('?')[0]!, body);
  else token = typeof c.token === 'function' ? await c.token() : c.token;
  const headers: Record<string, string> = {};
  const contentType = c.contentType === undefined ? (method === 'POST' ? 'application/json' : null) : c.contentType;
  if (contentType !== null) headers['content-type'] = contentType;
  if (token !== null) headers.authorization = `Bearer ${token}`;
  Object.assign(headers, c.headers ?? {});
  const identified = c.creds === undefined && c.raw === undefined;
  const audited = c.audited ?? identified;

  const before = providerRequests();
  const res = c.raw
    ? await sendRaw(env.running.port, clientCreds(as), c.raw())
    : await send(env.url, {
        method,
        path: urlPath,
        headers,
        ...(body !== undefined ? { body } : {}),
        creds: c.creds ? c.creds() : clientCreds(as),
        fresh: c.creds !== undefined,
      });
  counted.push(c.name);
  evidence('corpus', 'error-response', res.text);

  expect({ status: res.status, code: res.json?.code }).toEqual({ status: c.status, code: c.code });
  expect(String(res.headers['content-type'])).toMatch(/^application\/problem\+json/);
  expect(res.json.status).toBe(c.status);
  expect(res.text).not.toMatch(STACK_TRACE);
  expect(mayHoldCpr(res.text)).toBe(false);
  expect(res.text).not.toContain(CPR);
  expect(providerRequests()).toBe(before);
  if (c.reasons) expect(res.json.reasons).toEqual(c.reasons);
  if (audited) {
    expect(res.json.auditId).toEqual(expect.any(String));
    const { records } = await env.gateway.store.audit.search({ auditId: res.json.auditId, limit: 10 });
    expect(records).toHaveLength(1);
    const record = records[0]!;
    expect(record.caller?.system).toBe(as);
    expect(record.status).toBe(c.status);
    if (c.code === 'POLICY_DENIED' || c.code === 'CONSENT_REQUIRED')
      expect({ ...record, reasons: callerDenyReasons(record.reasons) }).toMatchObject({
        kind: 'decision',
        decision: 'deny',
        reasons: res.json.reasons,
      });
    else expect(record).toMatchObject({ kind: 'refusal', reasons: [c.code] });
    expect(JSON.stringify(record)).not.toContain(CPR);
    expect(mayHoldCpr(JSON.stringify(record))).toBe(false);
  } else {
    expect(res.json.auditId).toBeUndefined();
  }
  c.check?.(res);
}

/** One normal query: the gateway still serves after a category of hostile input. */
async function stillServes(r: Route = ROUTES[0]!): Promise<void> {
  const body = validBody(r);
  const res = await send(env.url, {
    path: r.path,
    headers: { 'content-type': 'application/json', authorization: `Bearer ${tokenWith(r.client, r.path, body)}` },
    body,
    creds: clientCreds(r.client),
  });
  expect(res.status).toBe(200);
  expect(res.json.disclosure.released).toEqual(r.fields);
}

function category(title: string, cases: () => readonly Case[]): void {
  describe(title, () => {
    const list = cases();
    it.each(list.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
      await run(c);
    });
    it(`still serves a normal request after the ${title} cases`, async () => {
      await stillServes();
      await stillServes(ROUTES[1]);
    });
  });
}

// ---------------------------------------------------------------------------------------------
// 1 transport: who is at the other end of the TLS connection

category('transport', () => {
  const c = (name: string, creds: () => Creds, code: string, method = 'POST', p = STATUS): Case => ({
    name,
    creds,
    code,
    status: 401,
    method,
    path: p,
  });
  return [
    c('no client certificate', () => caOnly(), 'CERTIFICATE_REQUIRED'),
    c('no client certificate, catalogue', () => caOnly(), 'CERTIFICATE_REQUIRED', 'GET', '/v1/contracts'),
    c('a certificate from an unknown CA naming a registered system', () => certs.rogue, 'CERTIFICATE_UNTRUSTED'),
    c('a self-signed certificate naming a registered system', () => certs.selfSigned, 'CERTIFICATE_UNTRUSTED'),
    c('an expired certificate from the trusted CA', () => certs.expired, 'CERTIFICATE_UNTRUSTED'),
    c('a not-yet-valid certificate from the trusted CA', () => certs.notYet, 'CERTIFICATE_UNTRUSTED'),
    c('a revoked certificate (on the CRL)', () => certs.revoked, 'CERTIFICATE_UNTRUSTED'),
    c('a revoked certificate, catalogue', () => certs.revoked, 'CERTIFICATE_UNTRUSTED', 'GET', '/v1/contracts'),
    c('a server-only certificate (EKU serverAuth) used as a client certificate', () => certs.serverOnly, 'CERTIFICATE_UNTRUSTED'),
    c('a trusted certificate of an unregistered system', () => certs.stranger, 'CLIENT_UNKNOWN'),
    c('a trusted certificate of an unregistered system, unknown path', () => certs.stranger, 'CLIENT_UNKNOWN', 'POST', '/v1/anything'),
  ];
});

// ---------------------------------------------------------------------------------------------
// 2 method and path

category('method and path', () => {
  const cases: Case[] = [];
  for (const p of [STATUS, SUMMARY]) {
    for (const method of ['GET', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'TRACE']) {
      cases.push({
        name: `${method} on ${p}`,
        method,
        path: p,
        contentType: null,
        token: null,
        status: 405,
        code: 'METHOD_NOT_ALLOWED',
        check: (r) => expect(r.headers.allow).toBe('POST'),
      });
    }
  }
  for (const p of [
    '/v1/queries',
    '/v1/queries/',
    '/v1/query/employment.citizen-status.v1',
    '/v2/queries/employment.citizen-status.v1',
    `${STATUS}/extra`,
    `/${STATUS}`,
    '/v1/notifications-typo/x',
    '/v1/queries/employment.citizen-status.v1;x/y',
  ]) {
    cases.push({ name: `POST to ${p}`, path: p, status: 404, code: 'NOT_FOUND' });
  }
  for (const p of ['/', '/v1', '/admin', '/.env', '/v1/queries/../../etc/passwd', '/server-status']) {
    cases.push({ name: `GET ${p}`, method: 'GET', path: p, contentType: null, token: null, status: 404, code: 'NOT_FOUND' });
  }
  const unknownIds = [
    'employment.citizen-status.v9',
    'employment.citizen-status',
    'EMPLOYMENT.CITIZEN-STATUS.V1',
    'employment.citizen-status.v1.',
    '%2e%2e',
    'employment.citizen-status.v1%00',
    'employment.citizen-status.v1%2F..%2Fsocial.coordination-summary.v1',
    'a'.repeat(180),
    '%C3%A6%C3%B8%C3%A5',
    encodeURIComponent("'; DROP TABLE audit_record; --"),
    encodeURIComponent('<script>alert(1)</script>'),
    '__proto__',
    'constructor',
    'hasOwnProperty',
    'toString',
  ];
  // A path the token cannot name (htu is at most 200 printable characters).
  cases.push({
    name: 'a contract id of 2000 characters',
    path: `/v1/queries/${'a'.repeat(2000)}`,
    status: 401,
    code: 'TOKEN_CLAIM_MISSING',
  });
  // htu is only compared with the path (a path may hold a random id with a CPR-shaped run): a CPR
  // number in place of the contract id is an unknown contract, refused and audited without it.
  cases.push({ name: 'a CPR number as the contract id', path: `/v1/queries/${CPR}`, status: 404, code: 'CONTRACT_UNKNOWN' });
  for (const id of unknownIds) {
    cases.push({
      name: `unknown contract id ${id.length > 40 ? `${id.slice(0, 12)}... (${id.length} chars)` : id === CPR ? '(a CPR number)' : id}`,
      path: `/v1/queries/${id}`,
      status: 404,
      code: 'CONTRACT_UNKNOWN',
    });
  }
  for (const id of ['nope.v1', '__proto__', 'constructor', CPR]) {
    cases.push({
      name: `GET /v1/contracts/${id === CPR ? '(a CPR number)' : id}`,
      method: 'GET',
      path: `/v1/contracts/${id}`,
      contentType: null,
      token: null,
      status: 404,
      code: 'CONTRACT_UNKNOWN',
      audited: false,
    });
  }
  // Nothing after the path: refused before the caller is identified, so not audited (query-string.e2e.test.ts has more).
  for (const [name, p] of [
    ['a CPR number in the query string', `${STATUS}?cpr=${CPR}`],
    ['a bare "?" after the path', `${STATUS}?`],
    ['a CPR number in the query string of a notification path', `/v1/notifications/employment.sanction-notice.v1?${CPR}`],
  ] as const) {
    cases.push({ name, path: p, status: 400, code: 'QUERY_STRING_NOT_ALLOWED', audited: false });
  }
  cases.push({
    name: 'a CPR number in a fragment, the token minted for it',
    path: `${STATUS}#${CPR}`,
    status: 400,
    code: 'HTTP_MALFORMED',
    audited: false,
  });
  cases.push({ name: 'a path that cannot be percent-decoded', path: '/v1/queries/%ZZ', status: 400, code: 'HTTP_MALFORMED' });
  cases.push({
    name: 'a path with an encoded NUL that cannot be decoded as UTF-8',
    path: '/v1/queries/%C0%80',
    status: 400,
    code: 'HTTP_MALFORMED',
  });
  return cases;
});

// ---------------------------------------------------------------------------------------------
// 3 headers: media type, content encoding, request id, size

category('headers', () => {
  const cases: Case[] = [];
  for (const ct of [
    null,
    'text/plain',
    'application/x-www-form-urlencoded',
    'multipart/form-data; boundary=x',
    'application/xml',
    'text/json',
    'application/problem+json',
    'application/json-patch+json',
    'application/jsonx',
    'application/octet-stream',
    'application',
    '*/*',
  ]) {
    cases.push({ name: `content type ${ct ?? '(none)'}`, contentType: ct, status: 415, code: 'UNSUPPORTED_MEDIA_TYPE' });
  }
  for (const enc of ['gzip', 'deflate', 'br', 'compress']) {
    cases.push({ name: `content encoding ${enc}`, headers: { 'content-encoding': enc }, status: 415, code: 'UNSUPPORTED_MEDIA_TYPE' });
  }
  for (const id of [CPR, `${CPR.slice(0, 6)}-${CPR.slice(6)}`, `req-${CPR}`]) {
    cases.push({
      name: `a request id holding a CPR number (${id.length} chars) is not echoed or audited`,
      headers: { 'x-request-id': id },
      token: null,
      status: 401,
      code: 'TOKEN_MISSING',
      check: (r) => {
        expect(r.headers['x-request-id']).not.toContain(CPR.slice(6));
        expect(r.json.requestId).not.toContain(CPR.slice(6));
      },
    });
  }
  cases.push({
    name: 'a header larger than 16 KiB',
    headers: { 'x-padding': 'a'.repeat(17_000) },
    status: 431,
    code: 'HEADERS_TOO_LARGE',
    audited: false,
  });
  cases.push({
    name: 'an Authorization header larger than 16 KiB',
    token: `${'a'.repeat(9000)}.${'b'.repeat(9000)}.c`,
    status: 431,
    code: 'HEADERS_TOO_LARGE',
    audited: false,
  });
  cases.push({
    name: 'many headers adding up to more than 16 KiB',
    headers: Object.fromEntries(Array.from({ length: 90 }, (_, i) => [`x-h${i}`, 'v'.repeat(200)])),
    status: 431,
    code: 'HEADERS_TOO_LARGE',
    audited: false,
  });
  return cases;
});

// ---------------------------------------------------------------------------------------------
// 4 HTTP framing: requests Node's parser refuses before the app (raw bytes)

category('HTTP framing', () => {
  const P = STATUS;
  const raw = (name: string, bytes: string, status = 400, code = 'HTTP_MALFORMED'): Case => ({ name, raw: () => bytes, status, code });
  return [
    raw(
      'Content-Length and Transfer-Encoding together (smuggling)',
      `POST ${P} HTTP/1.1\r\nHost: localhost\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`,
    ),
    raw(
      'two different Content-Length headers',
      `POST ${P} HTTP/1.1\r\nHost: localhost\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n{}{}{}`,
    ),
    raw('a negative Content-Length', `POST ${P} HTTP/1.1\r\nHost: localhost\r\nContent-Length: -1\r\n\r\n`),
    raw('a non-numeric Content-Length', `POST ${P} HTTP/1.1\r\nHost: localhost\r\nContent-Length: abc\r\n\r\n`),
    raw('Transfer-Encoding not ending in chunked', `POST ${P} HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked, gzip\r\n\r\n`),
    raw('Transfer-Encoding identity', `POST ${P} HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: identity\r\n\r\n`),
    raw('an invalid chunk size', `POST ${P} HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n\r\n`),
    raw('a space before the header colon', `POST ${P} HTTP/1.1\r\nHost: localhost\r\nContent-Type : application/json\r\n\r\n`),
    raw('an obsolete folded header line', `POST ${P} HTTP/1.1\r\nHost: localhost\r\nX-A: a\r\n  b\r\nContent-Length: 0\r\n\r\n`),
    raw('bare LF line endings', `POST ${P} HTTP/1.1\nHost: localhost\nContent-Length: 0\n\n`),
    raw('a NUL byte in a header value', `POST ${P} HTTP/1.1\r\nHost: localhost\r\nX-A: a\u0000b\r\n\r\n`),
    raw('an invalid method token', `PO ST ${P} HTTP/1.1\r\nHost: localhost\r\n\r\n`),
    raw('HTTP version 1.2', `POST ${P} HTTP/1.2\r\nHost: localhost\r\n\r\n`),
    raw('a control character in the path', `POST /v1/queries/a\u0001b HTTP/1.1\r\nHost: localhost\r\n\r\n`),
    raw('TLS-looking garbage instead of a request line', `\u0016\u0003\u0001 garbage\r\n\r\n`),
    raw('HTTP/1.1 without Host', `POST ${P} HTTP/1.1\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}`),
    raw(
      'a request line longer than 16 KiB',
      `POST ${P}?${'a'.repeat(20_000)} HTTP/1.1\r\nHost: localhost\r\n\r\n`,
      431,
      'HEADERS_TOO_LARGE',
    ),
    raw('CONNECT (the gateway is no proxy)', `CONNECT localhost:443 HTTP/1.1\r\nHost: localhost\r\n\r\n`, 405, 'METHOD_NOT_ALLOWED'),
  ];
});

// ---------------------------------------------------------------------------------------------
// 5 the Authorization header and the token's shape

for (const r of ROUTES) {
  category(`token shape (${r.client})`, () => {
    const body = validBody(r);
    const good = (): string => tokenWith(r.client, r.path, body);
    const base = { as: r.client, path: r.path, body };
    const hdr = (name: string, value: string, code: string): Case => ({
      ...base,
      name,
      token: null,
      headers: { authorization: value },
      status: 401,
      code,
    });
    const tok = (name: string, token: () => string, code: string): Case => ({ ...base, name, token, status: 401, code });
    const seg = (o: unknown): string => Buffer.from(typeof o === 'string' ? o : JSON.stringify(o)).toString('base64url');
    const parts = (): string[] => good().split('.');
    return [
      { ...base, name: 'no Authorization header', token: null, status: 401, code: 'TOKEN_MISSING' },
      hdr('an empty Authorization header', '', 'TOKEN_MISSING'),
      hdr('"Bearer" without a token', 'Bearer', 'TOKEN_MALFORMED'),
      hdr('"Bearer " with an empty token', 'Bearer ', 'TOKEN_MALFORMED'),
      hdr('lower-case scheme "bearer"', `bearer ${good()}`, 'TOKEN_MALFORMED'),
      hdr('Basic credentials', `Basic ${Buffer.from('user:pass').toString('base64')}`, 'TOKEN_MALFORMED'),
      hdr('Digest credentials', 'Digest username="x", realm="y"', 'TOKEN_MALFORMED'),
      hdr('two tokens', `Bearer ${good()} ${good()}`, 'TOKEN_MALFORMED'),
      hdr('two spaces after Bearer', `Bearer  ${good()}`, 'TOKEN_MALFORMED'),
      hdr('a token without the scheme', good(), 'TOKEN_MALFORMED'),
      hdr('a trailing comma', `Bearer ${good()},`, 'TOKEN_MALFORMED'),
      hdr('two segments', 'Bearer aaaa.bbbb', 'TOKEN_MALFORMED'),
      hdr('four segments', `Bearer ${good()}.dddd`, 'TOKEN_MALFORMED'),
      hdr('a JWE (five segments)', 'Bearer eyJhbGciOiJSU0EtT0FFUCJ9.aaaa.bbbb.cccc.dddd', 'TOKEN_MALFORMED'),
      hdr('base64 padding in a segment', `Bearer ${good()}==`, 'TOKEN_MALFORMED'),
      hdr('standard base64 characters + and /', `Bearer ${good().replace(/.$/, '+/')}`, 'TOKEN_MALFORMED'),
      hdr('a header segment longer than 4096 characters', `Bearer ${'a'.repeat(5000)}.${parts()[1]}.${parts()[2]}`, 'TOKEN_MALFORMED'),
      tok('a header segment that is not base64 JSON', () => `abcd.${parts()[1]}.${parts()[2]}`, 'TOKEN_MALFORMED'),
      tok('a header that is a JSON array', () => `${seg(['ES256'])}.${parts()[1]}.${parts()[2]}`, 'TOKEN_MALFORMED'),
      tok('a header that is a JSON string', () => `${seg('"ES256"')}.${parts()[1]}.${parts()[2]}`, 'TOKEN_MALFORMED'),
      tok(
        'a payload that is not JSON',
        () => compactJws({ alg: 'ES256', kid: `${r.client}-1` }, 'not json', { alg: 'ES256', keyPem: signingKeyPem(r.client) }),
        'TOKEN_MALFORMED',
      ),
      tok(
        'a payload that is a JSON array',
        () => compactJws({ alg: 'ES256', kid: `${r.client}-1` }, [1, 2], { alg: 'ES256', keyPem: signingKeyPem(r.client) }),
        'TOKEN_MALFORMED',
      ),
      tok('an empty signature', () => `${parts()[0]}.${parts()[1]}.`, 'TOKEN_SIGNATURE_INVALID'),
      tok('a truncated signature', () => `${parts()[0]}.${parts()[1]}.${parts()[2]!.slice(0, 40)}`, 'TOKEN_SIGNATURE_INVALID'),
      tok(
        'the signature of another token',
        () => `${parts()[0]}.${parts()[1]}.${tokenWith(r.client, r.path, body).split('.')[2]}`,
        'TOKEN_SIGNATURE_INVALID',
      ),
      tok(
        'a payload changed after signing',
        () => {
          const [a, , c] = parts();
          const claims = { ...claimsFor(r.client, r.path, body), purpose: 'whole-person-plan' };
          return `${a}.${seg(claims)}.${c}`;
        },
        'TOKEN_SIGNATURE_INVALID',
      ),
      tok(
        'no alg in the header',
        () =>
          compactJws({ typ: 'JWT', kid: `${r.client}-1` }, claimsFor(r.client, r.path, body), {
            alg: 'ES256',
            keyPem: signingKeyPem(r.client),
          }),
        'TOKEN_ALG_NOT_ALLOWED',
      ),
    ];
  });
}

// ---------------------------------------------------------------------------------------------
// 6 the token's algorithm, headers, key, times, audience, claims and binding

for (const r of ROUTES) {
  category(`token content (${r.client})`, () => {
    const body = validBody(r);
    const base = { as: r.client, path: r.path, body };
    const now = (): number => Math.floor(Date.now() / 1000);
    // Changes are made when the token is minted, so that times are relative to the request.
    const t = (
      name: string,
      code: string,
      change: Parameters<typeof tokenWith>[3] | (() => Parameters<typeof tokenWith>[3]),
      status = 401,
    ): Case => ({
      ...base,
      name,
      token: () => tokenWith(r.client, r.path, body, typeof change === 'function' ? change() : change),
      status,
      code,
    });
    const signed = (name: string, code: string, token: () => string): Case => ({ ...base, name, token, status: 401, code });
    const claims = (): Record<string, unknown> => claimsFor(r.client, r.path, body);
    const cases: Case[] = [
      // algorithms
      signed('alg none', 'TOKEN_ALG_NOT_ALLOWED', () => compactJws({ alg: 'none', typ: 'JWT' }, claims(), { alg: 'none' })),
      signed('alg None', 'TOKEN_ALG_NOT_ALLOWED', () => compactJws({ alg: 'None' }, claims(), { alg: 'none' })),
      signed('alg NONE with a kid', 'TOKEN_ALG_NOT_ALLOWED', () =>
        compactJws({ alg: 'NONE', kid: `${r.client}-1` }, claims(), { alg: 'none' }),
      ),
      signed('HS256 with the registered public key as the HMAC secret', 'TOKEN_ALG_NOT_ALLOWED', () =>
        compactJws({ alg: 'HS256', kid: `${r.client}-1` }, claims(), { alg: 'HS256', secret: signingPubPem(r.client) }),
      ),
      signed('HS384 with the public key as secret', 'TOKEN_ALG_NOT_ALLOWED', () =>
        compactJws({ alg: 'HS384' }, claims(), { alg: 'HS384', secret: signingPubPem(r.client) }),
      ),
      signed('HS512 with the public key as secret', 'TOKEN_ALG_NOT_ALLOWED', () =>
        compactJws({ alg: 'HS512' }, claims(), { alg: 'HS512', secret: signingPubPem(r.client) }),
      ),
      signed("RS256 signed with the client's TLS key", 'TOKEN_ALG_NOT_ALLOWED', () =>
        compactJws({ alg: 'RS256', kid: `${r.client}-1` }, claims(), { alg: 'RS256', keyPem: tlsKeyPem(r.client) }),
      ),
      signed('PS256 header', 'TOKEN_ALG_NOT_ALLOWED', () =>
        compactJws({ alg: 'PS256' }, claims(), { alg: 'RS256', keyPem: tlsKeyPem(r.client) }),
      ),
      t('ES384 header on an ES256 signature', 'TOKEN_ALG_NOT_ALLOWED', { header: { alg: 'ES384' } }),
      t('ES512 header', 'TOKEN_ALG_NOT_ALLOWED', { header: { alg: 'ES512' } }),
      t('EdDSA header for an ES256 key', 'TOKEN_ALG_NOT_ALLOWED', { header: { alg: 'EdDSA' } }),
      t('an empty alg', 'TOKEN_ALG_NOT_ALLOWED', { header: { alg: '' } }),
      t('alg as a number', 'TOKEN_ALG_NOT_ALLOWED', { header: { alg: 256 } }),
      t('alg in lower case', 'TOKEN_ALG_NOT_ALLOWED', { header: { alg: 'es256' } }),
      // headers that would take the key from the token
      t('a jku header', 'TOKEN_HEADER_NOT_ALLOWED', { header: { jku: 'https://attacker.example/jwks.json' } }),
      t('an x5u header', 'TOKEN_HEADER_NOT_ALLOWED', { header: { x5u: 'https://attacker.example/cert.pem' } }),
      t('an embedded jwk header', 'TOKEN_HEADER_NOT_ALLOWED', { header: { jwk: { kty: 'EC', crv: 'P-256', x: 'AAAA', y: 'BBBB' } } }),
      t('an x5c header', 'TOKEN_HEADER_NOT_ALLOWED', { header: { x5c: ['MIIB'] } }),
      t('an x5t header', 'TOKEN_HEADER_NOT_ALLOWED', { header: { x5t: 'abcd' } }),
      t('a crit header', 'TOKEN_HEADER_NOT_ALLOWED', { header: { crit: ['exp'] } }),
      t('b64 false', 'TOKEN_HEADER_NOT_ALLOWED', { header: { b64: false } }),
      t('a cty header', 'TOKEN_HEADER_NOT_ALLOWED', { header: { cty: 'JWT' } }),
      t('a zip header', 'TOKEN_HEADER_NOT_ALLOWED', { header: { zip: 'DEF' } }),
      t('an enc header', 'TOKEN_HEADER_NOT_ALLOWED', { header: { enc: 'A256GCM' } }),
      // keys
      t('an unknown kid', 'TOKEN_KEY_UNKNOWN', { header: { kid: 'nope' } }),
      t("another client's kid", 'TOKEN_KEY_UNKNOWN', { header: { kid: `${r.other}-1` } }),
      t('an empty kid', 'TOKEN_KEY_UNKNOWN', { header: { kid: '' } }),
      t('a path in the kid', 'TOKEN_KEY_UNKNOWN', { header: { kid: '../../../../etc/passwd' } }),
      t('a kid as a number', 'TOKEN_KEY_UNKNOWN', { header: { kid: 1 } }),
      signed("signed with another client's key, claiming to be this client", 'TOKEN_SIGNATURE_INVALID', () =>
        compactJws({ alg: 'ES256', kid: `${r.client}-1` }, claims(), { alg: 'ES256', keyPem: signingKeyPem(r.other) }),
      ),
      // times
      t('expired ten minutes ago', 'TOKEN_EXPIRED', () => ({ claims: { iat: now() - 660, exp: now() - 600 } })),
      t('expired just beyond the clock tolerance', 'TOKEN_EXPIRED', () => ({ claims: { iat: now() - 100, exp: now() - 45 } })),
      t('not before ten minutes from now', 'TOKEN_NOT_YET_VALID', () => ({ claims: { nbf: now() + 600 } })),
      t('issued a year from now', 'TOKEN_NOT_YET_VALID', () => ({ claims: { iat: now() + 31_536_000, exp: now() + 31_536_060 } })),
      t('issued two minutes from now', 'TOKEN_NOT_YET_VALID', () => ({ claims: { iat: now() + 120, exp: now() + 180 } })),
      t('a lifetime of 301 seconds', 'TOKEN_LIFETIME_TOO_LONG', () => ({ claims: { exp: now() + 301 } })),
      t('a lifetime of a day', 'TOKEN_LIFETIME_TOO_LONG', () => ({ claims: { exp: now() + 86_400 } })),
      t('a lifetime of ten years', 'TOKEN_LIFETIME_TOO_LONG', () => ({ claims: { exp: now() + 315_360_000 } })),
      t('expiring before it was issued', 'TOKEN_LIFETIME_INVALID', () => ({ claims: { iat: now(), exp: now() - 1 } })),
      t('expiring the second it was issued', 'TOKEN_LIFETIME_INVALID', () => ({ claims: { iat: now(), exp: now() } })),
      t('exp as a string', 'TOKEN_CLAIM_MISSING', () => ({ claims: { exp: String(now() + 60) } })),
      t('iat as a string', 'TOKEN_CLAIM_MISSING', () => ({ claims: { iat: String(now()) } })),
      // audience
      t('the audience of another gateway', 'TOKEN_AUDIENCE_INVALID', { claims: { aud: 'other-gateway' } }),
      t('an audience list without this gateway', 'TOKEN_AUDIENCE_INVALID', { claims: { aud: ['other-gateway', 'third'] } }),
      t('an empty audience', 'TOKEN_AUDIENCE_INVALID', { claims: { aud: '' } }),
      t('the audience in upper case', 'TOKEN_AUDIENCE_INVALID', { claims: { aud: 'SNITFLADE-GATEWAY' } }),
      t('the provider system as audience', 'TOKEN_AUDIENCE_INVALID', { claims: { aud: r.other } }),
      // issuer
      t("the issuer of another client, signed with this client's key", 'TOKEN_ISSUER_MISMATCH', { claims: { iss: r.other } }),
      t('an issuer that is a number', 'TOKEN_ISSUER_MISMATCH', { claims: { iss: 42 } }),
      signed("another client's own valid token on this connection", 'TOKEN_ISSUER_MISMATCH', () => tokenWith(r.other, r.path, body)),
      // claims: missing, wrong type, bad value
      ...['iss', 'aud', 'iat', 'exp', 'jti', 'sub', 'purpose', 'case', 'htm', 'htu', 'body_sha256'].map((name) =>
        t(`without ${name}`, 'TOKEN_CLAIM_MISSING', { drop: [name] }),
      ),
      ...(
        [
          ['sub', 42],
          ['purpose', 42],
          ['case', true],
          ['jti', 7],
          ['htm', 1],
          ['htu', {}],
          ['body_sha256', []],
          ['sub', null],
        ] as const
      ).map(([name, value]) => t(`${name} as ${JSON.stringify(value)}`, 'TOKEN_CLAIM_MISSING', { claims: { [name]: value } })),
      t('a CPR number as the caseworker', 'TOKEN_CLAIM_MISSING', { claims: { sub: CPR } }),
      t('a CPR number in the case reference', 'TOKEN_CLAIM_MISSING', { claims: { case: `SAG-${CPR.slice(0, 6)}-${CPR.slice(6)}` } }),
      t('a caseworker id of 201 characters', 'TOKEN_CLAIM_MISSING', { claims: { sub: 'c'.repeat(201) } }),
      t('an empty caseworker id', 'TOKEN_CLAIM_MISSING', { claims: { sub: '' } }),
      t('a newline in the purpose', 'TOKEN_CLAIM_MISSING', { claims: { purpose: 'plan-coordination\nadmin' } }),
      t('non-ASCII in the caseworker id', 'TOKEN_CLAIM_MISSING', { claims: { sub: 'sagsbehandler-Søren' } }),
      t('a purpose not in the registry', 'PURPOSE_UNKNOWN', { claims: { purpose: 'curiosity' } }, 400),
      t('__proto__ as purpose', 'PURPOSE_UNKNOWN', { claims: { purpose: '__proto__' } }, 400),
      // binding to this request
      t('minted for GET', 'TOKEN_REQUEST_MISMATCH', { claims: { htm: 'GET' } }),
      t('minted for "post" in lower case', 'TOKEN_REQUEST_MISMATCH', { claims: { htm: 'post' } }),
      t('minted for another contract', 'TOKEN_REQUEST_MISMATCH', { claims: { htu: r.otherPath } }),
      t('minted for the path with a trailing slash', 'TOKEN_REQUEST_MISMATCH', { claims: { htu: `${r.path}/` } }),
      t('minted for the full URL', 'TOKEN_REQUEST_MISMATCH', { claims: { htu: `https://localhost${r.path}` } }),
      t('minted for another body (another citizen)', 'TOKEN_BODY_MISMATCH', {
        claims: { body_sha256: bodyDigest(JSON.stringify({ cpr: citizens[7]!.cpr, fields: r.fields })) },
      }),
      t('the body digest in hex', 'TOKEN_BODY_MISMATCH', {
        claims: { body_sha256: Buffer.from(bodyDigest(body), 'base64url').toString('hex') },
      }),
      t('the digest of the body with a trailing newline', 'TOKEN_BODY_MISMATCH', { claims: { body_sha256: bodyDigest(`${body}\n`) } }),
      t('minted for more fields than sent', 'TOKEN_BODY_MISMATCH', {
        claims: { body_sha256: bodyDigest(JSON.stringify({ cpr: CPR, fields: r.allFields })) },
      }),
      {
        ...base,
        name: 'the body changed after signing (whitespace)',
        body: `${body} `,
        token: () => tokenWith(r.client, r.path, body),
        status: 401,
        code: 'TOKEN_BODY_MISMATCH',
      },
    ];
    // Replays: the first use is served, the second refused.
    const replay = (name: string, second: (first: string) => string): Case => ({
      ...base,
      name,
      token: async () => {
        const first = tokenWith(r.client, r.path, body);
        const ok = await send(env.url, {
          path: r.path,
          headers: { 'content-type': 'application/json', authorization: `Bearer ${first}` },
          body,
          creds: clientCreds(r.client),
        });
        expect(ok.status).toBe(200);
        return second(first);
      },
      status: 401,
      code: 'TOKEN_REPLAYED',
    });
    cases.push(replay('a replayed token', (first) => first));
    cases.push(
      replay('a new token reusing a used jti', (first) =>
        tokenWith(r.client, r.path, body, { claims: { jti: JSON.parse(Buffer.from(first.split('.')[1]!, 'base64url').toString()).jti } }),
      ),
    );
    return cases;
  });
}

// ---------------------------------------------------------------------------------------------
// 7 the body as bytes and JSON (each signed as sent, so the body check is reached)

for (const r of ROUTES) {
  category(`body syntax (${r.client})`, () => {
    const base = { as: r.client, path: r.path };
    const valid = validBody(r);
    const m = (name: string, body: string | Buffer): Case => ({ ...base, name, body, status: 400, code: 'BODY_MALFORMED' });
    const u8 = (...parts: (string | number[])[]): Buffer =>
      Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p) : Buffer.from(p))));
    const nest = (n: number, open: string, close: string): string => `{"cpr":"${CPR}","fields":${open.repeat(n)}${close.repeat(n)}}`;
    const fields = JSON.stringify(r.fields);
    return [
      m('an empty body', ''),
      m('only whitespace', '   \n'),
      m('null', 'null'),
      m('true', 'true'),
      m('a number', '42'),
      m('a string', '"text"'),
      m('an array', '[]'),
      m('an array holding the object', `[${valid}]`),
      m('an unterminated object', '{'),
      m('a lone closing brace', '}'),
      m('a missing value', '{"cpr":}'),
      m('a trailing comma', `{"cpr":"${CPR}","fields":${fields},}`),
      m('single quotes', `{'cpr':'${CPR}'}`),
      m('unquoted keys', `{cpr:"${CPR}"}`),
      m('a line comment', `${valid} // note`),
      m('a block comment', `/* note */${valid}`),
      m('NaN', '{"a":NaN}'),
      m('Infinity', '{"a":Infinity}'),
      m('-Infinity', '{"a":-Infinity}'),
      m('undefined', '{"a":undefined}'),
      m('a leading zero', '{"a":01}'),
      m('a hex number', '{"a":0x10}'),
      m('a bare fraction', '{"a":.5}'),
      m('a raw control character in a string', `{"cpr":"${CPR}\u0001","fields":${fields}}`),
      m('a raw tab in a string', `{"cpr":"\t${CPR}","fields":${fields}}`),
      m('a raw NUL in a string', `{"cpr":"${CPR}\u0000","fields":${fields}}`),
      m('an invalid escape', '{"a":"\\x41"}'),
      m('a short unicode escape', '{"a":"\\u12"}'),
      m('trailing text', `${valid} trailing`),
      m('two objects', `${valid}${valid}`),
      m('XML', `<query><cpr>${CPR}</cpr></query>`),
      m('form encoding', `cpr=${CPR}&fields=targetGroup`),
      m('UTF-16LE with a byte order mark', Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(valid, 'utf16le')])),
      m('UTF-16LE without a byte order mark', Buffer.from(valid, 'utf16le')),
      m('UTF-16BE', Buffer.from(Buffer.from(valid, 'utf16le')).swap16()),
      m('an invalid UTF-8 byte', u8('{"cpr":"', [0xff], `","fields":${fields}}`)),
      m('an overlong UTF-8 encoding of "/"', u8('{"a":"', [0xc0, 0xaf], '"}')),
      m('a lone UTF-8 continuation byte', u8('{"a":"', [0x80], '"}')),
      m('a truncated UTF-8 sequence', u8('{"a":"', [0xe2, 0x82], '"}')),
      m('a UTF-8-encoded surrogate', u8('{"a":"', [0xed, 0xa0, 0x80], '"}')),
      m('a duplicate key with the same value', `{"cpr":"${CPR}","cpr":"${CPR}","fields":${fields}}`),
      m('a duplicate key with another citizen', `{"cpr":"${CPR}","cpr":"${citizens[5]!.cpr}","fields":${fields}}`),
      m('duplicate fields keys', `{"cpr":"${CPR}","fields":${fields},"fields":${JSON.stringify(r.allFields)}}`),
      m('a duplicate spelled with an escape', `{"cpr":"${CPR}","\\u0063pr":"${citizens[5]!.cpr}","fields":${fields}}`),
      m('a duplicate key in a nested object', `{"cpr":"${CPR}","fields":${fields},"x":{"a":1,"a":2}}`),
      m('a __proto__ key', `{"cpr":"${CPR}","fields":${fields},"__proto__":{"admin":true}}`),
      m('a constructor key', `{"cpr":"${CPR}","fields":${fields},"constructor":{"prototype":{"admin":true}}}`),
      m('a prototype key', `{"cpr":"${CPR}","fields":${fields},"prototype":1}`),
      m('__proto__ nested in an array', `{"cpr":"${CPR}","fields":[{"__proto__":{"admin":true}}]}`),
      m('__proto__ spelled with escapes', `{"cpr":"${CPR}","fields":${fields},"\\u005f\\u005fproto__":{}}`),
      m('33 nested arrays', nest(33, '[', ']')),
      m('33 nested objects', `{"cpr":"${CPR}","fields":${fields},"x":${'{"a":'.repeat(32)}1${'}'.repeat(32)}}`),
      m('30000 nested arrays', nest(30_000, '[', ']')),
      {
        ...base,
        name: 'a body of 64 KiB + 1 byte',
        body: `{"cpr":"${CPR}","fields":${fields},"pad":"${'x'.repeat(65_537)}"}`,
        status: 413,
        code: 'BODY_TOO_LARGE',
      },
      { ...base, name: 'a body of 1 MiB', body: 'x'.repeat(1_048_576), status: 413, code: 'BODY_TOO_LARGE' },
      {
        ...base,
        name: 'a chunked body over the limit',
        headers: { 'transfer-encoding': 'chunked' },
        body: `{"pad":"${'y'.repeat(100_000)}"}`,
        status: 413,
        code: 'BODY_TOO_LARGE',
      },
    ];
  });
}

// ---------------------------------------------------------------------------------------------
// 8 the body against the contract's request schema

for (const r of ROUTES) {
  category(`request schema (${r.client})`, () => {
    const base = { as: r.client, path: r.path };
    const inv = (name: string, value: unknown): Case => ({
      ...base,
      name,
      body: JSON.stringify(value),
      status: 400,
      code: 'REQUEST_INVALID',
      check: (res) => expect(res.json.errors.length).toBeGreaterThan(0),
    });
    const f = r.fields;
    const cpr = (value: unknown, name: string): Case => inv(`cpr ${name}`, { cpr: value, fields: f });
    const fields = (value: unknown, name: string): Case => inv(`fields ${name}`, { cpr: CPR, fields: value });
    return [
      inv('an empty object', {}),
      inv('cpr only', { cpr: CPR }),
      inv('fields only', { fields: f }),
      cpr(Number(CPR), 'as a number'),
      cpr(null, 'null'),
      cpr(true, 'true'),
      cpr([CPR], 'in an array'),
      cpr({ value: CPR }, 'in an object'),
      cpr('', 'empty'),
      cpr(CPR.slice(0, 9), 'of 9 digits'),
      cpr(`${CPR}1`, 'of 11 digits'),
      cpr('abcdefghij', 'of letters'),
      cpr(`${CPR.slice(0, 6)}-${CPR.slice(6)}`, 'with a dash'),
      cpr(` ${CPR}`, 'with a leading space'),
      cpr(`${CPR}\n`, 'with a trailing newline'),
      cpr('٣١١٢٧٩٩٩٢٣', 'in Arabic-Indic digits'),
      cpr('３１１２７９９９２３', 'in full-width digits'),
      cpr('3002999901', 'of 30 February'),
      cpr('0113999901', 'of month 13'),
      cpr('0000999901', 'of day 0'),
      cpr('\ud800\udc00', 'as a surrogate pair'),
      cpr('\ud800', 'as a lone surrogate'),
      fields([], 'empty'),
      fields(f[0], 'as a string'),
      fields([1], 'holding a number'),
      fields([null], 'holding null'),
      fields([['x']], 'holding an array'),
      fields([{}], 'holding an object'),
      fields(['unknownField'], 'naming an unknown field'),
      fields(['internalNote'], 'naming a provider-internal field'),
      fields(['bankAccount', ...f], 'naming a bank account'),
      fields(['__proto__'], 'naming __proto__'),
      fields([r.foreignField], "naming another contract's field"),
      fields([f[0]!.toUpperCase()], 'in upper case'),
      fields([`${f[0]} `], 'with a trailing space'),
      fields([f[0], f[0]], 'with a duplicate'),
      fields([...r.allFields, 'extra'], 'with one too many'),
      fields(null, 'null'),
      inv('an extra property', { cpr: CPR, fields: f, extra: 1 }),
      inv('an upper-case CPR key beside cpr', { cpr: CPR, fields: f, CPR }),
      inv('a CPR number as a property name', { cpr: CPR, fields: f, [citizens[9]!.cpr]: 1 }),
      inv('a property name of 300 characters', { cpr: CPR, fields: f, ['k'.repeat(300)]: 1 }),
      inv('a purpose in the body', { cpr: CPR, fields: f, purpose: 'whole-person-plan' }),
      inv('a string of 60000 characters', { cpr: CPR, fields: f, note: 'n'.repeat(60_000) }),
      {
        ...base,
        name: 'a number beyond double range in an extra property',
        body: `{"cpr":"${CPR}","fields":${JSON.stringify(f)},"n":1e400}`,
        status: 400,
        code: 'REQUEST_INVALID',
      },
    ];
  });
}

// ---------------------------------------------------------------------------------------------
// 8b a CPR number in every written form the detector knows (src/lib/cpr.ts), at every entry
// point of a query: the token's caseworker, case and purpose, the request id header and a
// property name in the body. Each is refused or replaced; nothing is stored or echoed (run()
// checks the answer and the audit record with the same detector).

category('CPR numbers in every written form', () => {
  const body = validBody(ROUTES[0]!);
  const cases: Case[] = [];
  const other = citizens[11]!.cpr;
  const placings: readonly [string, (w: string) => string][] = [
    ['alone', (w) => w],
    ['after a letter', (w) => `x${w}`],
    ['before a letter', (w) => `${w}y`],
  ];
  const headerSafe = (s: string): boolean => /^[\x20-\x7e\xa0-\xff]+$/.test(s);
  for (const f of CPR_WRITTEN_FORMS) {
    for (const [where, put] of placings) {
      const w = put(f.write(other));
      const label = `${f.name}, ${where}`;
      for (const claim of ['sub', 'case', 'purpose']) {
        cases.push({
          name: `${claim} claim: ${label}`,
          body,
          token: () => tokenWith(SOF, STATUS, body, { claims: { [claim]: w } }),
          status: 401,
          code: 'TOKEN_CLAIM_MISSING',
          check: (r) => expect(withoutIds(r.text)).not.toContain(other.slice(6)),
        });
      }
      if (headerSafe(w)) {
        cases.push({
          name: `request id: ${label}`,
          headers: { 'x-request-id': w },
          token: null,
          status: 401,
          code: 'TOKEN_MISSING',
          check: (r) => {
            expect(mayHoldCpr(String(r.headers['x-request-id']))).toBe(false);
            expect(r.json.requestId).toBe(r.headers['x-request-id']);
            expect(withoutIds(String(r.headers['x-request-id']))).not.toContain(other.slice(6));
          },
        });
      }
      const named = `{"cpr":"${CPR}","fields":["targetGroup"],${JSON.stringify(w)}:1}`;
      cases.push({
        name: `property name: ${label}`,
        body: named,
        status: 400,
        code: 'REQUEST_INVALID',
        check: (r) => {
          expect(r.json.errors).toHaveLength(1);
          expect(r.json.errors[0].message).toMatch(/^unknown property; the properties allowed here are listed at #\//);
          expect(withoutIds(r.text)).not.toContain(other.slice(6));
        },
      });
    }
  }
  return cases;
});

// ---------------------------------------------------------------------------------------------
// 9 policy: default deny

category('policy', () => {
  const body = (fields: readonly string[]): string => JSON.stringify({ cpr: CPR, fields });
  const deny = (
    name: string,
    as: string,
    p: string,
    fields: readonly string[],
    reasons: readonly string[],
    purpose = 'plan-coordination',
  ): Case => {
    const b = body(fields);
    return {
      name,
      as,
      path: p,
      body: b,
      token: () => tokenWith(as, p, b, { claims: { purpose } }),
      status: 403,
      code: reasons.every((r) => r.startsWith('CONSENT_')) ? 'CONSENT_REQUIRED' : 'POLICY_DENIED',
      reasons,
    };
  };
  return [
    deny('the DPO console asking for employment status', 'dpo-console', STATUS, ['targetGroup'], ['NO_POLICY']),
    deny('social services asking for its own social summary', SOF, SUMMARY, ['openSocialCase'], ['NO_POLICY']),
    deny('the jobcentre asking for its own employment status', BIF, STATUS, ['targetGroup'], ['NO_POLICY']),
    deny('a purpose no policy allows', SOF, STATUS, ['targetGroup'], ['PURPOSE_NOT_ALLOWED'], 'whole-person-plan'),
    deny('only fields the policy does not permit', BIF, SUMMARY, ['efforts'], ['NO_FIELDS_PERMITTED']),
    deny(
      'special-category data without consent',
      BIF,
      SUMMARY,
      ['healthEfforts'],
      ['CONSENT_NOT_IN_FORCE'],
      'rehabilitation-team-assessment',
    ),
  ];
});
