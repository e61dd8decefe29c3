import { Router } from 'express';
import type { Gateway } from '../../gateway.js';
import { locals } from '../context.js';
import { readiness, readinessSummary } from '../readiness.js';

/**
 * GET /healthz, /readyz, /metrics: no client certificate needed, no personal data. /readyz says
 * only whether this instance is ready and, if not, why (the statuses a prober acts on: 200 or
 * 503); the detail behind it is for the operators, at GET /v1/admin/readiness (routes/admin.ts).
 */
export function operationsRoutes(gateway: Gateway): Router {
  const router = Router();
  router.get('/healthz', (_req, res) => {
    locals(res).route = 'healthz';
    res.json({ status: 'ok' });
  });
  router.get('/readyz', async (_req, res) => {
    locals(res).route = 'readyz';
    const report = await readiness(gateway);
    res.status(report.ready ? 200 : 503).json(readinessSummary(report));
  });
  router.get('/metrics', async (_req, res) => {
    locals(res).route = 'metrics';
    res.type(gateway.metrics.registry.contentType).send(await gateway.metrics.registry.metrics());
  });
  return router;
}
