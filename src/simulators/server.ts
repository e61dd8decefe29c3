import { readFileSync } from 'node:fs';
import https from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { listenOn } from '../lib/listen.js';
import { TLS_POLICY } from '../lib/tls.js';
import type { Logger } from '../log.js';
import { SIMULATED_CONTRACTS, type SimulatedContract } from './contracts.js';
import { breakValue, checkFault, type Fault } from './faults.js';
import { gatewayTokenVerifier } from './gateway-token.js';
import { peerCertificate, readBody, send, sendProblem } from './http.js';
import { NotificationInbox, parseCitizenBody, receiveNotification } from './recipient.js';

export type { Fault } from './faults.js';
export { SIMULATED_CONTRACTS } from './contracts.js';
export { NotificationInbox, SIMULATED_RECEIVES, type ReceivedNotification } from './recipient.js';

/**
 * A simulated provider system (the jobcentre's or social services' case system) as the gateway
 * meets it: HTTPS with mutual TLS, only the gateway may call, every query carries a token the
 * gateway signed for this system and this body, and the answer is the citizen's record from the
 * synthetic population. Faults can be switched on to test how the gateway copes.
 *
 * Provider protocol:
 *   POST /snitflade/v1/queries/{contractId}   body {"cpr": "...", "fields": ["..."]}
 *   Authorization: Bearer <ES256 JWT by the gateway: iss gateway, aud this system, jti, purpose,
 *                  policy, audit_id, body_sha256 (base64url SHA-256 of the body bytes)>
 *   200 {requested fields, plus any extra fields the record carries}
 *   404 problem+json SUBJECT_NOT_FOUND      no case for this citizen
 *   404 problem+json CONTRACT_UNKNOWN       this system does not offer the contract (the gateway
 *                                           answers its caller 502 PROVIDER_CONTRACT_UNKNOWN, not
 *                                           SUBJECT_NOT_FOUND; see src/upstream/provider-problem.ts)
 *   401 TOKEN_INVALID, 403 CLIENT_FORBIDDEN, 400 REQUEST_INVALID
 *   GET /healthz                              200 {"status":"ok"}
 */

export interface SimulatorOptions {
  /** The system id: a key of SIMULATED_CONTRACTS, with credentials under certs/clients/<system>/. */
  readonly system: string;
  /** Default 0: an ephemeral port. */
  readonly port?: number;
  /** Default 127.0.0.1. */
  readonly host?: string;
  readonly certsDir: string;
  /** The only peer allowed to query (CN of its client certificate, iss of its tokens). Default snitflade-gateway. */
  readonly gatewayId?: string;
  /** One line per query: system, contract, status, duration. Never the CPR number or the body. */
  readonly logger?: Logger;
  /** Where received notifications go (see recipient.ts); pass one to keep it across a restart. */
  readonly inbox?: NotificationInbox;
  /**
   * Serve only these of the system's contracts (default: all of them in SIMULATED_CONTRACTS): a
   * system that does not offer a contract yet, as a real one before its side is deployed. The
   * others are answered 404 CONTRACT_UNKNOWN.
   */
  readonly contracts?: readonly string[];
}

export interface Simulator {
  readonly system: string;
  /** https://localhost:PORT */
  readonly url: string;
  readonly port: number;
  /** Queries served or refused so far (health checks not counted). */
  readonly requests: number;
  /** Notifications received from the gateway, deduplicated on their Idempotency-Key. */
  readonly inbox: NotificationInbox;
  /** Switches a fault on for every following query (and notification: delay, status, destroy); null switches it off. */
  setFault(fault: Fault | null): void;
  close(): Promise<void>;
}

const QUERY_PATH = /^\/snitflade\/v1\/queries\/([A-Za-z0-9._-]{1,128})$/;
const NOTIFICATION_PATH = /^\/snitflade\/v1\/notifications\/([A-Za-z0-9._-]{1,128})$/;
const FIELD_NAME = /^[A-Za-z][A-Za-z0-9_]{0,63}$/;

