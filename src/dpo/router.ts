import { randomUUID } from 'node:crypto';
import express, { Router, type NextFunction, type Request, type Response } from 'express';
import helmet from 'helmet';
import { dpoAccessEntry, dpoCitizenReport, type DpoAuditDeps, type DpoCaller } from '../audit/dpo-access.js';
import { DPO_ACCESS, type DpoAccess } from '../audit/reasons.js';
import { citizenReportCsv, type CitizenReport } from '../audit/report.js';
import type { Client } from '../auth/clients.js';
import type { RequestToken } from '../auth/token.js';
import { searchConsents } from '../consent/records.js';
import type { ConsentView } from '../consent/types.js';
import { GatewayError, isGatewayError } from '../errors.js';
import { writeAudit } from '../audit/write.js';
import type { Gateway } from '../gateway.js';
import { mayHoldCpr, parseCpr } from '../lib/cpr.js';
import { sha256b64url } from '../lib/digest.js';
import { redriveDelivery, searchDeliveries } from '../outbox/dead-letters.js';
import { locals } from '../server/context.js';
import { copenhagen, copenhagenDayStart, nextDay } from '../store/dpo-rollup.js';
import type { DayRange, DpoSession } from '../store/dpo-types.js';
import { InvalidCursorError, type AuditQuery } from '../store/types.js';
import { DEFAULT_THRESHOLDS, findAnomalies, type WithdrawnConsentUse } from './anomalies.js';
import { ASSETS } from './assets.js';
import type { Series } from './charts.js';
import { translator, type Lang } from './html.js';
import { IntegrityMonitor } from './integrity.js';
import { contractTitle, purposeTitle, reasonText } from './labels.js';
import { citizenReportPdf } from './report-pdf.js';
import { ABSOLUTE_MS, clearCookie, identify, issueSigninToken, readCookie, sameOrigin, sameToken, Sessions, SIGNIN_COOKIE } from './session.js';
import { anomaliesPage } from './views/anomalies.js';
import { consentsPage, notificationsPage } from './views/consents.js';
import { integrityPage } from './views/integrity.js';
import type { PageContext } from './views/layout.js';
import { overviewPage, type CheckpointSummary } from './views/overview.js';
import { recordPage } from './views/record.js';
import { reportFormPage, reportPage, type ReportRequest } from './views/report.js';
import { resultsPage, searchPage, type SearchCriteria, type SearchFormValues } from './views/search.js';
import { messagePage, refusedPage, signInPage } from './views/signin.js';
import { newAuditId } from '../audit/id.js';

/**
 * The DPO review pages under /dpo/: HTML for a person in a browser, over the same mutual-TLS
 * listener as the API. The pages check the client certificate themselves (a refusal is an HTML
 * page, not problem+json), sign the DPO in to a short-lived session (session.ts), protect every
 * state-changing form against CSRF, and send strict security headers: a content security
 * policy without inline script or style, no framing, no referrer to other sites.
 *
 * Personal data: a CPR number travels only in POST bodies and is turned into the citizen's
 * pseudonym at once; URLs carry opaque ids (a saved search, a record). Every DPO access to a
 * citizen's data (search by CPR, access report, consent look-up) is written to the audit trail
 * before anything is shown.
 */

const DAY_PATTERN = /^\d{4}-\d{2}-\d{2}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const MAX_PERIOD_DAYS = 400;
const PAGE_SIZE = 50;
/** Records the statistics and the integrity check count per page view before answering. */
const VIEW_BUDGET = 20_000;

interface DpoLocals {
  readonly client: Client;
  readonly fingerprint: string;
  readonly session: DpoSession;
}

type Body = Record<string, unknown>;

const field = (body: Body, name: string): string => {
  const v = body[name];
  return typeof v === 'string' ? v.trim() : '';
};

function validDay(day: string): boolean {
  return DAY_PATTERN.test(day) && !Number.isNaN(Date.parse(`${day}T00:00:00Z`)) && new Date(`${day}T00:00:00Z`).toISOString().slice(0, 10) === day;
}

/** A form value shown again on a page with an error: never one that may hold a CPR number, and a day only when it is one. */
function echoable<T extends object>(values: T): T {
  return Object.fromEntries(Object.entries(values).map(([k, v]) => [k, typeof v !== 'string' || (/Day$/.test(k) ? v === '' || validDay(v) : !mayHoldCpr(v)) ? v : ''])) as T;
}

