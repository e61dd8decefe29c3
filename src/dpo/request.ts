import { randomUUID } from 'node:crypto';
import type { Request, Response, Router } from 'express';
import { dpoAccessEntry, type DpoAuditDeps, type DpoCaller } from '../audit/dpo-access.js';
import { newAuditId } from '../audit/id.js';
import type { IntegrityMonitor, IntegrityStatus } from '../audit/integrity-monitor.js';
import type { Pseudonymizer } from '../audit/pseudonym.js';
import type { DPO_ACCESS } from '../audit/reasons.js';
import type { RollupCatchUp } from '../audit/rollups.js';
import { writeAudit } from '../audit/write.js';
import { copenhagen, type DayRange, type Statistics } from '../audit/statistics.js';
import type { Client } from '../auth/clients.js';
import type { RequestToken } from '../auth/token.js';
import type { ConsentRegistryDeps } from '../consent/records.js';
import { mayHoldCpr } from '../lib/cpr.js';
import { sha256b64url } from '../lib/digest.js';
import type { Logger } from '../log.js';
import type { DeadLetterDeps } from '../outbox/dead-letters.js';
import type { Rules } from '../rules/types.js';
import { locals } from '../server/context.js';
import type { Lang } from './html.js';
import type { PageContext } from './layout.js';
import { ABSOLUTE_MS, type DpoSession, type Sessions } from './session.js';
import { texts } from './texts/index.js';

/**
 * What every DPO page handler works with: the dependencies the shell (router.ts) gives the
 * pages, the page context of a request, the signed-in DPO, the form it sent, and sending a page.
 */

/** What the pages are given. They read the trail through audit/ and the registries, never the store. */
export interface DpoDeps {
  /** The rules in force; read once per page. */
  readonly rules: () => Rules;
  readonly logger: Logger;
  readonly pseudonyms: Pseudonymizer;
  readonly sessions: Sessions;
  /** The trail and its DPO operations (src/audit/dpo-access.ts, search.ts, saved-search.ts). */
  readonly audit: DpoAuditDeps;
  /** The daily rollups of the trail (src/audit/statistics.ts). */
  readonly statistics: Statistics;
  /** The gateway's catch-up of the rollups: run before a page reads them. */
  readonly rollups: RollupCatchUp;
  readonly integrity: IntegrityMonitor;
  readonly consents: ConsentRegistryDeps;
  readonly deadLetters: DeadLetterDeps;
}

/** A page module: adds its routes to the DPO router. */
export type DpoPages = (router: Router, deps: DpoDeps) => void;

export const PAGE_SIZE = 50;
/** Records the statistics and the integrity check count per page view before answering. */
export const VIEW_BUDGET = 20_000;
/** A saved search's or a record's id. */
export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

const DAY_PATTERN = /^\d{4}-\d{2}-\d{2}$/;
const MAX_PERIOD_DAYS = 400;

/** The DPO whose certificate the TLS connection presented (set by the shell before sign-in). */
export interface DpoIdentity {
  readonly client: Client;
  readonly fingerprint: string;
}

/** The signed-in DPO of a request (set by the shell's session check). */
export interface DpoLocals extends DpoIdentity {
  readonly session: DpoSession;
}

export const identityOf = (res: Response): DpoIdentity => res.locals.dpoIdentity as DpoIdentity;
export const dpoOf = (res: Response): DpoLocals => res.locals.dpo as DpoLocals;

// --- the page context and the answer ---------------------------------------------------------

/** The page's own address, for the language switch to come back to; never one that may hold a CPR number. */
function ownPath(req: Request): string {
  const p = req.originalUrl.split('?')[0] ?? '/dpo/';
  return mayHoldCpr(p) ? '/dpo/' : p;
}

/** The context of a page for someone not signed in (sign-in, refusals), in the given language. */
export function guestContext(deps: Pick<DpoDeps, 'rules'>, req: Request, lang: Lang, extra: Partial<PageContext> = {}): PageContext {
  return { lang, t: texts(lang), rules: deps.rules(), path: ownPath(req), ...extra };
}

/** The context of a page for the signed-in DPO, in the session's language. */
export function pageContext(deps: Pick<DpoDeps, 'rules'>, req: Request, res: Response): PageContext {
  const d = dpoOf(res);
  return guestContext(deps, req, d.session.lang, { clientId: d.client.id, csrf: d.session.csrf });
}

/** The signed-in DPO's context, or the guest's in Danish when the session check has not run (refusals, not found). */
export function anyContext(deps: Pick<DpoDeps, 'rules'>, req: Request, res: Response): PageContext {
  return res.locals.dpo !== undefined ? pageContext(deps, req, res) : guestContext(deps, req, 'da');
}

export function sendPage(res: Response, status: number, body: string): void {
  res.status(status).type('text/html; charset=utf-8').send(body);
}

