import { importSPKI, jwtVerify, type CryptoKey } from 'jose';
import { sha256b64url } from '../lib/digest.js';

/** The claims a provider system reads from the gateway's token. */
export interface GatewayToken {
  readonly jti: string;
  readonly purpose: string;
  readonly policy: string;
  readonly auditId: string;
}

const REQUIRED = ['jti', 'purpose', 'policy', 'audit_id', 'body_sha256'] as const;
const BEARER = /^Bearer ([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)$/;

export type GatewayTokenVerifier = (authorization: string | undefined, body: Uint8Array, path: string) => Promise<GatewayToken | undefined>;

/**
 * How a provider system checks the gateway's token: ES256 only, signed by the gateway's key,
 * issued by the gateway to this system, at most 120 seconds old, with the required claims, and
 * bound to these exact body bytes (and to this path and method, when the token names them).
 * Resolves undefined for any token that fails; the reason is not given to the caller.
 */
export async function gatewayTokenVerifier(options: {
  publicKeyPem: string;
  gatewayId: string;
  audience: string;
}): Promise<GatewayTokenVerifier> {
  const key: CryptoKey = await importSPKI(options.publicKeyPem, 'ES256');
  return async (authorization, body, path) => {
    const match = BEARER.exec(authorization ?? '');
    if (!match) return undefined;
    try {
      const { payload } = await jwtVerify(match[1]!, key, {
        algorithms: ['ES256'],
        issuer: options.gatewayId,
        audience: options.audience,
        maxTokenAge: '120s',
        clockTolerance: 5,
        requiredClaims: [...REQUIRED],
      });
      for (const claim of REQUIRED) {
        const v = payload[claim];
        if (typeof v !== 'string' || v.length === 0) return undefined;
      }
      if (payload.body_sha256 !== sha256b64url(body)) return undefined;
      if (payload.htu !== undefined && payload.htu !== path) return undefined;
      if (payload.htm !== undefined && payload.htm !== 'POST') return undefined;
      return {
        jti: payload.jti!,
        purpose: payload.purpose as string,
        policy: payload.policy as string,
        auditId: payload.audit_id as string,
      };
    } catch {
      return undefined;
    }
  };
}
