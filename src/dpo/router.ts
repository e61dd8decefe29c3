import express, { Router, type NextFunction, type Request, type Response } from 'express';
import helmet from 'helmet';
import type { DpoAuditDeps } from '../audit/dpo-access.js';
import { IntegrityMonitor } from '../audit/integrity-monitor.js';
import { statisticsOf } from '../audit/statistics.js';
import { DPO_REFUSALS, ERRORS, GatewayError, isGatewayError } from '../errors.js';
import type { Gateway } from '../gateway.js';
import { mayHoldCpr } from '../lib/cpr.js';
import { locals } from '../server/context.js';
import { ASSETS } from './assets.js';
import { messagePage, refusedPage, sendRefusal } from './messages.js';
import { anomaliesRoutes } from './pages/anomalies.js';
import { consentsRoutes } from './pages/consents.js';
import { consentRegistryDeps } from '../consent/records.js';
import { integrityRoutes } from './pages/integrity.js';
import { notificationsRoutes } from './pages/notifications.js';
import { overviewRoutes } from './pages/overview.js';
import { recordRoutes } from './pages/record.js';
import { relationsRoutes } from './pages/relations.js';
import { reportRoutes } from './pages/report.js';
import { searchRoutes } from './pages/search.js';
import { signInRoutes } from './pages/signin.js';
import {
  anyContext,
  bodyOf,
  dpoOf,
  field,
  guestContext,
  identityOf,
  langField,
  pageContext,
  sendPage,
  type DpoDeps,
  type DpoLocals,
  type DpoPages,
} from './request.js';
import { identify, sameOrigin, sameToken, Sessions } from './session.js';

/**
 * The DPO review pages under /dpo/: HTML for a person in a browser, over the same mutual-TLS
 * listener as the API. This is their shell; each page is a module of its own in pages/. The
 * shell checks the client certificate itself (a refusal is an HTML page, not problem+json),
 * signs the DPO in to a short-lived session (session.ts), protects every state-changing form
 * against CSRF, keeps the DPO's language, answers what no page answers, and sends strict
 * security headers: a content security policy without inline script or style, no framing, no
 * referrer to other sites.
 *
 * Personal data: a CPR number travels only in POST bodies and is turned into the citizen's
 * pseudonym at once; URLs carry opaque ids (a saved search, a record). Every DPO access to a
 * citizen's data (search by CPR, access report, consent look-up) is written to the audit trail
 * before anything is shown.
 */

export interface DpoRouterOptions {
  /** How often a full verification of the trail runs by itself (default 6 hours). */
  readonly fullVerificationEveryMs?: number;
}

/** The pages behind the session check, in the order they are mounted. */
const PAGES: readonly DpoPages[] = [
  overviewRoutes,
  searchRoutes,
  recordRoutes,
  anomaliesRoutes,
  integrityRoutes,
  reportRoutes,
  consentsRoutes,
  relationsRoutes,
  notificationsRoutes,
];

/** What the pages are given: the trail and the registries through audit/, consent/ and outbox/, never the store itself. */
function dpoDeps(gateway: Gateway, options: DpoRouterOptions): DpoDeps {
  const store = gateway.store;
  const audit: DpoAuditDeps = {
    store,
    trail: gateway.trail,
    pseudonyms: gateway.pseudonyms,
    verifier: gateway.audit.verifier,
    rules: gateway.rules,
    includeEmployee: gateway.config.audit.reportIncludesEmployee,
    observe: gateway.metrics,
  };
  return {
    rules: gateway.rules,
    logger: gateway.logger,
    pseudonyms: gateway.pseudonyms,
    sessions: new Sessions(gateway),
    audit,
    statistics: statisticsOf(store),
    // The gateway's own catch-up (it also runs every few seconds): one pass at a time per process.
    rollups: gateway.rollups,
    integrity: new IntegrityMonitor(
      store,
      gateway.audit.verifier,
      options.fullVerificationEveryMs !== undefined ? { fullEveryMs: options.fullVerificationEveryMs } : {},
    ),
    consents: consentRegistryDeps(gateway),
    deadLetters: { outbox: store.outbox, trail: gateway.trail, wake: () => gateway.outbox.wake() },
  };
}

