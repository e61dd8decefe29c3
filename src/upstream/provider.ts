import https from 'node:https';
import { randomUUID } from 'node:crypto';
import type { CryptoKey } from 'jose';
import { jwsHeader, signCompactEs256 } from '../auth/jws.js';
import { sha256b64url } from '../lib/digest.js';
import { TLS_POLICY } from '../lib/tls.js';
import type { ErrorCode } from '../errors.js';
import { MAX_PROBLEM_BYTES, offersNoSuchContract } from './provider-problem.js';

/** The gateway's own credentials towards provider and recipient systems. */
export interface UpstreamIdentity {
  readonly gatewayId: string;
  readonly signingKey: CryptoKey; // ES256, pre-imported
  readonly agent: https.Agent; // keep-alive, the gateway's client certificate, the trusted CA
  readonly timeoutMs: number;
  readonly maxResponseBytes: number;
}

export function createUpstreamAgent(tls: { cert: string; key: string; ca: string }): https.Agent {
  return new https.Agent({ ...TLS_POLICY, keepAlive: true, maxSockets: 256, maxFreeSockets: 64, cert: tls.cert, key: tls.key, ca: tls.ca });
}

export type ProviderAnswer =
  | { readonly ok: true; readonly status: number; readonly data: unknown; readonly latencyMs: number }
  | { readonly ok: false; readonly code: ErrorCode; readonly status: number | null; readonly latencyMs: number };

const GATEWAY_TOKEN_HEADER = jwsHeader({ alg: 'ES256', typ: 'JWT' });

/** The token the gateway sends upstream: who it is, why it asks, under which policy and audit id. */
export async function signGatewayToken(
  id: UpstreamIdentity,
  claims: { audience: string; purpose: string; policy: string; auditId: string; path: string; body: string },
): Promise<string> {
  const iat = Math.floor(Date.now() / 1000);
  return signCompactEs256(
    GATEWAY_TOKEN_HEADER,
    {
      purpose: claims.purpose,
      policy: claims.policy,
      audit_id: claims.auditId,
      htm: 'POST',
      htu: claims.path,
      body_sha256: sha256b64url(claims.body),
      iss: id.gatewayId,
      aud: claims.audience,
      iat,
      exp: iat + 60,
      jti: randomUUID(),
    },
    id.signingKey,
  );
}

/**
 * Step 6, forward: POSTs JSON to a provider system over mutual TLS. Always bounded: a total
 * timeout and a cap on the answer's size. Never throws; failures come back as a code.
 */
export function postJson(
  id: UpstreamIdentity,
  endpoint: string,
  path: string,
  body: string,
  headers: Record<string, string>,
): Promise<ProviderAnswer> {
  const started = performance.now();
  const elapsed = (): number => Math.round((performance.now() - started) * 1000) / 1000;
  return new Promise((resolve) => {
    let settled = false;
    const finish = (answer: ProviderAnswer): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(answer);
    };
    let url: URL;
    try {
      url = new URL(path, endpoint);
    } catch {
      finish({ ok: false, code: 'PROVIDER_UNAVAILABLE', status: null, latencyMs: 0 });
      return;
    }
    const req = https.request(url, {
      method: 'POST',
      agent: id.agent,
      headers: { 'content-type': 'application/json', accept: 'application/json', 'content-length': Buffer.byteLength(body), ...headers },
    });
    const timer = setTimeout(() => {
      finish({ ok: false, code: 'PROVIDER_TIMEOUT', status: null, latencyMs: elapsed() });
      req.destroy();
    }, id.timeoutMs);
    req.on('error', () => finish({ ok: false, code: 'PROVIDER_UNAVAILABLE', status: null, latencyMs: elapsed() }));
    req.on('response', (res) => {
      const status = res.statusCode ?? 0;
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > id.maxResponseBytes) {
          finish({ ok: false, code: 'PROVIDER_RESPONSE_INVALID', status, latencyMs: elapsed() });
          req.destroy();
          return;
        }
        chunks.push(chunk);
      });
      res.on('aborted', () => finish({ ok: false, code: 'PROVIDER_UNAVAILABLE', status, latencyMs: elapsed() }));
      res.on('error', () => finish({ ok: false, code: 'PROVIDER_UNAVAILABLE', status, latencyMs: elapsed() }));
      res.on('end', () => {
        const type = String(res.headers['content-type'] ?? '');
        if (status === 404) {
          // Not offered at all is not "no case for this citizen": the caller and the trail must tell them apart.
          const notOffered = size <= MAX_PROBLEM_BYTES && offersNoSuchContract(type, Buffer.concat(chunks));
          return finish({ ok: false, code: notOffered ? 'PROVIDER_CONTRACT_UNKNOWN' : 'SUBJECT_NOT_FOUND', status, latencyMs: elapsed() });
        }
        if (status < 200 || status > 299) return finish({ ok: false, code: 'PROVIDER_UNAVAILABLE', status, latencyMs: elapsed() });
        if (!/^application\/json\b/.test(type))
          return finish({ ok: false, code: 'PROVIDER_RESPONSE_INVALID', status, latencyMs: elapsed() });
        let data: unknown;
        try {
          data = JSON.parse(Buffer.concat(chunks).toString('utf8'));
        } catch {
          return finish({ ok: false, code: 'PROVIDER_RESPONSE_INVALID', status, latencyMs: elapsed() });
        }
        finish({ ok: true, status, data, latencyMs: elapsed() });
      });
    });
    req.end(body);
  });
}
