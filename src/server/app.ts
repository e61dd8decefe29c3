import { randomUUID } from 'node:crypto';
import type { TLSSocket } from 'node:tls';
import express, { type NextFunction, type Request, type Response } from 'express';
import { identifyClient } from '../auth/identity.js';
import { GatewayError, isGatewayError, toProblem } from '../errors.js';
import { auditEntry } from '../audit/entry.js';
import { writeAudit } from '../audit/write.js';
import type { Gateway } from '../gateway.js';
import { locals, type RequestLocals } from './context.js';
import { ClientLimiter, clientLimits } from './limits.js';
import { adminRoutes } from './routes/admin.js';
import { auditRoutes } from './routes/audit.js';
import { catalogueRoutes } from './routes/catalogue.js';
import { consentRoutes } from './routes/consents.js';
import { relationRoutes } from './routes/relations.js';
import { notificationRoutes } from './routes/notifications.js';
import { exchangeRoutes } from './routes/exchange.js';
import { operationsRoutes } from './routes/operations.js';
import { dpoRouter } from '../dpo/router.js';
import { newAuditId } from '../audit/id.js';
import { mayHoldCpr } from '../lib/cpr.js';
import { refuseQueryString } from './request-target.js';

/**
 * A caller's request id is echoed, audited, logged and forwarded, so it is kept only in a
 * strict safe shape: 8-64 letters, digits, ".", "_" or "-", holding no CPR number in any written
 * form. Anything else is replaced by a fresh id, which the x-request-id header returns.
 */
const REQUEST_ID = /^[A-Za-z0-9._-]{8,64}$/;
const safeRequestId = (incoming: string | undefined): incoming is string =>
  incoming !== undefined && REQUEST_ID.test(incoming) && !mayHoldCpr(incoming);

/**
 * The HTTP shell: the public paths of ARCHITECTURE.md, each feature's routes in
 * src/server/routes/. Routes turn requests into calls and results into responses; errors become
 * problem+json in one place, below.
 */
export function createApp(gateway: Gateway): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.set('query parser', () => ({}));

  app.use((req, res, next) => {
    const incoming = req.get('x-request-id');
    const requestId = safeRequestId(incoming) ? incoming : randomUUID();
    Object.assign(res.locals, { requestId, started: performance.now(), route: 'other', contract: 'none' } satisfies RequestLocals);
    res.set({ 'x-request-id': requestId, 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' });
    res.on('finish', () => {
      const l = locals(res);
      const seconds = (performance.now() - l.started) / 1000;
      const code = (res.locals.problemCode as string | undefined) ?? 'OK';
      gateway.metrics.request(
        l.route,
        l.contract,
        res.statusCode < 400 ? 'ok' : code === 'POLICY_DENIED' || code === 'CONSENT_REQUIRED' ? 'deny' : 'error',
        code,
        seconds,
      );
      gateway.logger.info('request', {
        requestId: l.requestId,
        method: req.method,
        route: l.route,
        status: res.statusCode,
        code,
        client: l.client?.id,
        ms: Math.round(seconds * 1000),
      });
    });
    // HTTP/1.1 requires Host (RFC 9112 3.2); the server leaves this check to the app so the refusal is problem+json.
    if (req.httpVersion === '1.1' && req.headers.host === undefined) return next(new GatewayError('HTTP_MALFORMED'));
    next();
  });
  // A query string (or fragment) is refused before anything else, on every path but the DPO pages'.
  app.use(refuseQueryString);

  app.use(operationsRoutes(gateway));
  // The DPO review pages check the client certificate themselves and answer in HTML (src/dpo/).
  app.use('/dpo', dpoRouter(gateway));

  // Everything else: a registered client system, recognised by its certificate.
  app.use((req, res, next) => {
    locals(res).client = identifyClient(req.socket as TLSSocket, gateway.rules().clients, (serial) =>
      gateway.revocations().isRevoked(serial),
    );
    next();
  });
  app.use(clientLimits(new ClientLimiter(gateway.config.limits)));
  app.use(catalogueRoutes(gateway));
  app.use(adminRoutes(gateway));
  app.use(exchangeRoutes(gateway));
  app.use(consentRoutes(gateway));
  app.use(relationRoutes(gateway));
  app.use(notificationRoutes(gateway));
  app.use(auditRoutes(gateway));

  app.use((_req, _res, next) => next(new GatewayError('NOT_FOUND')));
  app.use(errorHandler(gateway));
  return app;
}

/** The one place where errors become RFC 9457 problem+json. */
function errorHandler(gateway: Gateway) {
  return async (err: unknown, _req: Request, res: Response, _next: NextFunction): Promise<void> => {
    const l = locals(res);
    let error = err;
    const type = (err as { type?: string } | null)?.type;
    const status = (err as { status?: unknown } | null)?.status;
    if (type === 'entity.too.large') error = new GatewayError('BODY_TOO_LARGE');
    else if (type === 'encoding.unsupported') error = new GatewayError('UNSUPPORTED_MEDIA_TYPE');
    else if (type !== undefined && !isGatewayError(err)) error = new GatewayError('BODY_MALFORMED');
    // A client error raised by express itself (e.g. a path that cannot be percent-decoded).
    else if (!isGatewayError(err) && typeof status === 'number' && status >= 400 && status < 500)
      error = new GatewayError('HTTP_MALFORMED');
    if (!isGatewayError(error)) {
      gateway.logger.error('unhandled error', { requestId: l.requestId, error: (err as Error)?.message, stack: (err as Error)?.stack });
    }
    // A refusal of an identified caller that the pipeline did not audit is audited here
    // (the public catalogue excepted: it holds no citizen data).
    if (
      isGatewayError(error) &&
      error.auditId === undefined &&
      l.client !== undefined &&
      l.route !== 'contracts' &&
      l.route !== 'openapi' &&
      error.code !== 'AUDIT_UNAVAILABLE'
    ) {
      try {
        const auditId = newAuditId();
        await writeAudit(
          gateway.trail,
          auditEntry('refusal', {
            auditId,
            requestId: l.requestId,
            caller: { system: l.client.id, administration: l.client.administration },
            contract: l.contract === 'none' ? null : l.contract,
            caseworker: l.token?.caseworker ?? null,
            tokenDigest: l.token?.digest ?? null,
            // The refusal's own reason codes too (an artefact's, say): stable codes, never values.
            reasons: [error.code, ...(error.extras.reasons ?? [])],
            status: error.status,
          }),
          gateway.metrics,
        );
        error.auditId = auditId;
      } catch (auditErr) {
        error = auditErr;
      }
    }
    const problem = toProblem(error, l.requestId);
    res.locals.problemCode = problem.code;
    if (isGatewayError(error) && error.extras.retryAfterSeconds !== undefined)
      res.set('retry-after', String(error.extras.retryAfterSeconds));
    res.status(problem.status).type('application/problem+json').send(JSON.stringify(problem));
  };
}
