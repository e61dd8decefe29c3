import { Router } from 'express';
import { GatewayError } from '../../errors.js';
import type { ExchangeRequest } from '../../exchange/deps.js';
import { runQuery } from '../../exchange/query.js';
import type { Gateway } from '../../gateway.js';
import { bodyBytes, rawBody, requireJson } from '../body.js';
import { locals } from '../context.js';

/**
 * Mounts one exchange path, POST only: the body is read as exact bytes (the token is bound to
 * them), the pipeline does the rest, and any other method gets 405 with Allow: POST.
 */
export function exchangeRoute(
  router: Router,
  gateway: Gateway,
  route: 'query' | 'notification',
  run: (req: ExchangeRequest) => Promise<unknown>,
  status: number,
): void {
  const path = route === 'query' ? '/v1/queries/:contractId' : '/v1/notifications/:contractId';
  router.post(path, requireJson, rawBody(gateway), async (req, res) => {
    const l = locals(res);
    l.route = route;
    const contractId = req.params.contractId as string;
    if (gateway.rules().contracts.get(contractId)) l.contract = contractId;
    const result = await run({
      requestId: l.requestId,
      contractId,
      client: l.client!,
      authorization: req.get('authorization'),
      method: 'POST',
      path: req.originalUrl.split('?')[0]!,
      body: bodyBytes(req),
      receivedAt: l.started,
      idempotencyKey: req.get('idempotency-key'),
    });
    res.status(status).json(result);
  });
  router.all(path, (_req, res, next) => {
    locals(res).route = route;
    res.set('allow', 'POST');
    next(new GatewayError('METHOD_NOT_ALLOWED'));
  });
}

/** POST /v1/queries/{contractId}: the query pipeline (src/exchange/query.ts) does the rest. */
export function exchangeRoutes(gateway: Gateway): Router {
  const router = Router();
  exchangeRoute(router, gateway, 'query', (req) => runQuery(gateway.deps, req), 200);
  return router;
}
