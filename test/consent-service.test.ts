/**
 * The consent service (issue 18): the simulated national consent service signs the consents a
 * citizen gives there, and the gateway's in-force client (src/consent/in-force-client.ts) fetches
 * them over mutual TLS as artefacts the gateway's own verification accepts. Real HTTPS and real
 * keys, generated into a temporary development PKI.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import https from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { TLSSocket } from 'node:tls';
import request from 'supertest';
import { verifyArtefact, type ConsentIssuer } from '../src/consent/artefact.js';
import { ConsentServiceError, MAX_IN_FORCE_ARTEFACTS, MAX_IN_FORCE_BYTES, type InForceClient } from '../src/consent/in-force-client.js';
import { consentServices, loadConsentIssuers, type ConsentServiceTls } from '../src/consent/issuers.js';
import { loadConfig, type ConsentIssuerConfig, type GatewayConfig } from '../src/config/config.js';
import { mayHoldCpr } from '../src/lib/cpr.js';
import { createLogger, type Logger } from '../src/log.js';
import { createCa, ensureDevPki, issueCertificate } from '../src/pki/devpki.js';
import { addDuration, copenhagenDate } from '../src/policy/dates.js';
import { CONSENT_TEXT, DEMO_CONSENT_ISSUER, startConsentService, type SimulatedConsentService } from '../src/simulators/consent-service.js';
import { population } from '../src/simulators/population.js';
import { waitFor } from './support/calls.js';
import { ROOT } from './support/env.js';

const [ANNA, BO] = population().map((c) => c.cpr) as [string, string];
const certs = mkdtempSync(path.join(os.tmpdir(), 'snitflade-consent-service-'));
const read = (rel: string): string => readFileSync(path.join(certs, rel), 'utf8');
const logFile = path.join(ROOT, 'test-output', 'logs', `consent-service-${process.pid}-${Date.now()}.log`);

let logger: Logger;
let service: SimulatedConsentService;
let gatewayTls: ConsentServiceTls;
let issuers: ReadonlyMap<string, ConsentIssuer>;
let client: InForceClient;
const closing: { close(): void | Promise<void> }[] = [];

function configWith(issuersSetting: ConsentIssuerConfig[], timeoutMs = 10_000): GatewayConfig {
  return loadConfig({ root: ROOT, env: {}, overrides: { paths: { certs }, consent: { timeoutMs, issuers: issuersSetting } } });
}

const trusting = (s: { issuer: string; kid: string; publicKeyFile: string; url: string }): ConsentIssuerConfig => ({
  id: s.issuer,
  publicKeys: [{ kid: s.kid, file: s.publicKeyFile }],
  url: s.url,
});

/** A client of `url`, trusting the demo service's key, with the gateway's certificate. */
async function clientOf(url: string, timeoutMs?: number): Promise<InForceClient> {
  const config = configWith([{ ...trusting(service), url }], timeoutMs);
  const [c] = consentServices(config, await loadConsentIssuers(config), gatewayTls);
  closing.push(c!);
  return c!;
}

beforeAll(async () => {
  await ensureDevPki(certs, { systems: ['sof-case-system'], consentService: true });
  logger = createLogger({ level: 'info', console: false, file: logFile, service: 'test-consent-service' });
  service = await startConsentService({ certsDir: certs, logger });
  gatewayTls = { cert: read('gateway/tls.crt.pem'), key: read('gateway/tls.key.pem'), ca: read('ca/ca.crt.pem') };
  const config = configWith([trusting(service)]);
  issuers = await loadConsentIssuers(config);
  [client] = consentServices(config, issuers, gatewayTls) as [InForceClient];
  closing.push(client);
});

afterAll(async () => {
  await Promise.all(closing.map(async (c) => c.close()));
  await service?.close();
  await new Promise<void>((resolve) => logger.on('finish', () => resolve()).end());
  rmSync(certs, { recursive: true, force: true });
});

afterEach(() => service.setFault(null));

const today = (): string => copenhagenDate(new Date());

function consentBody(cpr: string, over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    cpr,
    recipients: ['SOF'],
    sources: ['BIF'],
    purposes: ['plan-coordination'],
    categories: ['employment'],
    validFrom: today(),
    validTo: addDuration(today(), 'P6M'),
    ...over,
  };
}

