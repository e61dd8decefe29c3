/**
 * Shared tools of the hardening suite: a plain HTTPS client that sends exactly the method,
 * headers and bytes asked for (supertest and fetch normalise too much), a raw TLS client for
 * requests that are not valid HTTP, hand-made JWTs (headers jose would refuse to sign), and the
 * leak evidence file that test/global-teardown.js scans after the whole suite.
 */
import { createHash, createHmac, createPrivateKey, generateKeyPairSync, randomUUID, sign } from 'node:crypto';
import { appendFileSync, mkdirSync, readFileSync } from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import tls from 'node:tls';
import { ROOT, TEST_CERTS } from '../support/env.js';

export interface Creds {
  readonly ca: Buffer | string;
  readonly cert?: Buffer | string;
  readonly key?: Buffer | string;
}

export interface Answer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly text: string;
  /** The body parsed as JSON, or undefined. */
  readonly json: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

export function clientCreds(system: string): Creds {
  return {
    ca: readFileSync(path.join(TEST_CERTS, 'ca', 'ca.crt.pem')),
    cert: readFileSync(path.join(TEST_CERTS, 'clients', system, 'tls.crt.pem')),
    key: readFileSync(path.join(TEST_CERTS, 'clients', system, 'tls.key.pem')),
  };
}

export function caOnly(): Creds {
  return { ca: readFileSync(path.join(TEST_CERTS, 'ca', 'ca.crt.pem')) };
}

const agents = new WeakMap<Creds, https.Agent>();
function agentFor(creds: Creds): https.Agent {
  let agent = agents.get(creds);
  if (!agent) {
    agent = new https.Agent({ keepAlive: true, maxSockets: 64, ca: creds.ca, ...(creds.cert ? { cert: creds.cert, key: creds.key } : {}) });
    agents.set(creds, agent);
  }
  return agent;
}

export interface SendOptions {
  readonly method?: string;
  readonly path: string;
  readonly headers?: Record<string, string | string[]>;
  readonly body?: string | Buffer;
  readonly creds: Creds;
  /** A fresh connection instead of the keep-alive agent's. */
  readonly fresh?: boolean;
}

/** One HTTPS request with exactly these method, headers and body bytes. */
export function send(baseUrl: string, o: SendOptions): Promise<Answer> {
  const url = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | string[] | number> = { ...(o.headers ?? {}) };
    if (o.body !== undefined && headers['content-length'] === undefined && headers['transfer-encoding'] === undefined)
      headers['content-length'] = Buffer.byteLength(o.body);
    const req = https.request({
      host: url.hostname,
      port: url.port,
      method: o.method ?? 'POST',
      path: o.path,
      headers,
      servername: 'localhost',
      ...(o.fresh
        ? { agent: false as const, ca: o.creds.ca, ...(o.creds.cert ? { cert: o.creds.cert, key: o.creds.key } : {}) }
        : { agent: agentFor(o.creds) }),
    });
    req.setTimeout(20_000, () => req.destroy(new Error('test client: no answer in 20 s')));
    req.on('error', reject);
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json: unknown;
        try {
          json = JSON.parse(text);
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
      });
    });
    req.end(o.body);
  });
}

/**
 * Writes raw bytes on a fresh mutual-TLS connection and reads until the server closes it (or
 * `waitMs` passes); returns the first HTTP response found.
 */
export function sendRaw(port: number, creds: Creds, bytes: Buffer | string, waitMs = 5000): Promise<Answer & { raw: string }> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({
      host: '127.0.0.1',
      port,
      servername: 'localhost',
      ca: creds.ca,
      ...(creds.cert ? { cert: creds.cert, key: creds.key } : {}),
    });
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => socket.destroy(), waitMs);
    socket.on('secureConnect', () => socket.write(bytes));
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', () => socket.destroy());
    socket.on('close', () => {
      clearTimeout(timer);
      const raw = Buffer.concat(chunks).toString('utf8');
      const m = /^HTTP\/1\.1 (\d{3})[^\r\n]*\r\n([\s\S]*?)\r\n\r\n([\s\S]*)$/.exec(raw);
      if (!m) return reject(new Error(`no HTTP response (${raw.length} bytes)`));
      const headers: Record<string, string> = {};
      for (const line of m[2]!.split('\r\n')) {
        const i = line.indexOf(':');
        if (i > 0) headers[line.slice(0, i).toLowerCase()] = line.slice(i + 1).trim();
      }
      const length = Number(headers['content-length'] ?? m[3]!.length);
      const text = m[3]!.slice(0, length);
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        json = undefined;
      }
      resolve({ status: Number(m[1]), headers, text, json, raw });
    });
  });
}

/**
 * RSA keys for test certificates, made once per file: generating a 2048-bit key takes up to a
 * second on a small machine, and certificates that only differ in dates, usage or issuer can
 * share one. Index 0, 1, 2... are distinct keys.
 */
