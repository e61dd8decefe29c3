import { ERRORS, type ErrorCode } from '../../errors.js';
import { html } from '../html.js';
import { page, type PageContext } from './layout.js';

export function signInPage(ctx: PageContext, o: { clientId: string; clientTitle: string; token: string; expired: boolean; signedOut: boolean }): string {
  const { t } = ctx;
  return page(ctx, {
    title: t('Log ind', 'Sign in'),
    section: 'none',
    body: html`<section class="panel signin">
  <h1>${t('Log ind på DPO-siderne', 'Sign in to the DPO pages')}</h1>
  ${o.expired ? html`<p class="notice" id="session-expired">${t('Din session er udløbet. Log ind igen.', 'Your session has expired. Sign in again.')}</p>` : ''}
  ${o.signedOut ? html`<p class="notice ok" id="signed-out">${t('Du er logget ud.', 'You are signed out.')}</p>` : ''}
  <p>${t('Din browser har vist dette klientcertifikat:', 'Your browser presented this client certificate:')}</p>
  <dl class="facts"><dt>${t('System', 'System')}</dt><dd id="certificate-client">${o.clientTitle} (${o.clientId})</dd><dt>${t('Rolle', 'Role')}</dt><dd>dpo</dd></dl>
  <p class="small muted">${t(
    'Sessionen varer højst 8 timer og udløber efter 15 minutter uden aktivitet. Den gælder kun sammen med dette certifikat.',
    'The session lasts at most 8 hours and ends after 15 minutes without activity. It is valid only with this certificate.',
  )}</p>
  <form method="post" action="/dpo/sign-in">
    <input type="hidden" name="_signin" value="${o.token}">
    <input type="hidden" name="lang" value="${ctx.lang}">
    <button type="submit" id="sign-in">${t('Log ind', 'Sign in')}</button>
  </form>
</section>`,
  });
}

/** The page for a client that may not use the DPO pages (403) or presented no usable certificate (401). */
export function refusedPage(ctx: PageContext, o: { code: ErrorCode | 'NOT_DPO'; clientId?: string; clientTitle?: string }): string {
  const { t } = ctx;
  const body =
    o.code === 'NOT_DPO'
      ? html`<h1 id="refused">${t('Ingen adgang', 'Access refused')}</h1>
  <p>${t('Disse sider er kun for kommunens databeskyttelsesrådgiver (DPO).', "These pages are for the municipality's data protection officer (DPO) only.")}</p>
  <p>${t('Din browser viste certifikatet for', 'Your browser presented the certificate of')} <strong id="refused-client">${o.clientTitle ?? ''} (${o.clientId ?? ''})</strong>${t(
    ', som ikke har DPO-rollen. Brug DPO-klientcertifikatet, eller bed gatewayens driftsansvarlige om adgang.',
    ', which does not hold the DPO role. Use the DPO client certificate, or ask the gateway operator for access.',
  )}</p>
  <p class="small muted">${t('Kode', 'Code')}: FORBIDDEN_ROLE</p>`
      : html`<h1 id="refused">${t('Klientcertifikat kræves', 'Client certificate required')}</h1>
  <p>${ERRORS[o.code as ErrorCode]?.detail ?? ''}</p>
  <p>${t('DPO-siderne kræver DPO-klientcertifikatet i browseren.', 'The DPO pages require the DPO client certificate in the browser.')}</p>
  <p class="small muted">${t('Kode', 'Code')}: ${o.code}</p>`;
  return page(ctx, { title: t('Ingen adgang', 'Access refused'), section: 'none', body: html`<section class="panel signin">${body}</section>` });
}

/**
 * A plain message page (not found, bad request, session expired for a POST, internal error). It
 * never echoes the address it answers (a typed address may hold a CPR number): its language
 * switch leads back to the overview.
 */
export function messagePage(ctx: PageContext, o: { title: string; message: string; code?: string; id?: string }): string {
  return page({ ...ctx, path: '/dpo/' }, {
    title: o.title,
    section: 'none',
    body: html`<section class="panel signin"><h1 id="${o.id ?? 'message'}">${o.title}</h1><p>${o.message}</p>${o.code !== undefined ? html`<p class="small muted">${ctx.t('Kode', 'Code')}: ${o.code}</p>` : ''}
  <p><a href="/dpo/">${ctx.t('Til overblikket', 'To the overview')}</a></p></section>`,
  });
}