// --- the DPO as the audit, consent and outbox operations see their caller ---------------------

/** A RequestToken standing for the DPO's session, for the consent and outbox operations that audit their caller. */
function sessionToken(d: DpoLocals): RequestToken {
  return {
    issuer: d.client.id,
    caseworker: d.client.id,
    purpose: 'dpo-review',
    caseRef: 'dpo-session',
    jti: randomUUID(),
    expiresAt: new Date(d.session.createdAt + ABSOLUTE_MS),
    digest: sha256b64url(d.session.idHash),
  };
}

/** The DPO as the audit and consent operations see their caller: the session stands in for a request token. */
export function caller(res: Response): DpoCaller {
  const d = dpoOf(res);
  return { requestId: locals(res).requestId, client: d.client, token: sessionToken(d) };
}

/** Writes the DPO's access to the trail (kind dpo-access); durable before anything is shown. */
export async function auditAccess(
  deps: Pick<DpoDeps, 'audit'>,
  res: Response,
  access: typeof DPO_ACCESS.search | typeof DPO_ACCESS.verify,
  subject: string | null,
): Promise<void> {
  await writeAudit(deps.audit.trail, dpoAccessEntry(deps.audit, caller(res), access, subject, newAuditId()), deps.audit.observe);
}

/** Brings the rollups up to date (up to VIEW_BUDGET records) before a page reads them; resolves with how many are still behind, counted on in the background. */
export async function countRollups(deps: Pick<DpoDeps, 'rollups' | 'logger'>): Promise<number> {
  const behind = await deps.rollups.run(VIEW_BUDGET);
  if (behind > 0) deps.rollups.background(logError(deps, 'dpo statistics catch-up failed'));
  return behind;
}

/** Checks what was appended to each chain since the last check (up to VIEW_BUDGET records a chain); the full verification runs in the background. */
export function integrityStatus(deps: Pick<DpoDeps, 'integrity' | 'logger'>): Promise<IntegrityStatus> {
  return deps.integrity.refresh(VIEW_BUDGET, logError(deps, 'dpo full verification failed'));
}

export const logError = (deps: Pick<DpoDeps, 'logger'>, what: string) => (err: unknown) =>
  deps.logger.error(what, { error: (err as Error)?.message });

// --- reading the request ---------------------------------------------------------------------

export type Body = Record<string, unknown>;

export const bodyOf = (req: Request): Body => (req.body ?? {}) as Body;

/** A form field, trimmed; '' when absent or not text. */
export const field = (body: Body, name: string): string => {
  const v = body[name];
  return typeof v === 'string' ? v.trim() : '';
};

/** The form's language choice: English if asked for, otherwise Danish. */
export const langField = (body: Body, name: string): Lang => (field(body, name) === 'en' ? 'en' : 'da');

export function validDay(day: string): boolean {
  return (
    DAY_PATTERN.test(day) &&
    !Number.isNaN(Date.parse(`${day}T00:00:00Z`)) &&
    new Date(`${day}T00:00:00Z`).toISOString().slice(0, 10) === day
  );
}

/** A form value shown again on a page with an error: never one that may hold a CPR number, and a day only when it is one. */
export function echoable<T extends object>(values: T): T {
  return Object.fromEntries(
    Object.entries(values).map(([k, v]) => [
      k,
      typeof v !== 'string' || (/Day$/.test(k) ? v === '' || validDay(v) : !mayHoldCpr(v)) ? v : '',
    ]),
  ) as T;
}

/** The query string, read by hand: the app turns express's query parser off. */
export function queryParam(req: Request, name: string): string | undefined {
  const q = req.originalUrl.indexOf('?');
  if (q < 0) return undefined;
  return new URLSearchParams(req.originalUrl.slice(q + 1)).get(name) ?? undefined;
}

function daysBetween(from: string, to: string): number {
  return Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / 86_400_000);
}

function minusDays(day: string, n: number): string {
  return new Date(Date.parse(`${day}T00:00:00Z`) - n * 86_400_000).toISOString().slice(0, 10);
}

/** The period of a page: ?from=YYYY-MM-DD&to=YYYY-MM-DD, by default the last 30 days. */
export function periodOf(req: Request): DayRange {
  const today = copenhagen(Date.now()).day;
  const to = queryParam(req, 'to');
  const from = queryParam(req, 'from');
  const toDay = to !== undefined && validDay(to) ? to : today;
  let fromDay = from !== undefined && validDay(from) ? from : minusDays(toDay, 29);
  if (fromDay > toDay) fromDay = toDay;
  if (daysBetween(fromDay, toDay) > MAX_PERIOD_DAYS) fromDay = minusDays(toDay, MAX_PERIOD_DAYS);
  return { fromDay, toDay };
}
