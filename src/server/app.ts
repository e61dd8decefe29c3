import { randomUUID } from 'node:crypto';
import type { TLSSocket } from 'node:tls';
import express, { type NextFunction, type Request, type Response } from 'express';
import { identifyClient } from '../auth/identity.js';
import type { Client } from '../auth/clients.js';
import { catalogueEntry, openApiDocument } from '../contracts/catalogue.js';
import { GatewayError, isGatewayError, toProblem } from '../errors.js';
import { auditEntry, writeAudit } from '../exchange/audit-step.js';
import { runQuery } from '../exchange/query.js';
import type { Gateway } from '../gateway.js';
import { requestContext } from '../log.js';
import { readiness } from './readiness.js';

const REQUEST_ID = /^[A-Za-z0-9._-]{8,64}$/;

interface Locals {
  requestId: string;
  started: number;
  client?: Client;
  route: string;
  contract: string;
}

function locals(res: Response): Locals {
  return res.locals as Locals;
}

/**
 * The HTTP shell: turns requests into pipeline calls and results into responses. Knows the
 * public paths of ARCHITECTURE.md and nothing of policies or audit internals.
 */
export function createApp(gateway: Gateway): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.set('query parser', () => ({}));

  app.use((req, res, next) => {
    const incoming = req.get('x-request-id');
    const requestId = incoming !== undefined && REQUEST_ID.test(incoming) ? incoming : randomUUID();
    Object.assign(res.locals, { requestId, started: performance.now(), route: 'other', contract: 'none' } satisfies Locals);
    res.set({ 'x-request-id': requestId, 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' });
    res.on('finish', () => {
      const l = locals(res);
      const seconds = (performance.now() - l.started) / 1000;
      const code = (res.getHeader('x-snitflade-code') as string | undefined) ?? 'OK';
      gateway.metrics.request(l.route, l.contract, res.statusCode < 400 ? 'ok' : code.startsWith('POLICY') ? 'deny' : 'error', code, seconds);
      gateway.logger.info('request', { requestId: l.requestId, method: req.method, route: l.route, status: res.statusCode, code, client: l.client?.id, ms: Math.round(seconds * 1000) });
    });
    requestContext.run({ requestId }, next);
  });

  // operations: no client certificate needed, no personal data
  app.get('/healthz', (_req, res) => {
    locals(res).route = 'healthz';
    res.json({ status: 'ok' });
  });
  app.get('/readyz', async (_req, res) => {
    locals(res).route = 'readyz';
    const report = await readiness(gateway);
    res.status(report.ready ? 200 : 503).json(report);
  });
  app.get('/metrics', async (_req, res) => {
    locals(res).route = 'metrics';
    res.type(gateway.metrics.registry.contentType).send(await gateway.metrics.registry.metrics());
  });

  // everything else: a registered client system, by its certificate
  app.use((req, res, next) => {
    try {
      locals(res).client = identifyClient(req.socket as TLSSocket, gateway.rules().clients);
      next();
    } catch (err) {
      next(err);
    }
  });

  app.get('/v1/contracts', (_req, res) => {
    locals(res).route = 'contracts';
    res.json({ contracts: gateway.rules().contracts.list().map(catalogueEntry) });
  });
  app.get('/v1/contracts/:id', (req, res, next) => {
    locals(res).route = 'contracts';
    const contract = gateway.rules().contracts.get(req.params.id);
    if (!contract) return next(new GatewayError('CONTRACT_UNKNOWN'));
    res.json(catalogueEntry(contract));
  });
  app.get('/openapi.json', (req, res) => {
    locals(res).route = 'openapi';
    res.json(openApiDocument(gateway.rules().contracts, { serverUrl: `https://${req.get('host') ?? 'localhost'}` }));
  });

  const rawJson = express.raw({ type: () => true, limit: gateway.config.limits.bodyBytes });
  const requireJson = (req: Request, _res: Response, next: NextFunction): void => {
    if (!req.is('application/json')) return next(new GatewayError('UNSUPPORTED_MEDIA_TYPE'));
    next();
  };

  app.post('/v1/queries/:contractId', requireJson, rawJson, async (req, res, next) => {
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
        path: req.path,
        body: Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0),
        receivedAt: l.started,
      });
      res.json(result);
    } catch (err) {
      next(err);
    }
  });

  app.use((_req, _res, next) => next(new GatewayError('NOT_FOUND')));

  // one place where errors become problem+json
  app.use(async (err: unknown, req: Request, res: Response, _next: NextFunction) => {
    const l = locals(res);
    let error = err;
    const type = (err as { type?: string } | null)?.type;
    if (type === 'entity.too.large') error = new GatewayError('BODY_TOO_LARGE');
    else if (type !== undefined && !isGatewayError(err)) error = new GatewayError('BODY_MALFORMED');
    if (!isGatewayError(error)) {
      gateway.logger.error('unhandled error', { requestId: l.requestId, error: (err as Error)?.message, stack: (err as Error)?.stack });
    }
    // Refusals of an identified caller that did not reach the pipeline are audited here.
    if (isGatewayError(error) && error.auditId === undefined && l.client !== undefined && l.route !== 'contracts' && l.route !== 'openapi' && error.code !== 'AUDIT_UNAVAILABLE' && req.method === 'POST') {
      try {
        const auditId = randomUUID();
        await writeAudit(gateway.trail, auditEntry('refusal', {
          auditId,
          requestId: l.requestId,
          caller: { system: l.client.id, administration: l.client.administration },
          contract: l.contract === 'none' ? null : l.contract,
          reasons: [error.code],
          status: error.status,
        }));
        error.auditId = auditId;
      } catch (auditErr) {
        error = auditErr;
      }
    }
    const problem = toProblem(error, l.requestId);
    res.set('x-snitflade-code', problem.code);
    if (isGatewayError(error) && error.extras.retryAfterSeconds !== undefined) res.set('retry-after', String(error.extras.retryAfterSeconds));
    res.status(problem.status).type('application/problem+json').send(JSON.stringify(problem));
  });

  return app;
}