export function dpoRouter(gateway: Gateway, options: DpoRouterOptions = {}): Router {
  const router = Router();
  const deps = dpoDeps(gateway, options);

  router.use(
    helmet({
      contentSecurityPolicy: {
        useDefaults: false,
        directives: {
          defaultSrc: ["'none'"],
          scriptSrc: ["'self'"],
          styleSrc: ["'self'"],
          imgSrc: ["'self'"],
          connectSrc: ["'self'"],
          formAction: ["'self'"],
          frameAncestors: ["'none'"],
          baseUri: ["'none'"],
        },
      },
      crossOriginOpenerPolicy: { policy: 'same-origin' },
      crossOriginResourcePolicy: { policy: 'same-origin' },
      // same-origin, not no-referrer: with no-referrer, browsers send "Origin: null" on form posts,
      // and the origin check below needs the real one. URLs hold no personal data either way.
      referrerPolicy: { policy: 'same-origin' },
      strictTransportSecurity: { maxAge: 31_536_000, includeSubDomains: true },
      xFrameOptions: { action: 'deny' },
    }),
  );
  router.use((_req, res, next) => {
    locals(res).route = 'dpo';
    res.set('permissions-policy', 'camera=(), microphone=(), geolocation=(), payment=(), usb=()');
    next();
  });

  router.get('/assets/:name', (req, res, next) => {
    const asset = ASSETS.get(req.params.name);
    if (asset === undefined) return next();
    res.set({ 'content-type': asset.type, 'cache-control': 'private, max-age=300', etag: asset.etag });
    res.send(asset.body);
  });

  router.use(express.urlencoded({ extended: false, limit: '16kb', parameterLimit: 40 }));

  // Who is on the other end: only the DPO certificate gets further than this.
  router.use((req, res, next) => {
    const id = identify(gateway, req);
    if (id.client !== undefined) locals(res).client = id.client; // for the request log line
    if (id.ok) {
      res.locals.dpoIdentity = id;
      return next();
    }
    const code = id.code === 'NOT_DPO' ? 'FORBIDDEN_ROLE' : id.code;
    res.locals.problemCode = code;
    const ctx = guestContext(deps, req, 'da');
    sendPage(
      res,
      ERRORS[code].status,
      refusedPage(
        ctx,
        id.code === 'NOT_DPO'
          ? { code: 'NOT_DPO', clientId: id.client?.id ?? '', clientTitle: id.client?.title.da ?? '' }
          : { code: id.code },
      ),
    );
  });

  signInRoutes(router, deps);

  // Everything else needs a session of this certificate.
  router.use(async (req, res, next) => {
    const identity = identityOf(res);
    const check = await deps.sessions.check(req, identity);
    if (!check.ok) {
      if (req.method === 'GET') return res.redirect(303, check.reason === 'expired' ? '/dpo/sign-in?expired=1' : '/dpo/sign-in');
      return sendRefusal(res, guestContext(deps, req, 'da'), 'sessionExpired', 'session-expired');
    }
    res.locals.dpo = { client: identity.client, fingerprint: identity.fingerprint, session: check.session } satisfies DpoLocals;
    if (req.method === 'POST' && (!sameOrigin(req) || !sameToken(field(bodyOf(req), '_csrf'), check.session.csrf)))
      return sendRefusal(res, pageContext(deps, req, res), 'formRefused', 'csrf-refused');
    next();
  });

  router.post('/sign-out', async (req, res) => {
    await deps.sessions.close(req, res);
    res.redirect(303, '/dpo/sign-in?signed-out=1');
  });

  router.post('/lang', async (req, res) => {
    const body = bodyOf(req);
    await deps.sessions.setLang(dpoOf(res).session, langField(body, 'lang'));
    const back = field(body, 'back');
    res.redirect(303, /^\/dpo\/[A-Za-z0-9/_-]*$/.test(back) && !back.includes('//') && !mayHoldCpr(back) ? back : '/dpo/');
  });

  for (const pages of PAGES) pages(router, deps);

  // --- not found and errors ------------------------------------------------------------------

  router.use((req, res) => {
    sendRefusal(res, anyContext(deps, req, res), 'pageNotFound', 'not-found');
  });

  router.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
    const known = isGatewayError(err)
      ? err
      : err instanceof Error && (err as { type?: string }).type === 'entity.too.large'
        ? new GatewayError('BODY_TOO_LARGE')
        : undefined;
    if (known === undefined)
      gateway.logger.error('dpo page failed', {
        requestId: locals(res).requestId,
        error: (err as Error)?.message,
        stack: (err as Error)?.stack,
      });
    const code = known?.code ?? 'INTERNAL';
    res.locals.problemCode = code;
    const ctx = anyContext(deps, req, res);
    // The audit trail's refusal and an internal failure in the registry's words; any other refusal by its own message.
    const words = DPO_REFUSALS[code === 'AUDIT_UNAVAILABLE' ? 'auditUnavailable' : 'internal'][ctx.lang];
    const message = known !== undefined && code !== 'AUDIT_UNAVAILABLE' ? known.message : words.message;
    sendPage(
      res,
      ERRORS[code].status,
      messagePage(ctx, { title: words.title, message: `${message} (${locals(res).requestId})`, code, id: 'error' }),
    );
  });

  return router;
}