function daysBetween(from: string, to: string): number {
  return Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / 86_400_000);
}

function minusDays(day: string, n: number): string {
  return new Date(Date.parse(`${day}T00:00:00Z`) - n * 86_400_000).toISOString().slice(0, 10);
}

/** The query string, read by hand: the app turns express's query parser off. */
function queryParam(req: Request, name: string): string | undefined {
  const q = req.originalUrl.indexOf('?');
  if (q < 0) return undefined;
  return new URLSearchParams(req.originalUrl.slice(q + 1)).get(name) ?? undefined;
}

/** The period of a page: ?from=YYYY-MM-DD&to=YYYY-MM-DD, by default the last 30 days. */
function periodOf(req: Request): DayRange {
  const today = copenhagen(Date.now()).day;
  const to = queryParam(req, 'to');
  const from = queryParam(req, 'from');
  const toDay = to !== undefined && validDay(to) ? to : today;
  let fromDay = from !== undefined && validDay(from) ? from : minusDays(toDay, 29);
  if (fromDay > toDay) fromDay = toDay;
  if (daysBetween(fromDay, toDay) > MAX_PERIOD_DAYS) fromDay = minusDays(toDay, MAX_PERIOD_DAYS);
  return { fromDay, toDay };
}

function allDays(range: DayRange): string[] {
  const out: string[] = [];
  for (let d = range.fromDay; d <= range.toDay; d = nextDay(d)) out.push(d);
  return out;
}

export interface DpoRouterOptions {
  /** How often a full verification of the trail runs by itself (default 6 hours). */
  readonly fullVerificationEveryMs?: number;
}