/** As the citizen: TLS without a client certificate. */
function citizen(url: string, route: string, body: unknown): request.Test {
  return request(url)
    .post(route)
    .ca(gatewayTls.ca)
    .send(body as object);
}

const signal = (): AbortSignal => new AbortController().signal;

/** The look-up's rejection, checked to be a ConsentServiceError that names no citizen. */
async function refusal(lookup: Promise<unknown>, cpr: string): Promise<ConsentServiceError> {
  const err = await lookup.then(
    () => {
      throw new Error('the look-up was expected to fail');
    },
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ConsentServiceError);
  const e = err as ConsentServiceError;
  for (const text of [e.message, String(e), e.stack ?? '']) {
    expect(text).not.toContain(cpr);
    expect(mayHoldCpr(text)).toBe(false);
  }
  return e;
}

describe('the simulated consent service and the in-force client', () => {
  it('a consent the citizen gives comes back from the in-force look-up as an artefact the gateway verifies', async () => {
    const given = await citizen(service.url, '/citizen/consents', consentBody(ANNA));
    expect(given.status).toBe(201);
    expect(given.body).toEqual({ id: expect.any(String), artefact: expect.any(String) });

    const artefacts = await client.inForce(ANNA, signal());
    expect(artefacts).toContain(given.body.artefact);
    const { claims, kid } = await verifyArtefact(given.body.artefact, issuers, ANNA, new Date());
    expect(kid).toBe(service.kid);
    expect(claims).toMatchObject({
      iss: DEMO_CONSENT_ISSUER,
      jti: given.body.id,
      sub: ANNA,
      recipients: ['SOF'],
      sources: ['BIF'],
      purposes: ['plan-coordination'],
      categories: ['employment'],
      validFrom: today(),
      text: CONSENT_TEXT,
      givenBy: { role: 'citizen' },
    });
    // Another citizen has none.
    await expect(client.inForce(BO, signal())).resolves.toEqual([]);
  });

  it('records who gave it: a guardian, with the reference of the guardianship decision', async () => {
    const given = await citizen(
      service.url,
      '/citizen/consents',
      consentBody(BO, { givenBy: { role: 'guardian', reference: 'VAERGE-2026-0042' }, contracts: ['health.rehabilitation-info.v1'] }),
    );
    expect(given.status).toBe(201);
    const { claims } = await verifyArtefact(given.body.artefact, issuers, BO, new Date());
    expect(claims.givenBy).toEqual({ role: 'guardian', reference: 'VAERGE-2026-0042' });
    expect(claims.contracts).toEqual(['health.rehabilitation-info.v1']);
  });

  it('after a withdrawal at the service, the consent is gone from the next in-force look-up', async () => {
    const cpr = population()[2]!.cpr;
    const given = await citizen(service.url, '/citizen/consents', consentBody(cpr));
    const other = await citizen(service.url, '/citizen/consents', consentBody(cpr, { purposes: ['sanction-notice'] }));
    expect(await client.inForce(cpr, signal())).toEqual([given.body.artefact, other.body.artefact]);

    const withdrawn = await citizen(service.url, `/citizen/consents/${given.body.id}/withdraw`, { cpr });
    expect(withdrawn.status).toBe(200);
    expect(withdrawn.body).toMatchObject({ id: given.body.id, state: 'withdrawn' });
    expect(await client.inForce(cpr, signal())).toEqual([other.body.artefact]);

    const listed = await citizen(service.url, '/citizen/consents/list', { cpr });
    expect(listed.status).toBe(200);
    expect(listed.body.consents.map((c: { id: string; state: string }) => [c.id, c.state])).toEqual([
      [given.body.id, 'withdrawn'],
      [other.body.id, 'active'],
    ]);
    expect(JSON.stringify(listed.body.consents.map(({ artefact: _a, ...rest }: { artefact: string }) => rest))).not.toContain(cpr);
  });

  it("only the citizen withdraws: another citizen's CPR number finds no such consent", async () => {
    const given = await citizen(service.url, '/citizen/consents', consentBody(ANNA, { purposes: ['sanction-notice'] }));
    const refused = await citizen(service.url, `/citizen/consents/${given.body.id}/withdraw`, { cpr: BO });
    expect(refused.status).toBe(404);
    expect(refused.body.code).toBe('CONSENT_NOT_FOUND');
    expect(await client.inForce(ANNA, signal())).toContain(given.body.artefact);
  });

  it('answers in force by the Copenhagen date: not before the period starts, not after it ends', async () => {
    let clock = new Date();
    const timed = await startConsentService({ certsDir: certs, issuer: 'timed-samtykke', now: () => clock });
    closing.push(timed);
    const timedClient = await (async () => {
      const config = configWith([trusting(timed)]);
      const [c] = consentServices(config, await loadConsentIssuers(config), gatewayTls);
      closing.push(c!);
      return c!;
    })();
    const start = addDuration(today(), 'P2D');
    const given = await citizen(timed.url, '/citizen/consents', consentBody(ANNA, { validFrom: start, validTo: start }));
    expect(given.status).toBe(201);
    expect(await timedClient.inForce(ANNA, signal())).toEqual([]);
    clock = new Date(clock.getTime() + 2 * 86_400_000);
    expect(await timedClient.inForce(ANNA, signal())).toEqual([given.body.artefact]);
    clock = new Date(clock.getTime() + 86_400_000);
    expect(await timedClient.inForce(ANNA, signal())).toEqual([]);
  });

  it('refuses a consent it could not sign honestly: a past start, a representative without reference, a CPR number in the reference, no data named', async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ validFrom: copenhagenDate(new Date(Date.now() - 3 * 86_400_000)) }, 'PERIOD_INVALID'],
      [{ validTo: '2000-01-02' }, 'PERIOD_INVALID'],
      [{ validFrom: '2099-02-30', validTo: '2099-03-01' }, 'PERIOD_INVALID'],
      [{ givenBy: { role: 'power-of-attorney' } }, 'REQUEST_INVALID'],
      [{ givenBy: { role: 'guardian', reference: `decision ${BO}` } }, 'REQUEST_INVALID'],
      [{ categories: [] }, 'REQUEST_INVALID'],
      [{ recipients: ['sof'] }, 'REQUEST_INVALID'],
      [{ cpr: '3213799912' }, 'REQUEST_INVALID'],
    ];
    for (const [over, code] of cases) {
      const r = await citizen(service.url, '/citizen/consents', consentBody(BO, over));
      expect([JSON.stringify(over), r.status, r.body.code]).toEqual([JSON.stringify(over), 400, code]);
    }
  });

  it('takes no CPR number in a URL: a query string is refused, and there is no GET to list consents', async () => {
    const byQuery = await request(service.url).get(`/citizen/consents?cpr=${ANNA}`).ca(gatewayTls.ca);
    expect(byQuery.status).toBe(400);
    expect(byQuery.body.code).toBe('QUERY_NOT_ALLOWED');
    const byGet = await request(service.url).get('/citizen/consents').ca(gatewayTls.ca);
    expect(byGet.status).toBe(405);
  });

  it('answers GET /healthz', async () => {
    const r = await request(service.url).get('/healthz').ca(gatewayTls.ca);
    expect([r.status, r.body.status]).toEqual([200, 'ok']);
  });
});