const rsaKeys: string[] = [];
export function testRsaKey(index = 0): string {
  while (rsaKeys.length <= index) {
    rsaKeys.push(generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString());
  }
  return rsaKeys[index]!;
}

// ---------------------------------------------------------------------------------------------
// Request tokens made by hand

export const b64url = (v: string | Buffer): string => Buffer.from(v).toString('base64url');
export const bodyDigest = (body: string | Buffer): string => createHash('sha256').update(body).digest('base64url');

export function signingKeyPem(system: string): string {
  return readFileSync(path.join(TEST_CERTS, 'clients', system, 'signing.key.pem'), 'utf8');
}
export function signingPubPem(system: string): string {
  return readFileSync(path.join(TEST_CERTS, 'clients', system, 'signing.pub.pem'), 'utf8');
}
export function tlsKeyPem(system: string): string {
  return readFileSync(path.join(TEST_CERTS, 'clients', system, 'tls.key.pem'), 'utf8');
}

/** The claims a well-behaved caller sends, for this path and these exact body bytes. */
export function claimsFor(
  system: string,
  urlPath: string,
  body: string | Buffer,
  now = Math.floor(Date.now() / 1000),
): Record<string, unknown> {
  return {
    iss: system,
    sub: `${system}-cw-0042`,
    aud: 'snitflade-gateway',
    iat: now,
    exp: now + 60,
    jti: randomUUID(),
    purpose: 'plan-coordination',
    case: 'CASE-2026-0001',
    htm: 'POST',
    htu: urlPath,
    body_sha256: bodyDigest(body),
  };
}

export type SignWith =
  | { readonly alg: 'ES256' | 'EdDSA'; readonly keyPem: string }
  | { readonly alg: 'HS256' | 'HS384' | 'HS512'; readonly secret: string | Buffer }
  | { readonly alg: 'RS256'; readonly keyPem: string }
  | { readonly alg: 'none' };

/** A compact JWS with exactly this header and payload (the header is written as given). */
export function compactJws(header: Record<string, unknown>, payload: unknown, how: SignWith): string {
  const input = `${b64url(JSON.stringify(header))}.${b64url(typeof payload === 'string' ? payload : JSON.stringify(payload))}`;
  let signature: Buffer;
  switch (how.alg) {
    case 'ES256':
      signature = sign('sha256', Buffer.from(input), { key: createPrivateKey(how.keyPem), dsaEncoding: 'ieee-p1363' });
      break;
    case 'EdDSA':
      signature = sign(null, Buffer.from(input), createPrivateKey(how.keyPem));
      break;
    case 'RS256':
      signature = sign('sha256', Buffer.from(input), createPrivateKey(how.keyPem));
      break;
    case 'HS256':
    case 'HS384':
    case 'HS512':
      signature = createHmac(`sha${how.alg.slice(2)}`, how.secret)
        .update(input)
        .digest();
      break;
    case 'none':
      signature = Buffer.alloc(0);
      break;
  }
  return `${input}.${b64url(signature)}`;
}

/** A token as the registered client signs it, with header and claims changed as given. */
export function tokenWith(
  system: string,
  urlPath: string,
  body: string | Buffer,
  change: { header?: Record<string, unknown>; claims?: Record<string, unknown>; drop?: readonly string[] } = {},
): string {
  const claims: Record<string, unknown> = { ...claimsFor(system, urlPath, body), ...(change.claims ?? {}) };
  for (const name of change.drop ?? []) delete claims[name];
  return compactJws({ alg: 'ES256', typ: 'JWT', kid: `${system}-1`, ...(change.header ?? {}) }, claims, {
    alg: 'ES256',
    keyPem: signingKeyPem(system),
  });
}

// ---------------------------------------------------------------------------------------------
// Leak evidence: every error response and metrics page the suite saw, for the global teardown.

const EVIDENCE_DIR = path.join(ROOT, 'test-output', 'leak-evidence');

export function evidence(name: string, kind: 'error-response' | 'metrics' | 'response-header', text: string): void {
  mkdirSync(EVIDENCE_DIR, { recursive: true });
  appendFileSync(
    path.join(EVIDENCE_DIR, `${name}-${process.env.JEST_WORKER_ID ?? '0'}-${process.pid}.jsonl`),
    `${JSON.stringify({ kind, text })}\n`,
  );
}

/** The text without the UUIDs in it (request and audit ids), in which four random digits may stand by chance. */
export const withoutIds = (text: string): string => text.replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi, '');

/** No stack trace, source path or Node internals in a response a client sees. */
export const STACK_TRACE = /\bat [^\s]+ \(|\.(ts|js):\d+:\d+|node:internal|Error: /;
