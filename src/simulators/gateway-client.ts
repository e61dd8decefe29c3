import { readFileSync } from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import { importPKCS8, type CryptoKey } from 'jose';
import { mintRequestToken } from '../auth/mint.js';

/**
 * A simulated case system calling the gateway as the real one would: its own client certificate
 * (mutual TLS) and a request token signed with its own development key, bound to the body.
 * Used by the simulated senders (emit.ts) and the demo's relations (relations.ts).
 */

export interface GatewayClientOptions {
  readonly gatewayUrl: string;
  readonly certsDir: string;
  readonly gatewayId?: string;
  readonly timeoutMs?: number;
  /** Reused connections (seeding sends thousands of requests). */
  readonly agent?: https.Agent;
}

export interface GatewayCall {
  /** The calling client system, e.g. bif-jobcentre-system. */
  readonly system: string;
  readonly path: string;
  readonly body: string;
  readonly purpose: string;
  readonly caseworker: string;
  readonly caseRef: string;
  readonly headers?: Readonly<Record<string, string>>;
}

/** A system's key files, read and imported once per process (seeding sends thousands of requests). */
const keys = new Map<string, Promise<CryptoKey>>();

/** Posts `call.body` to the gateway as `call.system`; resolves the HTTP status and the parsed answer. */
export async function postAsSystem(call: GatewayCall, o: GatewayClientOptions): Promise<{ status: number; body: unknown }> {
  const read = (rel: string): string => readFileSync(path.join(o.certsDir, rel), 'utf8');
  const keyFile = path.join(o.certsDir, 'clients', call.system, 'signing.key.pem');
  let key = keys.get(keyFile);
  if (key === undefined) keys.set(keyFile, (key = importPKCS8(readFileSync(keyFile, 'utf8'), 'ES256')));
  const token = await mintRequestToken({
    clientId: call.system,
    kid: `${call.system}-1`,
    key: await key.catch((err: unknown) => {
      keys.delete(keyFile);
      throw err;
    }),
    audience: o.gatewayId ?? 'snitflade-gateway',
    caseworker: call.caseworker,
    purpose: call.purpose,
    caseRef: call.caseRef,
    method: 'POST',
    path: call.path,
    body: call.body,
  });
  return new Promise((resolve, reject) => {
    const req = https.request(new URL(call.path, o.gatewayUrl), {
      method: 'POST',
      cert: read(path.join('clients', call.system, 'tls.crt.pem')),
      key: read(path.join('clients', call.system, 'tls.key.pem')),
      ca: read(path.join('ca', 'ca.crt.pem')),
      ...(o.agent !== undefined ? { agent: o.agent } : {}),
      headers: {
        'content-type': 'application/json',
        authorization: `Bearer ${token}`,
        'content-length': Buffer.byteLength(call.body),
        ...call.headers,
      },
      timeout: o.timeoutMs ?? 10_000,
    });
    req.on('timeout', () => req.destroy(new Error('the gateway did not answer in time')));
    req.on('error', reject);
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let parsed: unknown = text;
        try {
          parsed = JSON.parse(text);
        } catch {
          // not JSON: shown as text
        }
        resolve({ status: res.statusCode ?? 0, body: parsed });
      });
    });
    req.end(call.body);
  });
}