export function dpoRouter(gateway: Gateway, options: DpoRouterOptions = {}): Router {
  const router = Router();
  const store = gateway.store;
  const sessions = new Sessions(gateway);
  const integrity = new IntegrityMonitor(store, gateway.audit.verifier, options.fullVerificationEveryMs !== undefined ? { fullEveryMs: options.fullVerificationEveryMs } : {});
  // The gateway's own catch-up (it also runs every few seconds): one pass at a time per process.
  const catchUp = gateway.rollups;
  const logError = (what: string) => (err: unknown) => gateway.logger.error(what, { error: (err as Error)?.message });

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
    const asset = ASSETS.get(req.params.name as string);
    if (asset === undefined) return next();
    res.set({ 'content-type': asset.type, 'cache-control': 'private, max-age=300', etag: asset.etag });
    res.send(asset.body);
  });

  router.use(express.urlencoded({ extended: false, limit: '16kb', parameterLimit: 40 }));

  // The page's own address, for the language switch to come back to; never one that may hold a CPR number.
  const ownPath = (req: Request): string => {
    const p = req.originalUrl.split('?')[0] ?? '/dpo/';
    return mayHoldCpr(p) ? '/dpo/' : p;
  };
  const baseCtx = (req: Request, lang: Lang, extra: Partial<PageContext> = {}): PageContext => ({ lang, t: translator(lang), rules: gateway.rules(), path: ownPath(req), ...extra });
  const ctxOf = (req: Request, res: Response): PageContext => {
    const d = res.locals.dpo as DpoLocals;
    return baseCtx(req, d.session.lang, { clientId: d.client.id, csrf: d.session.csrf });
  };
  const dpoOf = (res: Response): DpoLocals => res.locals.dpo as DpoLocals;
  const html = (res: Response, status: number, body: string): void => {
    res.status(status).type('text/html; charset=utf-8').send(body);
  };

  // Who is on the other end: only the DPO certificate gets further than this.
  router.use((req, res, next) => {
    const id = identify(gateway, req);
    if (id.client !== undefined) locals(res).client = id.client; // for the request log line
    if (id.ok) {
      res.locals.dpoIdentity = id;
      return next();
    }
    res.locals.problemCode = id.code === 'NOT_DPO' ? 'FORBIDDEN_ROLE' : id.code;
    const ctx = baseCtx(req, 'da');
    if (id.code === 'NOT_DPO') return html(res, 403, refusedPage(ctx, { code: 'NOT_DPO', clientId: id.client?.id ?? '', clientTitle: id.client?.title ?? '' }));
    return html(res, 401, refusedPage(ctx, { code: id.code }));
  });

  const identityOf = (res: Response) => res.locals.dpoIdentity as { client: Client; fingerprint: string };

  router.get('/sign-in', async (req, res) => {
    const identity = identityOf(res);
    const current = await sessions.check(req, identity);
    if (current.ok) return res.redirect(303, '/dpo/');
    const lang: Lang = queryParam(req, 'lang') === 'en' ? 'en' : 'da';
    const token = issueSigninToken(res);
    html(res, 200, signInPage(baseCtx(req, lang), { clientId: identity.client.id, clientTitle: identity.client.title, token, expired: queryParam(req, 'expired') === '1', signedOut: queryParam(req, 'signed-out') === '1' }));
  });

  router.post('/sign-in', async (req, res) => {
    const identity = identityOf(res);
    const body = (req.body ?? {}) as Body;
    if (!sameOrigin(req) || !sameToken(field(body, '_signin'), readCookie(req, SIGNIN_COOKIE))) {
      res.locals.problemCode = 'DPO_FORM_EXPIRED';
      const ctx = baseCtx(req, 'da');
      return html(res, 403, messagePage(ctx, { title: ctx.t('Formularen er udløbet', 'The form has expired'), message: ctx.t('Åbn log ind-siden igen og log ind derfra.', 'Open the sign-in page again and sign in from there.'), code: 'DPO_FORM_EXPIRED', id: 'form-expired' }));
    }
    clearCookie(res, SIGNIN_COOKIE);
    await sessions.open(res, identity, field(body, 'lang') === 'en' ? 'en' : 'da');
    gateway.logger.info('dpo signed in', { requestId: res.locals.requestId as string, client: identity.client.id });
    res.redirect(303, '/dpo/');
  });

  // Everything else needs a session of this certificate.
  router.use(async (req, res, next) => {
    try {
      const identity = identityOf(res);
      const check = await sessions.check(req, identity);
      if (!check.ok) {
        if (req.method === 'GET') return res.redirect(303, check.reason === 'expired' ? '/dpo/sign-in?expired=1' : '/dpo/sign-in');
        res.locals.problemCode = 'DPO_FORM_EXPIRED';
        const ctx = baseCtx(req, 'da');
        return html(res, 403, messagePage(ctx, { title: ctx.t('Du er ikke logget ind', 'You are not signed in'), message: ctx.t('Din session er udløbet. Log ind igen på /dpo/sign-in.', 'Your session has expired. Sign in again at /dpo/sign-in.'), code: 'DPO_FORM_EXPIRED', id: 'session-expired' }));
      }
      res.locals.dpo = { client: identity.client, fingerprint: identity.fingerprint, session: check.session } satisfies DpoLocals;
      if (req.method === 'POST') {
        const body = (req.body ?? {}) as Body;
        if (!sameOrigin(req) || !sameToken(field(body, '_csrf'), check.session.csrf)) {
          res.locals.problemCode = 'DPO_FORM_EXPIRED';
          const ctx = ctxOf(req, res);
          return html(res, 403, messagePage(ctx, { title: ctx.t('Formularen blev afvist', 'The form was refused'), message: ctx.t('Formularen er udløbet eller kom fra et andet websted. Genindlæs siden og prøv igen.', 'The form has expired or came from another site. Reload the page and try again.'), code: 'DPO_FORM_EXPIRED', id: 'csrf-refused' }));
        }
      }
      next();
    } catch (err) {
      next(err);
    }
  });

  /** A RequestToken standing for the DPO's session, for the consent and outbox operations that audit their caller. */
  const sessionToken = (d: DpoLocals): RequestToken => ({
    issuer: d.client.id,
    caseworker: d.client.id,
    purpose: 'dpo-review',
    caseRef: 'dpo-session',
    jti: randomUUID(),
    expiresAt: new Date(d.session.createdAt + ABSOLUTE_MS),
    digest: sha256b64url(d.session.idHash),
  });

  /** The DPO as the audit and consent operations see their caller: the session stands in for a request token. */
  const caller = (res: Response): DpoCaller => {
    const d = dpoOf(res);
    return { requestId: locals(res).requestId, client: d.client, token: sessionToken(d) };
  };
  const auditDeps = (): DpoAuditDeps => ({
    store,
    trail: gateway.trail,
    pseudonyms: gateway.pseudonyms,
    verifier: gateway.audit.verifier,
    rules: gateway.rules,
    includeEmployee: gateway.config.audit.reportIncludesEmployee,
    observe: gateway.metrics,
  });

  /** Writes the DPO's access to the trail (kind dpo-access); durable before anything is shown. */
  const auditAccess = async (res: Response, access: DpoAccess, subject: string | null): Promise<void> => {
    await writeAudit(gateway.trail, dpoAccessEntry(auditDeps(), caller(res), access, subject, newAuditId()), gateway.metrics);
  };

  router.post('/sign-out', async (req, res) => {
    await sessions.close(req, res);
    res.redirect(303, '/dpo/sign-in?signed-out=1');
  });

  router.post('/lang', async (req, res) => {
    const body = (req.body ?? {}) as Body;
    const lang: Lang = field(body, 'lang') === 'en' ? 'en' : 'da';
    await sessions.setLang(dpoOf(res).session, lang);
    const back = field(body, 'back');
    res.redirect(303, /^\/dpo\/[A-Za-z0-9/_-]*$/.test(back) && !back.includes('//') && !mayHoldCpr(back) ? back : '/dpo/');
  });

  // --- overview ------------------------------------------------------------------------------

  const checkpointSummaries = async (chains: readonly string[]): Promise<CheckpointSummary[]> => {
    const out: CheckpointSummary[] = [];
    for (const chain of chains) {
      const latest = await store.checkpoints.latest(chain);
      if (latest === undefined) continue;
      let signatureValid = false;
      try {
        const payload = await gateway.audit.verifier.verify(latest.jws);
        signatureValid = payload.chain === chain && payload.seq === latest.seq;
      } catch {
        signatureValid = false;
      }
      out.push({ chain, seq: latest.seq, time: latest.time, signatureValid });
    }
    return out;
  };

  const countBehind = async (): Promise<number> => {
    const behind = await catchUp.run(VIEW_BUDGET);
    if (behind > 0) catchUp.background(logError('dpo statistics catch-up failed'));
    return behind;
  };

  router.get('/', async (req, res) => {
    const ctx = ctxOf(req, res);
    const rules = ctx.rules;
    const range = periodOf(req);
    const behind = await countBehind();
    const [days, byCaller, byContract, byPurpose, reasons] = await Promise.all([
      store.dpo.trafficByDay(range),
      store.dpo.trafficBy('callerSystem', range),
      store.dpo.trafficBy('contract', range),
      store.dpo.trafficBy('purpose', range),
      store.dpo.reasons(range),
    ]);
    const status = await integrity.refresh(VIEW_BUDGET, logError('dpo full verification failed'));
    const perDay = new Map(days.map((d) => [d.day, d]));
    const series = (rows: readonly { key: string; requests: number; refused: number }[], label: (key: string) => string): Series[] =>
      rows.map((r) => ({ label: label(r.key), permitted: r.requests - r.refused, refused: r.refused }));
    const byReason = new Map<string, number>();
    for (const r of reasons) byReason.set(r.reason, (byReason.get(r.reason) ?? 0) + r.n);
    html(res, 200, overviewPage(ctx, {
      range,
      days: allDays(range).map((day) => {
        const d = perDay.get(day);
        return { label: day, permitted: (d?.requests ?? 0) - (d?.refused ?? 0), refused: d?.refused ?? 0 };
      }),
      byPurpose: series(byPurpose, (k) => (k === '' ? ctx.t('(intet formål)', '(no purpose)') : purposeTitle(rules, k, ctx.lang))),
      byContract: series(byContract, (k) => (k === '' ? ctx.t('(ingen kontrakt)', '(no contract)') : contractTitle(rules, k, ctx.lang))),
      byCaller: series(byCaller, (k) => (k === '' ? ctx.t('(ukendt)', '(unknown)') : k)),
      reasons: [...byReason.entries()].sort((a, b) => b[1] - a[1]).map(([code, n]) => ({ code, label: reasonText(code, ctx.lang), n })),
      integrity: status,
      checkpoints: await checkpointSummaries(status.chains.map((c) => c.chain)),
      behind,
    }));
  });

  // --- search --------------------------------------------------------------------------------

  const parseSearch = (ctx: PageContext, body: Body): { criteria: SearchCriteria; cpr?: string; values: SearchFormValues } | { error: string; values: SearchFormValues } => {
    const rules = ctx.rules;
    const values: SearchFormValues = {
      callerSystem: field(body, 'callerSystem'),
      caseworker: field(body, 'caseworker'),
      contract: field(body, 'contract'),
      purpose: field(body, 'purpose'),
      decision: field(body, 'decision'),
      kind: field(body, 'kind'),
      fromDay: field(body, 'from'),
      toDay: field(body, 'to'),
    };
    const rawCpr = field(body, 'cpr');
    const cpr = rawCpr === '' ? undefined : parseCpr(rawCpr);
    if (rawCpr !== '' && cpr === undefined) return { error: ctx.t('CPR-nummeret er ikke gyldigt: ti cifre (DDMMÅÅXXXX) med en rigtig dato.', 'The CPR number is not valid: ten digits (DDMMYYXXXX) with a real date.'), values };
    if (values.callerSystem && rules.clients.byId(values.callerSystem) === undefined) return { error: ctx.t('Ukendt kaldende system.', 'Unknown calling system.'), values };
    if (values.contract && rules.contracts.get(values.contract) === undefined) return { error: ctx.t('Ukendt kontrakt.', 'Unknown contract.'), values };
    if (values.purpose && !rules.policies.purposes.has(values.purpose)) return { error: ctx.t('Ukendt formål.', 'Unknown purpose.'), values };
    if (values.decision && values.decision !== 'permit' && values.decision !== 'deny') return { error: ctx.t('Ukendt afgørelse.', 'Unknown decision.'), values };
    if (values.kind && !['decision', 'release', 'refusal', 'consent', 'notification', 'admin', 'dpo-access'].includes(values.kind)) return { error: ctx.t('Ukendt posttype.', 'Unknown record kind.'), values };
    if (values.caseworker && (values.caseworker.length > 200 || !/^[\x21-\x7e][\x20-\x7e]*$/.test(values.caseworker) || mayHoldCpr(values.caseworker))) {
      return { error: ctx.t('Sagsbehandler-id er ikke gyldigt (og må ikke indeholde et CPR-nummer).', 'The caseworker id is not valid (and must not hold a CPR number).'), values: { ...values, caseworker: '' } };
    }
    for (const d of [values.fromDay, values.toDay]) if (d && !validDay(d)) return { error: ctx.t('Datoer skrives ÅÅÅÅ-MM-DD.', 'Dates are written YYYY-MM-DD.'), values };
    if (values.fromDay && values.toDay && values.fromDay > values.toDay) return { error: ctx.t('Perioden slutter, før den begynder.', 'The period ends before it starts.'), values };
    const criteria: SearchCriteria = {
      ...(cpr !== undefined ? { subjects: gateway.pseudonyms.all(cpr) } : {}),
      ...(values.callerSystem ? { callerSystem: values.callerSystem } : {}),
      ...(values.caseworker ? { caseworker: values.caseworker } : {}),
      ...(values.contract ? { contract: values.contract } : {}),
      ...(values.purpose ? { purpose: values.purpose } : {}),
      ...(values.decision ? { decision: values.decision as 'permit' | 'deny' } : {}),
      ...(values.kind ? { kind: values.kind as SearchCriteria['kind'] } : {}),
      ...(values.fromDay ? { fromDay: values.fromDay } : {}),
      ...(values.toDay ? { toDay: values.toDay } : {}),
    };
    return cpr !== undefined ? { criteria, cpr, values } : { criteria, values };
  };

  router.get('/search', (req, res) => {
    html(res, 200, searchPage(ctxOf(req, res)));
  });

  router.post('/search', async (req, res) => {
    const ctx = ctxOf(req, res);
    const parsed = parseSearch(ctx, (req.body ?? {}) as Body);
    if ('error' in parsed) {
      res.locals.problemCode = 'DPO_INPUT_INVALID';
      return html(res, 400, searchPage(ctx, echoable(parsed.values), parsed.error));
    }
    await auditAccess(res, DPO_ACCESS.search, parsed.criteria.subjects?.[0] ?? null);
    const id = randomUUID();
    await store.dpo.saveSearch({ id, sessionHash: dpoOf(res).session.idHash, createdAt: Date.now(), query: JSON.stringify(parsed.criteria) });
    res.redirect(303, `/dpo/search/${id}`);
  });

  router.get('/search/:id', async (req, res) => {
    const ctx = ctxOf(req, res);
    const id = req.params.id as string;
    const saved = UUID.test(id) ? await store.dpo.savedSearch(id, dpoOf(res).session.idHash) : undefined;
    if (saved === undefined) {
      res.locals.problemCode = 'DPO_SEARCH_EXPIRED';
      return html(res, 404, messagePage(ctx, { title: ctx.t('Søgningen findes ikke længere', 'The search is no longer available'), message: ctx.t('En søgning gemmes kun i den session, der lavede den. Søg igen.', 'A search is kept only for the session that ran it. Search again.'), code: 'DPO_SEARCH_EXPIRED', id: 'search-expired' }));
    }
    const c = JSON.parse(saved.query) as SearchCriteria;
    const after = queryParam(req, 'after');
    const query: AuditQuery = {
      ...(c.subjects !== undefined ? { subject: c.subjects } : {}),
      ...(c.callerSystem !== undefined ? { callerSystem: c.callerSystem } : {}),
      ...(c.caseworker !== undefined ? { caseworker: c.caseworker } : {}),
      ...(c.contract !== undefined ? { contract: c.contract } : {}),
      ...(c.purpose !== undefined ? { purpose: c.purpose } : {}),
      ...(c.decision !== undefined ? { decision: c.decision } : {}),
      ...(c.kind !== undefined ? { kind: c.kind } : {}),
      ...(c.fromDay !== undefined ? { from: copenhagenDayStart(c.fromDay) } : {}),
      ...(c.toDay !== undefined ? { to: copenhagenDayStart(nextDay(c.toDay)) } : {}),
      ...(after !== undefined ? { after } : {}),
      limit: PAGE_SIZE,
    };
    let page: { records: Awaited<ReturnType<typeof store.audit.search>>['records']; next?: string };
    try {
      page = await store.audit.search(query);
    } catch (err) {
      if (!(err instanceof InvalidCursorError)) throw err;
      res.locals.problemCode = 'DPO_INPUT_INVALID';
      return html(res, 400, messagePage(ctx, { title: ctx.t('Ugyldig side', 'Invalid page'), message: ctx.t('Sidemarkøren er ikke gyldig. Start fra første side.', 'The page cursor is not valid. Start from the first page.'), code: 'DPO_INPUT_INVALID' }));
    }
    html(res, 200, resultsPage(ctx, { id, criteria: c, records: page.records, ...(page.next !== undefined ? { next: page.next } : {}), paged: after !== undefined }));
  });

  // --- a record ------------------------------------------------------------------------------

  router.get('/records/:id', async (req, res) => {
    const ctx = ctxOf(req, res);
    const id = req.params.id as string;
    const record = UUID.test(id) ? await store.dpo.record(id) : undefined;
    if (record === undefined) {
      res.locals.problemCode = 'NOT_FOUND';
      return html(res, 404, messagePage(ctx, { title: ctx.t('Posten findes ikke', 'No such record'), message: ctx.t('Der er ingen post med dette id i revisionssporet.', 'There is no record with this id in the audit trail.'), code: 'NOT_FOUND', id: 'record-not-found' }));
    }
    const [related, verification] = await Promise.all([store.audit.search({ auditId: record.auditId, limit: PAGE_SIZE }), integrity.verifyRecord(record)]);
    html(res, 200, recordPage(ctx, { record, related: related.records, verification }));
  });

  // --- anomalies -----------------------------------------------------------------------------

  router.get('/anomalies', async (req, res) => {
    const ctx = ctxOf(req, res);
    const range = periodOf(req);
    const behind = await countBehind();
    const from = copenhagenDayStart(range.fromDay);
    const to = copenhagenDayStart(nextDay(range.toDay));
    const withdrawnConsents = async (): Promise<WithdrawnConsentUse[]> => {
      const withdrawals = await store.dpo.consentWithdrawals(from, to, 200);
      if (withdrawals.length === 0) return [];
      const uses = await store.dpo.consentUses(withdrawals.map((w) => w.consent), 1000);
      const out: WithdrawnConsentUse[] = [];
      for (const w of withdrawals) {
        const consents = await store.consents.bySubject([w.subject]);
        const id = consents.find((s) => s.consent.receiptDigest === w.consent)?.consent.id ?? w.consent.slice(0, 12);
        out.push({ consentId: id, withdrawnAt: w.time, uses: uses.filter((u) => u.consent === w.consent && u.time <= w.time) });
      }
      return out;
    };
    const anomalies = await findAnomalies(store.dpo, { range, describeReason: reasonText, withdrawnConsents });
    html(res, 200, anomaliesPage(ctx, { range, anomalies, thresholds: DEFAULT_THRESHOLDS, consentsChecked: true, behind }));
  });

  // --- integrity -----------------------------------------------------------------------------

  router.get('/integrity', async (req, res) => {
    const ctx = ctxOf(req, res);
    const status = await integrity.refresh(VIEW_BUDGET, logError('dpo full verification failed'));
    html(res, 200, integrityPage(ctx, { status, checkpoints: await checkpointSummaries(status.chains.map((c) => c.chain)) }));
  });

  router.post('/integrity/verify', async (req, res) => {
    await auditAccess(res, DPO_ACCESS.verify, null);
    integrity.startFull(logError('dpo full verification failed'));
    res.redirect(303, '/dpo/integrity');
  });

  // --- the citizen's access report -----------------------------------------------------------

  const parseReport = (ctx: PageContext, body: Body): ReportRequest | { error: string; fromDay?: string; toDay?: string; reportLang: Lang } => {
    const reportLang: Lang = field(body, 'reportLang') === 'en' ? 'en' : 'da';
    const fromDay = field(body, 'from');
    const toDay = field(body, 'to');
    const cpr = parseCpr(field(body, 'cpr'));
    if (cpr === undefined) return { error: ctx.t('CPR-nummeret er ikke gyldigt: ti cifre (DDMMÅÅXXXX) med en rigtig dato.', 'The CPR number is not valid: ten digits (DDMMYYXXXX) with a real date.'), fromDay, toDay, reportLang };
    for (const d of [fromDay, toDay]) if (d !== '' && !validDay(d)) return { error: ctx.t('Datoer skrives ÅÅÅÅ-MM-DD.', 'Dates are written YYYY-MM-DD.'), fromDay, toDay, reportLang };
    if (fromDay !== '' && toDay !== '' && fromDay > toDay) return { error: ctx.t('Perioden slutter, før den begynder.', 'The period ends before it starts.'), fromDay, toDay, reportLang };
    return { cpr, reportLang, ...(fromDay !== '' ? { fromDay } : {}), ...(toDay !== '' ? { toDay } : {}) };
  };

  /** Audits the access (kind dpo-access, CITIZEN_REPORT), then builds the report (src/audit/dpo-access.ts). */
  const report = async (req: Request, res: Response): Promise<{ request: ReportRequest; report: CitizenReport } | undefined> => {
    const ctx = ctxOf(req, res);
    const parsed = parseReport(ctx, (req.body ?? {}) as Body);
    if ('error' in parsed) {
      res.locals.problemCode = 'DPO_INPUT_INVALID';
      html(res, 400, reportFormPage(ctx, parsed.error, echoable(parsed)));
      return undefined;
    }
    const made = await dpoCitizenReport(auditDeps(), caller(res), {
      cpr: parsed.cpr,
      lang: parsed.reportLang,
      ...(parsed.fromDay !== undefined ? { from: copenhagenDayStart(parsed.fromDay) } : {}),
      ...(parsed.toDay !== undefined ? { to: copenhagenDayStart(nextDay(parsed.toDay)) } : {}),
    });
    return { request: parsed, report: made.report };
  };
  const filename = (ext: string): string => `indsigt-${copenhagen(Date.now()).day}.${ext}`;

  router.get('/citizen-report', (req, res) => {
    html(res, 200, reportFormPage(ctxOf(req, res)));
  });

  router.post('/citizen-report', async (req, res) => {
    const made = await report(req, res);
    if (made !== undefined) html(res, 200, reportPage(ctxOf(req, res), made.report, made.request));
  });

  router.post('/citizen-report/csv', async (req, res) => {
    const made = await report(req, res);
    if (made === undefined) return;
    res.set({ 'content-type': 'text/csv; charset=utf-8', 'content-disposition': `attachment; filename="${filename('csv')}"` });
    res.send(citizenReportCsv(made.report, made.request.reportLang));
  });

  router.post('/citizen-report/pdf', async (req, res) => {
    const made = await report(req, res);
    if (made === undefined) return;
    const pdf = await citizenReportPdf(made.report, made.request.reportLang);
    res.set({ 'content-type': 'application/pdf', 'content-disposition': `attachment; filename="${filename('pdf')}"` });
    res.send(pdf);
  });

  // --- consents ------------------------------------------------------------------------------

  const consentDeps = () => ({ consents: store.consents, trail: gateway.trail, pseudonyms: gateway.pseudonyms, signingKey: gateway.signingKey, gatewayId: gateway.config.gatewayId, rules: gateway.rules, observe: gateway.metrics });

  router.get('/consents', (req, res) => {
    html(res, 200, consentsPage(ctxOf(req, res)));
  });

  router.post('/consents', async (req, res) => {
    const ctx = ctxOf(req, res);
    const cpr = parseCpr(field((req.body ?? {}) as Body, 'cpr'));
    if (cpr === undefined) {
      res.locals.problemCode = 'DPO_INPUT_INVALID';
      return html(res, 400, consentsPage(ctx, { error: ctx.t('CPR-nummeret er ikke gyldigt: ti cifre (DDMMÅÅXXXX) med en rigtig dato.', 'The CPR number is not valid: ten digits (DDMMYYXXXX) with a real date.') }));
    }
    const { consents } = await searchConsents(consentDeps(), caller(res), { cpr });
    html(res, 200, consentsPage(ctx, { consents: consents as ConsentView[] }));
  });

  // --- notifications -------------------------------------------------------------------------

  const outboxDeps = () => ({ outbox: store.outbox, trail: gateway.trail, wake: () => gateway.outbox.wake() });

  router.get('/notifications', async (req, res) => {
    const ctx = ctxOf(req, res);
    const after = queryParam(req, 'after');
    const page = await searchDeliveries(outboxDeps(), { state: 'dead', limit: PAGE_SIZE, ...(after !== undefined ? { after } : {}) });
    html(res, 200, notificationsPage(ctx, { deliveries: page.deliveries, ...(page.next !== undefined ? { next: page.next } : {}), paged: after !== undefined, ...(queryParam(req, 'done') === 'redriven' ? { done: 'redriven' as const } : {}) }));
  });

  router.post('/notifications/:id/redrive', async (req, res) => {
    const ctx = ctxOf(req, res);
    try {
      await redriveDelivery(outboxDeps(), caller(res), req.params.id as string);
    } catch (err) {
      if (!isGatewayError(err) || (err.code !== 'DEAD_LETTER_NOT_FOUND' && err.code !== 'DEAD_LETTER_EXPIRED')) throw err;
      res.locals.problemCode = err.code;
      const page = await searchDeliveries(outboxDeps(), { state: 'dead', limit: PAGE_SIZE });
      return html(res, err.status, notificationsPage(ctx, { deliveries: page.deliveries, paged: false, error: `${err.message} (${err.code})` }));
    }
    res.redirect(303, '/dpo/notifications?done=redriven');
  });

  // --- not found and errors ------------------------------------------------------------------

  router.use((req, res) => {
    res.locals.problemCode = 'NOT_FOUND';
    const ctx = res.locals.dpo !== undefined ? ctxOf(req, res) : baseCtx(req, 'da');
    html(res, 404, messagePage(ctx, { title: ctx.t('Siden findes ikke', 'Page not found'), message: ctx.t('Der er ingen side på denne adresse.', 'There is no page at this address.'), code: 'NOT_FOUND', id: 'not-found' }));
  });

  router.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
    const known = isGatewayError(err) ? err : err instanceof Error && (err as { type?: string }).type === 'entity.too.large' ? new GatewayError('BODY_TOO_LARGE') : undefined;
    if (known === undefined) gateway.logger.error('dpo page failed', { requestId: locals(res).requestId, error: (err as Error)?.message, stack: (err as Error)?.stack });
    const code = known?.code ?? 'INTERNAL';
    res.locals.problemCode = code;
    const ctx = res.locals.dpo !== undefined ? ctxOf(req, res) : baseCtx(req, 'da');
    const message =
      code === 'AUDIT_UNAVAILABLE'
        ? ctx.t('Revisionssporet kan ikke skrives lige nu, så intet vises. Prøv igen senere.', 'The audit trail cannot be written right now, so nothing is shown. Try again later.')
        : known !== undefined
          ? known.message
          : ctx.t('Siden kunne ikke vises. Driften har detaljerne under forespørgslens id.', 'The page could not be shown. The operator has the details under the request id.');
    html(res, known?.status ?? 500, messagePage(ctx, { title: ctx.t('Noget gik galt', 'Something went wrong'), message: `${message} (${locals(res).requestId})`, code, id: 'error' }));
  });

  return router;
}