describe("the in-force look-up is the gateway's alone", () => {
  const lookUp = (tls: { cert: string; key: string }) =>
    request(service.url).post('/v1/consents/in-force').ca(gatewayTls.ca).cert(tls.cert).key(tls.key).send({ cpr: ANNA });

  it('refuses a caller without a client certificate', async () => {
    const r = await request(service.url).post('/v1/consents/in-force').ca(gatewayTls.ca).send({ cpr: ANNA });
    expect([r.status, r.body.code]).toEqual([403, 'CLIENT_FORBIDDEN']);
    expect(r.text).not.toContain('eyJ');
  });

  it("refuses a case system's certificate", async () => {
    const r = await lookUp({ cert: read('clients/sof-case-system/tls.crt.pem'), key: read('clients/sof-case-system/tls.key.pem') });
    expect([r.status, r.body.code]).toEqual([403, 'CLIENT_FORBIDDEN']);
  });

  it('refuses a certificate named like the gateway from another CA, or not for client authentication', async () => {
    const rogue = issueCertificate({ ca: createCa({ cn: 'Rogue CA' }), cn: 'snitflade-gateway', eku: ['clientAuth'] });
    expect((await lookUp({ cert: rogue.certPem, key: rogue.keyPem })).status).toBe(403);
    const ca = { certPem: gatewayTls.ca, keyPem: read('ca/ca.key.pem') };
    const serverOnly = issueCertificate({ ca, cn: 'snitflade-gateway', eku: ['serverAuth'] });
    expect((await lookUp({ cert: serverOnly.certPem, key: serverOnly.keyPem })).status).toBe(403);
  });

  it("answers the gateway's certificate", async () => {
    const given = await citizen(service.url, '/citizen/consents', consentBody(ANNA, { purposes: ['youth-coordination'] }));
    const r = await lookUp({ cert: gatewayTls.cert, key: gatewayTls.key });
    expect(r.status).toBe(200);
    expect(r.body.artefacts).toContain(given.body.artefact);
  });
});