const PROBLEMS = {
  TOKEN_INVALID: { status: 401, title: 'Gateway token invalid' },
  CLIENT_FORBIDDEN: { status: 403, title: 'Only the gateway may query this system' },
  CONTRACT_UNKNOWN: { status: 404, title: 'This system provides no such contract' },
  SUBJECT_NOT_FOUND: { status: 404, title: 'No case for this citizen' },
  NOT_FOUND: { status: 404, title: 'Not found' },
  METHOD_NOT_ALLOWED: { status: 405, title: 'Method not allowed' },
  REQUEST_INVALID: { status: 400, title: 'Request body invalid' },
  BODY_TOO_LARGE: { status: 413, title: 'Request body too large' },
  IDEMPOTENCY_KEY_MISSING: { status: 400, title: 'Idempotency-Key header missing or malformed' },
  SIMULATED_FAULT: { status: 500, title: 'Simulated fault' },
} as const;
type ProblemCode = keyof typeof PROBLEMS;

const problem = (res: ServerResponse, code: ProblemCode, status?: number): number => sendProblem(res, PROBLEMS, code, status);

function parseQuery(body: Buffer): { cpr: string; fields: string[] } | undefined {
  const parsed = parseCitizenBody(body);
  if (!parsed) return undefined;
  const { cpr, fields } = parsed;
  if (!Array.isArray(fields) || fields.length > 64 || !fields.every((f) => typeof f === 'string' && FIELD_NAME.test(f))) return undefined;
  return { cpr, fields: fields as string[] };
}

function readCredential(certsDir: string, rel: string): string {
  const file = path.join(certsDir, rel);
  try {
    return readFileSync(file, 'utf8');
  } catch {
    throw new TypeError(
      `simulator: cannot read ${file}; generate the development PKI first (ensureDevPki, "npx snitflade certs" or "npm start")`,
    );
  }
}

/**
 * Starts a simulated provider system over mutual TLS, with its own certificate from
 * certs/clients/<system>/ and the development CA.
 *
 * @example
 * const sim = await startSimulator({ system: 'bif-jobcentre-system', certsDir: 'certs' });
 * sim.setFault({ kind: 'delay', ms: 2000 });
 * await sim.close();
 */
