import { Router } from 'express';
import { GatewayError } from '../../errors.js';
import { runQuery } from '../../exchange/query.js';
import type { Gateway } from '../../gateway.js';
import { bodyBytes, rawBody, requireJson } from '../body.js';
import { locals } from '../context.js';

/** POST /v1/queries/{contractId}: the query pipeline (src/exchange/query.ts) does the rest. */
export function exchangeRoutes(gateway: Gateway): Router {
  const router = Router();
  router.post('/v1/queries/:contractId', requireJson, rawBody(gateway), async (req, res, next) => {
    const l = locals(res);
    l.route = 'query';
    const contractId = req.params.contractId as string;
    if (gateway.rules().contracts.get(contractId)) l.contract = contractId;
    try {
      const result = await runQuery(gateway.deps, {
        requestId: l.requestId,
        contractId,
        client: l.client!,
        authorization: req.get('authorization'),
        method: 'POST',
        path: req.originalUrl.split('?')[0]!,
        body: bodyBytes(req),
        receivedAt: l.started,
      });
      res.json(result);
    } catch (err) {
      next(err);
    }
  });
  router.all('/v1/queries/:contractId', (_req, res, next) => {
    locals(res).route = 'query';
    res.set('allow', 'POST');
    next(new GatewayError('METHOD_NOT_ALLOWED'));
  });
  return router;
}