describe('the in-force client fails closed, naming no citizen', () => {
  it('rejects an error status', async () => {
    service.setFault({ kind: 'status', status: 503 });
    const e = await refusal(client.inForce(ANNA, signal()), ANNA);
    expect([e.code, e.status, e.issuer]).toEqual(['ERR_CONSENT_SERVICE_STATUS', 503, DEMO_CONSENT_ISSUER]);
    expect(e.message).toMatch(
      /^consent service "demo-samtykke" \(POST https:\/\/localhost:\d+\/v1\/consents\/in-force\) answered HTTP 503, not 200;/,
    );
  });

  it('rejects an answer that is not JSON, not the shape, or too large', async () => {
    for (const fault of [
      { kind: 'garbage' } as const,
      { kind: 'schema-break' } as const,
      { kind: 'status', status: 200 } as const,
      { kind: 'oversized', bytes: MAX_IN_FORCE_BYTES + 1 } as const,
    ]) {
      service.setFault(fault);
      const e = await refusal(client.inForce(ANNA, signal()), ANNA);
      expect([fault.kind, e.code]).toEqual([fault.kind, 'ERR_CONSENT_SERVICE_ANSWER_INVALID']);
    }
    service.setFault({ kind: 'oversized', bytes: MAX_IN_FORCE_BYTES + 1 });
    expect((await refusal(client.inForce(ANNA, signal()), ANNA)).message).toContain(`more than ${MAX_IN_FORCE_BYTES} bytes`);
  });

  it('rejects a connection that breaks mid-answer', async () => {
    service.setFault({ kind: 'destroy' });
    expect((await refusal(client.inForce(ANNA, signal()), ANNA)).code).toBe('ERR_CONSENT_SERVICE_UNREACHABLE');
  });

  it("rejects when the caller's signal aborts before the service answers", async () => {
    service.setFault({ kind: 'delay', ms: 600_000 });
    const before = service.inForceRequests;
    const controller = new AbortController();
    const lookup = client.inForce(ANNA, controller.signal);
    await waitFor('the look-up to reach the service', () => service.inForceRequests > before);
    controller.abort();
    const e = await refusal(lookup, ANNA);
    expect(e.code).toBe('ERR_CONSENT_SERVICE_TIMEOUT');
    // An aborted signal is not even sent.
    expect((await refusal(client.inForce(ANNA, controller.signal), ANNA)).code).toBe('ERR_CONSENT_SERVICE_TIMEOUT');
  });

  it('rejects on its own deadline (consent.timeoutMs) even if the caller never aborts', async () => {
    service.setFault({ kind: 'delay', ms: 600_000 });
    const impatient = await clientOf(service.url, 50);
    const e = await refusal(impatient.inForce(ANNA, signal()), ANNA);
    expect(e.code).toBe('ERR_CONSENT_SERVICE_TIMEOUT');
    expect(e.message).toContain('consent.timeoutMs 50 ms');
  });

  it('rejects a service that cannot be reached', async () => {
    const gone = await startConsentService({ certsDir: certs });
    const url = gone.url;
    await gone.close();
    const e = await refusal((await clientOf(url)).inForce(ANNA, signal()), ANNA);
    expect(e.code).toBe('ERR_CONSENT_SERVICE_UNREACHABLE');
  });
});