export async function startSimulator(opts: SimulatorOptions): Promise<Simulator> {
  if (!Object.hasOwn(SIMULATED_CONTRACTS, opts.system)) {
    throw new TypeError(`simulator: no simulated system "${opts.system}"; known: ${Object.keys(SIMULATED_CONTRACTS).join(', ')}`);
  }
  const all: Readonly<Record<string, SimulatedContract>> = SIMULATED_CONTRACTS[opts.system]!;
  const unknown = (opts.contracts ?? []).filter((id) => !Object.hasOwn(all, id));
  if (unknown.length > 0) {
    throw new TypeError(
      `simulator: ${opts.system} has no simulated contract ${unknown.join(', ')}; it has: ${Object.keys(all).join(', ')}`,
    );
  }
  const contracts: Readonly<Record<string, SimulatedContract>> =
    opts.contracts === undefined ? all : Object.fromEntries(opts.contracts.map((id) => [id, all[id]!]));
  const system = opts.system;
  const gatewayId = opts.gatewayId ?? 'snitflade-gateway';
  const certsDir = path.resolve(opts.certsDir);
  const tls = {
    cert: readCredential(certsDir, path.join('clients', system, 'tls.crt.pem')),
    key: readCredential(certsDir, path.join('clients', system, 'tls.key.pem')),
    ca: readCredential(certsDir, path.join('ca', 'ca.crt.pem')),
  };
  const verifyToken = await gatewayTokenVerifier({
    publicKeyPem: readCredential(certsDir, path.join('gateway', 'signing.pub.pem')),
    gatewayId,
    audience: system,
  });

  let fault: Fault | null = null;
  let requests = 0;
  const inbox = opts.inbox ?? new NotificationInbox();
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

  async function handleQuery(req: IncomingMessage, res: ServerResponse, contractId: string): Promise<number> {
    if (req.method !== 'POST') return problem(res, 'METHOD_NOT_ALLOWED');
    const peer = peerCertificate(req);
    if (peer.cn !== gatewayId || !peer.clientAuth) return problem(res, 'CLIENT_FORBIDDEN');
    const contract = Object.hasOwn(contracts, contractId) ? contracts[contractId] : undefined;
    if (contract === undefined) return problem(res, 'CONTRACT_UNKNOWN');
    const body = await readBody(req);
    if (body === undefined) return problem(res, 'BODY_TOO_LARGE');
    const token = await verifyToken(req.headers.authorization, body, `/snitflade/v1/queries/${contractId}`);
    if (token === undefined) return problem(res, 'TOKEN_INVALID');
    const query = parseQuery(body);
    if (query === undefined) return problem(res, 'REQUEST_INVALID');

    const active = fault; // the fault in force once the query is accepted
    if (active?.kind === 'delay') {
      await sleep(active.ms);
      if (closing) return 0;
    }
    if (active?.kind === 'status') {
      if (active.status < 300) {
        send(res, active.status, '{}', 'application/json');
        return active.status;
      }
      return problem(res, 'SIMULATED_FAULT', active.status);
    }
    if (active?.kind === 'garbage') {
      send(res, 200, '<html><body>Internal proxy error (simulated)</body></html>\u0000{"', 'application/json');
      return 200;
    }
    if (active?.kind === 'destroy') {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': 4096 });
      res.write('{"simulated":"the connection breaks here');
      setImmediate(() => req.socket.destroy());
      return 0;
    }

    const found = contract.lookup(query.cpr);
    if (found === undefined) return problem(res, 'SUBJECT_NOT_FOUND');
    const record = found.record as Readonly<Record<string, unknown>>;
    const data: Record<string, unknown> = {};
    for (const field of query.fields) {
      if (contract.fields.includes(field)) data[field] = record[field];
    }
    Object.assign(data, found.extras);
    if (active?.kind === 'schema-break') {
      const victim = query.fields.find((f) => contract.fields.includes(f)) ?? contract.fields[0]!;
      data[victim] = breakValue(record[victim]);
    }
    if (active?.kind === 'oversized') data.padding = 'x'.repeat(Math.max(0, active.bytes - JSON.stringify(data).length - 14));
    send(res, 200, JSON.stringify(data), 'application/json');
    return 200;
  }

  /** A notification from the gateway (recipient side, see recipient.ts), with the faults that apply to it. */
  async function handleNotification(req: IncomingMessage, res: ServerResponse, contractId: string): Promise<number> {
    if (req.method !== 'POST') return problem(res, 'METHOD_NOT_ALLOWED');
    const peer = peerCertificate(req);
    if (peer.cn !== gatewayId || !peer.clientAuth) return problem(res, 'CLIENT_FORBIDDEN');
    const active = fault;
    if (active?.kind === 'delay') {
      await sleep(active.ms);
      if (closing) return 0;
    }
    if (active?.kind === 'status') return problem(res, 'SIMULATED_FAULT', active.status);
    if (active?.kind === 'destroy') {
      setImmediate(() => req.socket.destroy());
      return 0;
    }
    return receiveNotification({ system, inbox, verifyToken, readBody, send, problem }, req, res, contractId);
  }

  const server = https.createServer({ ...tls, ...TLS_POLICY, requestCert: true, rejectUnauthorized: true }, (req, res) => {
    const started = performance.now();
    let pathname: string;
    try {
      pathname = new URL(req.url ?? '/', 'https://localhost').pathname;
    } catch {
      problem(res, 'NOT_FOUND');
      return;
    }
    if (pathname === '/healthz') {
      if (req.method !== 'GET') problem(res, 'METHOD_NOT_ALLOWED');
      else send(res, 200, JSON.stringify({ status: 'ok', system }), 'application/json');
      return;
    }
    const notification = NOTIFICATION_PATH.exec(pathname);
    if (notification) {
      const contractId = notification[1]!;
      handleNotification(req, res, contractId).then(
        (status) => opts.logger?.info('simulated notification received', { system, status, ms: Math.round(performance.now() - started) }),
        () => {
          if (!res.headersSent) problem(res, 'SIMULATED_FAULT', 500);
          else res.destroy();
        },
      );
      return;
    }
    const match = QUERY_PATH.exec(pathname);
    if (!match) {
      problem(res, 'NOT_FOUND');
      return;
    }
    requests++;
    const contractId = match[1]!;
    // Only a known contract id is logged: the path is the caller's input.
    const contract = Object.hasOwn(contracts, contractId) ? contractId : '(unknown)';
    handleQuery(req, res, contractId).then(
      (status) => opts.logger?.info('simulated query', { system, contract, status, ms: Math.round(performance.now() - started) }),
      () => {
        opts.logger?.warn('simulated query failed', { system, contract });
        if (!res.headersSent) problem(res, 'SIMULATED_FAULT', 500);
        else res.destroy();
      },
    );
  });
  // Handshake failures (no or untrusted client certificate) end at the TLS layer, as they should.
  server.on('tlsClientError', () => {});

  await listenOn(server, opts.port ?? 0, opts.host ?? '127.0.0.1');
  const port = (server.address() as AddressInfo).port;

  return {
    system,
    url: `https://localhost:${port}`,
    port,
    get requests() {
      return requests;
    },
    inbox,
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
