import type { Response } from 'express';
import { DPO_INPUT_ERRORS, DPO_REFUSALS, ERRORS, type ErrorCode } from '../errors.js';
import { html } from './html.js';
import { page, type PageContext } from './layout.js';
import { sendPage } from './request.js';

/**
 * The shell's own pages: the refusal of a browser without the DPO certificate, and the message
 * pages (not found, a refused form, an expired search, an error), worded by the error registry
 * (src/errors.ts, DPO_REFUSALS) with the registry's code and status.
 */

/** The page for a client that may not use the DPO pages (403) or presented no usable certificate (401). */
export function refusedPage(ctx: PageContext, o: { code: ErrorCode | 'NOT_DPO'; clientId?: string; clientTitle?: string }): string {
  const { t } = ctx;
  const body =
    o.code === 'NOT_DPO'
      ? html`<h1 id="refused">${t.refused.title}</h1>
  <p>${t.refused.dpoOnly}</p>
  <p>${t.refused.presented} <strong id="refused-client">${o.clientTitle ?? ''} (${o.clientId ?? ''})</strong>${t.refused.notDpo}</p>
  <p class="small muted">${t.common.code}: FORBIDDEN_ROLE</p>`
      : html`<h1 id="refused">${t.refused.certificateRequired}</h1>
  <p>${ERRORS[o.code]?.detail ?? ''}</p>
  <p>${t.refused.needsDpoCertificate}</p>
  <p class="small muted">${t.common.code}: ${o.code}</p>`;
  return page(ctx, { title: t.refused.title, section: 'none', body: html`<section class="panel signin">${body}</section>` });
}

/**
 * A plain message page (not found, bad request, session expired for a POST, internal error). It
 * never echoes the address it answers (a typed address may hold a CPR number): its language
 * switch leads back to the overview.
 */
export function messagePage(ctx: PageContext, o: { title: string; message: string; code?: string; id?: string }): string {
  return page(
    { ...ctx, path: '/dpo/' },
    {
      title: o.title,
      section: 'none',
      body: html`<section class="panel signin"><h1 id="${o.id ?? 'message'}">${o.title}</h1><p>${o.message}</p>${o.code !== undefined ? html`<p class="small muted">${ctx.t.common.code}: ${o.code}</p>` : ''}
  <p><a href="/dpo/">${ctx.t.message.toOverview}</a></p></section>`,
    },
  );
}

/** Answers with one of the registry's DPO refusals as a message page, in the page's language, with its code and status. */
export function sendRefusal(res: Response, ctx: PageContext, refusal: keyof typeof DPO_REFUSALS, id?: string): void {
  const spec = DPO_REFUSALS[refusal];
  const words = spec[ctx.lang];
  res.locals.problemCode = spec.code;
  sendPage(res, ERRORS[spec.code].status, messagePage(ctx, { title: words.title, message: words.message, code: spec.code, id }));
}

/** DPO_INPUT_INVALID in the page's language, for the form shown again above its fields. */
export function inputError(ctx: PageContext, error: keyof typeof DPO_INPUT_ERRORS): string {
  return DPO_INPUT_ERRORS[error][ctx.lang];
}

/** Answers a form that did not validate with the form again (its error above it), as DPO_INPUT_INVALID. */
export function sendFormAgain(res: Response, body: string): void {
  res.locals.problemCode = 'DPO_INPUT_INVALID';
  sendPage(res, ERRORS.DPO_INPUT_INVALID.status, body);
}