describe('the in-force protocol, against a service that misbehaves', () => {
  let fake: https.Server;
  let fakeUrl: string;
  let answer: (req: IncomingMessage, res: ServerResponse, body: string) => void;
  const seen: { method?: string; url?: string; cn?: unknown; type?: string; body: string }[] = [];

  beforeAll(async () => {
    fake = https.createServer(
      {
        cert: read('consent-service/tls.crt.pem'),
        key: read('consent-service/tls.key.pem'),
        ca: gatewayTls.ca,
        requestCert: true,
        rejectUnauthorized: true,
      },
      (req, res) => {
        let body = '';
        req.on('data', (c: Buffer) => (body += c.toString('utf8')));
        req.on('end', () => {
          seen.push({
            method: req.method,
            url: req.url,
            cn: (req.socket as TLSSocket).getPeerCertificate().subject?.CN,
            type: req.headers['content-type'],
            body,
          });
          answer(req, res, body);
        });
      },
    );
    await new Promise<void>((resolve) => fake.listen(0, '127.0.0.1', resolve));
    fakeUrl = `https://localhost:${(fake.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    fake.closeAllConnections();
    await new Promise((resolve) => fake.close(resolve));
  });

  const reply = (status: number, type: string, body: string) => (_req: IncomingMessage, res: ServerResponse) => {
    res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body) });
    res.end(body);
  };
  const jws = 'eyJhbGciOiJFUzI1NiJ9.e30.c2ln';

  it("asks with the gateway's certificate, the CPR number only in the body, under the service's base path", async () => {
    answer = reply(200, 'application/json; charset=utf-8', JSON.stringify({ artefacts: [jws] }));
    const c = await clientOf(`${fakeUrl}/samtykke-adapter/`);
    await expect(c.inForce(ANNA, signal())).resolves.toEqual([jws]);
    expect(seen.at(-1)).toEqual({
      method: 'POST',
      url: '/samtykke-adapter/v1/consents/in-force',
      cn: 'snitflade-gateway',
      type: 'application/json',
      body: JSON.stringify({ cpr: ANNA }),
    });
  });

  it('rejects another content type, a redirect, extra members, too many artefacts, or strings that are no compact JWS', async () => {
    const c = await clientOf(fakeUrl);
    const cases: [typeof answer, string][] = [
      [reply(200, 'text/html', JSON.stringify({ artefacts: [] })), 'ERR_CONSENT_SERVICE_ANSWER_INVALID'],
      [reply(302, 'application/json', '{}'), 'ERR_CONSENT_SERVICE_STATUS'],
      [reply(200, 'application/json', JSON.stringify({ artefacts: [], next: 'x' })), 'ERR_CONSENT_SERVICE_ANSWER_INVALID'],
      [reply(200, 'application/json', '{"artefacts":[],"artefacts":["' + jws + '"]}'), 'ERR_CONSENT_SERVICE_ANSWER_INVALID'],
      [
        reply(200, 'application/json', JSON.stringify({ artefacts: Array.from({ length: MAX_IN_FORCE_ARTEFACTS + 1 }, () => jws) })),
        'ERR_CONSENT_SERVICE_ANSWER_INVALID',
      ],
      [reply(200, 'application/json', JSON.stringify({ artefacts: [ANNA] })), 'ERR_CONSENT_SERVICE_ANSWER_INVALID'],
      [reply(200, 'application/json', JSON.stringify({ artefacts: [{ jws }] })), 'ERR_CONSENT_SERVICE_ANSWER_INVALID'],
    ];
    for (const [respond, code] of cases) {
      answer = respond;
      expect((await refusal(c.inForce(ANNA, signal()), ANNA)).code).toBe(code);
    }
    // A hundred is fine.
    answer = reply(200, 'application/json', JSON.stringify({ artefacts: Array.from({ length: MAX_IN_FORCE_ARTEFACTS }, () => jws) }));
    await expect(c.inForce(ANNA, signal())).resolves.toHaveLength(MAX_IN_FORCE_ARTEFACTS);
  });

  it('stops reading an answer that grows past the cap without announcing its length', async () => {
    answer = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' }); // chunked
      res.write(`{"artefacts":["${'a'.repeat(MAX_IN_FORCE_BYTES)}`);
      res.end('"]}');
    };
    const e = await refusal((await clientOf(fakeUrl)).inForce(ANNA, signal()), ANNA);
    expect([e.code, e.message.includes(`more than ${MAX_IN_FORCE_BYTES} bytes`)]).toEqual(['ERR_CONSENT_SERVICE_ANSWER_INVALID', true]);
  });

  it('rejects an answer that announces more than the cap before reading it', async () => {
    answer = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': MAX_IN_FORCE_BYTES + 1 });
      res.write('{"artefacts":[');
    };
    const e = await refusal((await clientOf(fakeUrl)).inForce(ANNA, signal()), ANNA);
    expect(e.code).toBe('ERR_CONSENT_SERVICE_ANSWER_INVALID');
  });
});
