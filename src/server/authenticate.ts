import type { NextFunction, Request, Response } from 'express';
import { verifyRequestToken } from '../auth/token.js';
import { GatewayError } from '../errors.js';
import type { Gateway } from '../gateway.js';
import { parseStrictJson } from '../lib/strict-json.js';
import { bodyBytes, rawBody, requireJson } from './body.js';
import { locals } from './context.js';

/**
 * For the operators' reads of the gateway's own state (no personal data, no body, nothing
 * changed): the client of the TLS connection must hold one of `roles`; no request token. A token's
 * one-time jti is claimed in the store, and these reads must answer when the store cannot write.
 */
export function requireRole(route: string, roles: readonly string[]) {
  return (_req: Request, res: Response, next: NextFunction): void => {
    const l = locals(res);
    l.route = route;
    if (!l.client!.roles.some((r) => roles.includes(r))) throw new GatewayError('FORBIDDEN_ROLE');
    next();
  };
}

/**
 * For the gateway's own API (consents, DPO, operations): the client of the TLS connection must
 * hold one of `roles`, and the call must carry a request token bound to it, as exchanges do.
 * A POST body must be one strict JSON object; it is left in res.locals.json.
 */
export function authenticate(gateway: Gateway, route: string, roles: readonly string[]) {
  const check = async (req: Request, res: Response, next: NextFunction): Promise<void> => {
    const l = locals(res);
    l.route = route;
    const client = l.client!;
    if (!client.roles.some((r) => roles.includes(r))) throw new GatewayError('FORBIDDEN_ROLE');
    const body = bodyBytes(req);
    l.token = await verifyRequestToken({
      authorization: req.get('authorization'),
      client,
      method: req.method,
      path: req.originalUrl.split('?')[0]!,
      body,
      audience: gateway.config.gatewayId,
      maxLifetimeSeconds: gateway.config.tokens.maxLifetimeSeconds,
      clockToleranceSeconds: gateway.config.tokens.clockToleranceSeconds,
      replay: gateway.store.replay,
    });
    if (req.method === 'POST') {
      const json = parseStrictJson(new TextDecoder().decode(body));
      if (!json) throw new GatewayError('BODY_MALFORMED');
      l.json = json;
    }
    next();
  };
  return [requireJson, rawBody(gateway), check];
}
