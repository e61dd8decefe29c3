import { createPublicKey, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import https from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { CompactSign, calculateJwkThumbprint, importPKCS8, type CryptoKey, type JWK } from 'jose';
import { DATA_CATEGORIES } from '../contracts/meta-schema.js';
import { isValidCpr, mayHoldCpr } from '../lib/cpr.js';
import { listenOn } from '../lib/listen.js';
import { parseStrictJson } from '../lib/strict-json.js';
import { TLS_POLICY } from '../lib/tls.js';
import type { Logger } from '../log.js';
import { checkFault, type Fault } from './faults.js';
import { peerCertificate, readBody, send, sendProblem } from './http.js';

/**
 * A simulated national consent service, standing in for Digitalt Samtykke in the demo: a citizen
 * gives and withdraws consent here, the service signs each consent as a consent artefact with
 * its own key (ES256), and the gateway asks it, at decision time, which artefacts are in force.
 * The gateway's verification and its client are the real code path; only this service is
 * simulated. docs/consent-and-notifications.md ("A consent service") describes the protocol.
 *
 * Citizen side (SIMULATION: a real service knows the citizen from their MitID login; here the
 * body names the citizen, over TLS without a client certificate):
 *   POST /citizen/consents                 {cpr, recipients, sources, purposes, contracts?,
 *                                           categories?, validFrom, validTo, givenBy?}
 *                                           -> 201 {id, artefact}
 *   POST /citizen/consents/{id}/withdraw   {cpr} -> 200 {id, state: 'withdrawn', withdrawnAt}
 *   POST /citizen/consents/list            {cpr} -> 200 {consents: [...]}
 * Gateway side (mutual TLS: only the gateway's client certificate):
 *   POST /v1/consents/in-force             {cpr} -> 200 {artefacts: [compact JWS, ...]}: not
 *                                           withdrawn, and today (Copenhagen) within the period
 *   GET  /healthz                          200 {status: 'ok'}
 * No CPR number ever goes in a URL: a request with a query string is refused. State is in memory.
 */

/** The issuer id the demo's gateway trusts this service as (`consent.issuers[].id`). */
export const DEMO_CONSENT_ISSUER = 'demo-samtykke';
/** The consent text the service shows the citizen: its own template and version. */
export const CONSENT_TEXT = Object.freeze({ template: 'samtykke-sammenhaengende-indsats', version: '2026-1' });
/** The service's files under the certificate folder (ensureDevPki with consentService: true makes them). */
export const CONSENT_SERVICE_FILES = Object.freeze({
  tlsCert: 'consent-service/tls.crt.pem',
  tlsKey: 'consent-service/tls.key.pem',
  signingKey: 'consent-service/signing.key.pem',
  signingPub: 'consent-service/signing.pub.pem',
});

const ARTEFACT_TYPE = 'consent-artefact+jwt';
/** The in-force answer stays below the gateway's caps (64 KiB, 100 artefacts): a citizen holds at most this much at once. */
const MAX_HELD_BYTES = 60 * 1024;
const MAX_HELD = 100;
const WITHDRAW_PATH = /^\/citizen\/consents\/([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\/withdraw$/;
const DATE = '^[0-9]{4}-[0-9]{2}-[0-9]{2}$';
const PRINTABLE = '^[\\x21-\\x7e][\\x20-\\x7e]*$';

export interface ConsentServiceOptions {
  /** Default 0: an ephemeral port. */
  readonly port?: number;
  /** Default 127.0.0.1. */
  readonly host?: string;
  /** The certificate folder with consent-service/ (see CONSENT_SERVICE_FILES) and ca/ca.crt.pem. */
  readonly certsDir: string;
  /** The only client allowed the in-force look-up (CN of its client certificate). Default snitflade-gateway. */
  readonly gatewayId?: string;
  /** The `iss` of its artefacts. Default DEMO_CONSENT_ISSUER. */
  readonly issuer?: string;
  /** The service's clock (signing times, "today"). Default the real one. */
  readonly now?: () => Date;
  /** One line per request: route, status, duration. Never a CPR number or a body. */
  readonly logger?: Logger;
}

export interface SimulatedConsentService {
  readonly issuer: string;
  /** https://localhost:PORT */
  readonly url: string;
  readonly port: number;
  /** The `kid` of its signing key: the key's RFC 7638 thumbprint, stable across restarts. */
  readonly kid: string;
  /** Its public key, relative to the certificate folder, for `consent.issuers[].publicKeys[].file`. */
  readonly publicKeyFile: string;
  /** In-force look-ups received so far, refused ones included. */
  readonly inForceRequests: number;
  /** Switches a fault on for every following in-force look-up (delay, status, garbage, schema-break, destroy, oversized); null switches it off. */
  setFault(fault: Fault | null): void;
  close(): Promise<void>;
}

const PROBLEMS = {
  REQUEST_INVALID: { status: 400, title: 'Request body invalid' },
  QUERY_NOT_ALLOWED: { status: 400, title: 'No query strings: a CPR number never goes in a URL; send it in the body' },
  PERIOD_INVALID: { status: 400, title: 'The period must be real dates, end no earlier than it starts, and start no earlier than today' },
  CLIENT_FORBIDDEN: { status: 403, title: "Only the gateway's client certificate may look up consents in force" },
  CONSENT_NOT_FOUND: { status: 404, title: 'No such consent for this citizen' },
  NOT_FOUND: { status: 404, title: 'Not found' },
  METHOD_NOT_ALLOWED: { status: 405, title: 'Method not allowed' },
  CONSENT_LIMIT: { status: 409, title: 'This citizen holds as many consents as the service keeps; withdraw one first' },
  BODY_TOO_LARGE: { status: 413, title: 'Request body too large' },
  SIMULATED_FAULT: { status: 500, title: 'Simulated fault' },
} as const;
type ProblemCode = keyof typeof PROBLEMS;

const problem = (res: ServerResponse, code: ProblemCode, status?: number): number => sendProblem(res, PROBLEMS, code, status);

function json(res: ServerResponse, status: number, body: unknown): number {
  send(res, status, JSON.stringify(body), 'application/json');
  return status;
}

const administrations = { type: 'array', minItems: 1, maxItems: 20, uniqueItems: true, items: { type: 'string', pattern: '^[A-Z]{2,8}$' } };
const cpr = { type: 'string', pattern: '^[0-9]{10}$' };
const ajv = new Ajv2020({ strict: true, allErrors: false });
const validateGive = ajv.compile({
  type: 'object',
  additionalProperties: false,
  required: ['cpr', 'recipients', 'sources', 'purposes', 'validFrom', 'validTo'],
  properties: {
    cpr,
    recipients: administrations,
    sources: administrations,
    purposes: {
      type: 'array',
      minItems: 1,
      maxItems: 20,
      uniqueItems: true,
      items: { type: 'string', pattern: '^[a-z][a-z0-9]*(-[a-z0-9]+)*$', maxLength: 64 },
    },
    contracts: {
      type: 'array',
      maxItems: 100,
      uniqueItems: true,
      items: { type: 'string', pattern: '^[a-z][a-z0-9-]*(\\.[a-z][a-z0-9-]*)+\\.v[1-9][0-9]{0,3}$', maxLength: 128 },
    },
    categories: { type: 'array', maxItems: DATA_CATEGORIES.length, uniqueItems: true, items: { enum: DATA_CATEGORIES } },
    validFrom: { type: 'string', pattern: DATE },
    validTo: { type: 'string', pattern: DATE },
    givenBy: {
      type: 'object',
      additionalProperties: false,
      required: ['role'],
      properties: {
        role: { enum: ['citizen', 'guardian', 'power-of-attorney', 'custody-holder'] },
        reference: { type: 'string', minLength: 1, maxLength: 200, pattern: PRINTABLE },
      },
    },
  },
});
const validateCitizen = ajv.compile({ type: 'object', additionalProperties: false, required: ['cpr'], properties: { cpr } });

interface GiveBody {
  readonly cpr: string;
  readonly recipients: readonly string[];
  readonly sources: readonly string[];
  readonly purposes: readonly string[];
  readonly contracts?: readonly string[];
  readonly categories?: readonly string[];
  readonly validFrom: string;
  readonly validTo: string;
  readonly givenBy?: { readonly role: string; readonly reference?: string };
}

interface HeldConsent {
  readonly id: string;
  readonly cpr: string;
  readonly claims: Readonly<Record<string, unknown>> & { readonly validFrom: string; readonly validTo: string };
  readonly artefact: string;
  withdrawnAt?: string;
}

const dayParts = new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/Copenhagen', year: 'numeric', month: '2-digit', day: '2-digit' });

/** The calendar date in Copenhagen at `at`, YYYY-MM-DD (as the gateway's copenhagenDate). */
function copenhagenDay(at: Date): string {
  const p: Record<string, string> = {};
  for (const part of dayParts.formatToParts(at)) p[part.type] = part.value;
  return `${p.year}-${p.month}-${p.day}`;
}

function isRealDate(date: string): boolean {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  const t = new Date(Date.UTC(y, m - 1, d));
  return t.getUTCFullYear() === y && t.getUTCMonth() === m - 1 && t.getUTCDate() === d;
}

function readCredential(certsDir: string, rel: string): string {
  const file = path.join(certsDir, rel);
  try {
    return readFileSync(file, 'utf8');
  } catch {
    throw new TypeError(
      `consent service simulator: cannot read ${file}; generate it with the development PKI (ensureDevPki with consentService: true, "npx snitflade certs" or "npm start")`,
    );
  }
}

/**
 * Starts the simulated consent service over TLS, with its certificate and signing key from
 * consent-service/ in the certificate folder and the development CA.
 *
 * @example
 *   const service = await startConsentService({ certsDir: 'certs' });
 *   // trust it: consent.issuers = [{ id: service.issuer, publicKeys: [{ kid: service.kid, file: service.publicKeyFile }], url: service.url }]
 *   await service.close();
 */
export async function startConsentService(opts: ConsentServiceOptions): Promise<SimulatedConsentService> {
  const certsDir = path.resolve(opts.certsDir);
  const issuer = opts.issuer ?? DEMO_CONSENT_ISSUER;
  const gatewayId = opts.gatewayId ?? 'snitflade-gateway';
  const now = opts.now ?? (() => new Date());
  const signingKey: CryptoKey = await importPKCS8(readCredential(certsDir, CONSENT_SERVICE_FILES.signingKey), 'ES256');
  const publicJwk = createPublicKey(readCredential(certsDir, CONSENT_SERVICE_FILES.signingPub)).export({ format: 'jwk' }) as JWK;
  const kid = await calculateJwkThumbprint(publicJwk, 'sha256');
  const tls = {
    cert: readCredential(certsDir, CONSENT_SERVICE_FILES.tlsCert),
    key: readCredential(certsDir, CONSENT_SERVICE_FILES.tlsKey),
    ca: readCredential(certsDir, path.join('ca', 'ca.crt.pem')),
  };

  const consents = new Map<string, HeldConsent>();
  const byCitizen = new Map<string, HeldConsent[]>();
  let fault: Fault | null = null;
  let inForceRequests = 0;
  let closing = false;
  const delays = new Set<{ timer: NodeJS.Timeout; resolve: () => void }>();
  const sleep = (ms: number): Promise<void> =>
    new Promise((resolve) => {
      const entry = {
        timer: setTimeout(() => {
          delays.delete(entry);
          resolve();
        }, ms),
        resolve,
      };
      delays.add(entry);
    });

  /** The body as a JSON object, or the problem already sent. */
  async function body(req: IncomingMessage, res: ServerResponse): Promise<Record<string, unknown> | number> {
    const raw = await readBody(req);
    if (raw === undefined) return problem(res, 'BODY_TOO_LARGE');
    return parseStrictJson(raw.toString('utf8'), 8) ?? problem(res, 'REQUEST_INVALID');
  }

  const held = (citizen: string): HeldConsent[] => (byCitizen.get(citizen) ?? []).filter((c) => c.withdrawnAt === undefined);

  async function give(req: IncomingMessage, res: ServerResponse): Promise<number> {
    const parsed = await body(req, res);
    if (typeof parsed === 'number') return parsed;
    if (!validateGive(parsed)) return problem(res, 'REQUEST_INVALID');
    const b = parsed as unknown as GiveBody;
    if (!isValidCpr(b.cpr)) return problem(res, 'REQUEST_INVALID');
    const givenBy = b.givenBy ?? { role: 'citizen' };
    if (givenBy.role !== 'citizen' && givenBy.reference === undefined) return problem(res, 'REQUEST_INVALID');
    if (givenBy.reference !== undefined && mayHoldCpr(givenBy.reference)) return problem(res, 'REQUEST_INVALID');
    if ((b.contracts ?? []).length === 0 && (b.categories ?? []).length === 0) return problem(res, 'REQUEST_INVALID');
    const at = now();
    const today = copenhagenDay(at);
    if (!isRealDate(b.validFrom) || !isRealDate(b.validTo) || b.validTo < b.validFrom || b.validFrom < today) {
      return problem(res, 'PERIOD_INVALID');
    }
    const id = randomUUID();
    const claims = {
      iss: issuer,
      jti: id,
      sub: b.cpr,
      iat: Math.floor(at.getTime() / 1000),
      recipients: b.recipients,
      sources: b.sources,
      purposes: b.purposes,
      ...(b.contracts !== undefined && b.contracts.length > 0 ? { contracts: b.contracts } : {}),
      ...(b.categories !== undefined && b.categories.length > 0 ? { categories: b.categories } : {}),
      validFrom: b.validFrom,
      validTo: b.validTo,
      text: CONSENT_TEXT,
      givenAt: at.toISOString(),
      givenBy: givenBy.reference === undefined ? { role: givenBy.role } : { role: givenBy.role, reference: givenBy.reference },
    };
    const artefact = await new CompactSign(new TextEncoder().encode(JSON.stringify(claims)))
      .setProtectedHeader({ alg: 'ES256', typ: ARTEFACT_TYPE, kid })
      .sign(signingKey);
    const mine = held(b.cpr);
    if (mine.length >= MAX_HELD || mine.reduce((n, c) => n + c.artefact.length + 3, artefact.length + 16) > MAX_HELD_BYTES) {
      return problem(res, 'CONSENT_LIMIT');
    }
    const consent: HeldConsent = { id, cpr: b.cpr, claims, artefact };
    consents.set(id, consent);
    byCitizen.set(b.cpr, [...(byCitizen.get(b.cpr) ?? []), consent]);
    return json(res, 201, { id, artefact });
  }

  async function withdraw(req: IncomingMessage, res: ServerResponse, id: string): Promise<number> {
    const parsed = await body(req, res);
    if (typeof parsed === 'number') return parsed;
    if (!validateCitizen(parsed)) return problem(res, 'REQUEST_INVALID');
    const consent = consents.get(id);
    // Another citizen's consent is answered as one that does not exist.
    if (consent === undefined || consent.cpr !== parsed.cpr) return problem(res, 'CONSENT_NOT_FOUND');
    consent.withdrawnAt ??= now().toISOString();
    return json(res, 200, { id, state: 'withdrawn', withdrawnAt: consent.withdrawnAt });
  }

  async function list(req: IncomingMessage, res: ServerResponse): Promise<number> {
    const parsed = await body(req, res);
    if (typeof parsed === 'number') return parsed;
    if (!validateCitizen(parsed)) return problem(res, 'REQUEST_INVALID');
    const today = copenhagenDay(now());
    const { cpr: citizen } = parsed as { cpr: string };
    const views = (byCitizen.get(citizen) ?? []).map((c) => {
      const { sub: _sub, ...claims } = c.claims;
      const state =
        c.withdrawnAt !== undefined
          ? 'withdrawn'
          : c.claims.validTo < today
            ? 'expired'
            : c.claims.validFrom > today
              ? 'pending'
              : 'active';
      return { id: c.id, state, ...claims, ...(c.withdrawnAt !== undefined ? { withdrawnAt: c.withdrawnAt } : {}), artefact: c.artefact };
    });
    return json(res, 200, { consents: views });
  }

  async function inForce(req: IncomingMessage, res: ServerResponse): Promise<number> {
    inForceRequests++;
    const peer = peerCertificate(req);
    if (!peer.verified || peer.cn !== gatewayId || !peer.clientAuth) return problem(res, 'CLIENT_FORBIDDEN');
    const parsed = await body(req, res);
    if (typeof parsed === 'number') return parsed;
    if (!validateCitizen(parsed)) return problem(res, 'REQUEST_INVALID');
    const active = fault; // the fault in force once the look-up is accepted
    if (active?.kind === 'delay') {
      await sleep(active.ms);
      if (closing) return 0;
    }
    if (active?.kind === 'status')
      return active.status < 300 ? json(res, active.status, {}) : problem(res, 'SIMULATED_FAULT', active.status);
    if (active?.kind === 'garbage') {
      send(res, 200, '<html><body>Internal proxy error (simulated)</body></html>\u0000{"', 'application/json');
      return 200;
    }
    if (active?.kind === 'schema-break') return json(res, 200, { artefacts: 'not-a-list' });
    if (active?.kind === 'destroy') {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': 4096 });
      res.write('{"artefacts":["the connection breaks here');
      setImmediate(() => req.socket.destroy());
      return 0;
    }
    const today = copenhagenDay(now());
    const artefacts = held(String(parsed.cpr))
      .filter((c) => c.claims.validFrom <= today && today <= c.claims.validTo)
      .map((c) => c.artefact);
    if (active?.kind === 'oversized') {
      const answer = { artefacts, padding: '' };
      return json(res, 200, { ...answer, padding: 'x'.repeat(Math.max(0, active.bytes - JSON.stringify(answer).length)) });
    }
    return json(res, 200, { artefacts });
  }

  /** The route a request is for (a fixed name, for the log) and its handler. */
  function route(req: IncomingMessage, pathname: string): { name: string; handle: (res: ServerResponse) => Promise<number> | number } {
    const post = (name: string, handle: (res: ServerResponse) => Promise<number>) => ({
      name,
      handle: (res: ServerResponse) => (req.method === 'POST' ? handle(res) : problem(res, 'METHOD_NOT_ALLOWED')),
    });
    if (pathname === '/healthz') {
      return {
        name: 'health',
        handle: (res) =>
          req.method === 'GET' ? json(res, 200, { status: 'ok', system: 'consent-service' }) : problem(res, 'METHOD_NOT_ALLOWED'),
      };
    }
    if (pathname === '/v1/consents/in-force') return post('in-force', (res) => inForce(req, res));
    if (pathname === '/citizen/consents') return post('give', (res) => give(req, res));
    if (pathname === '/citizen/consents/list') return post('list', (res) => list(req, res));
    const withdrawal = WITHDRAW_PATH.exec(pathname);
    if (withdrawal) return post('withdraw', (res) => withdraw(req, res, withdrawal[1]!));
    return { name: 'unknown', handle: (res) => problem(res, 'NOT_FOUND') };
  }

  // The gateway's route checks the client certificate itself; the citizen's routes need none.
  const server = https.createServer({ ...tls, ...TLS_POLICY, requestCert: true, rejectUnauthorized: false }, (req, res) => {
    const started = performance.now();
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'https://localhost');
    } catch {
      problem(res, 'NOT_FOUND');
      return;
    }
    const { name, handle } = route(req, url.pathname);
    const log = (status: number): void => {
      opts.logger?.info('simulated consent service', { route: name, status, ms: Math.round(performance.now() - started) });
    };
    if (url.search !== '') {
      req.resume();
      log(problem(res, 'QUERY_NOT_ALLOWED'));
      return;
    }
    Promise.resolve(handle(res)).then(log, () => {
      opts.logger?.warn('simulated consent service failed', { route: name });
      if (!res.headersSent) problem(res, 'SIMULATED_FAULT', 500);
      else res.destroy();
    });
  });
  server.on('tlsClientError', () => {});

  await listenOn(server, opts.port ?? 0, opts.host ?? '127.0.0.1');
  const port = (server.address() as AddressInfo).port;
  return {
    issuer,
    url: `https://localhost:${port}`,
    port,
    kid,
    publicKeyFile: CONSENT_SERVICE_FILES.signingPub,
    get inForceRequests() {
      return inForceRequests;
    },
    setFault(next) {
      fault = checkFault(next);
    },
    close() {
      closing = true;
      for (const d of delays) {
        clearTimeout(d.timer);
        d.resolve();
      }
      delays.clear();
      return new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      });
    },
  };
}
