import { Router } from 'express';
import { catalogueEntry } from '../../contracts/catalogue.js';
import { GatewayError } from '../../errors.js';
import type { Gateway } from '../../gateway.js';
import { locals } from '../context.js';
import { gatewayOpenApiDocument } from '../openapi.js';

/** GET /v1/contracts, /v1/contracts/{id}, /openapi.json: for any registered client. */
export function catalogueRoutes(gateway: Gateway): Router {
  const router = Router();
  router.get('/v1/contracts', (_req, res) => {
    locals(res).route = 'contracts';
    res.json({ contracts: gateway.rules().contracts.list().map(catalogueEntry) });
  });
  router.get('/v1/contracts/:id', (req, res, next) => {
    locals(res).route = 'contracts';
    const contract = gateway.rules().contracts.get(req.params.id);
    if (!contract) return next(new GatewayError('CONTRACT_UNKNOWN'));
    res.json(catalogueEntry(contract));
  });
  router.get('/openapi.json', (req, res) => {
    locals(res).route = 'openapi';
    res.json(gatewayOpenApiDocument(gateway.rules().contracts, { serverUrl: `https://${req.get('host') ?? 'localhost'}` }));
  });
  return router;
}
