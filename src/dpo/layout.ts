import type { Rules } from '../rules/types.js';
import { html, type Html, type Lang } from './html.js';
import type { Texts } from './texts/index.js';

/** What every page needs to know about the request it answers. */
export interface PageContext {
  readonly lang: Lang;
  /** The page's words, in its language. */
  readonly t: Texts;
  readonly rules: Rules;
  /** The signed-in DPO's client id, or undefined on the sign-in and refusal pages. */
  readonly clientId?: string;
  /** The session's synchroniser token, for every form that changes something. */
  readonly csrf?: string;
  /** The path of this page (for the language switch to come back to). */
  readonly path: string;
}

export type Section = 'overview' | 'search' | 'anomalies' | 'report' | 'consents' | 'relations' | 'notifications' | 'integrity' | 'none';

/** The hidden CSRF field of a state-changing form. */
export function csrfField(ctx: PageContext): Html {
  return html`<input type="hidden" name="_csrf" value="${ctx.csrf ?? ''}">`;
}

export function page(ctx: PageContext, options: { title: string; section: Section; body: Html | Html[]; refreshSeconds?: number }): string {
  const { t } = ctx;
  const nav: [Section, string, string][] = [
    ['overview', '/dpo/', t.nav.overview],
    ['search', '/dpo/search', t.nav.search],
    ['anomalies', '/dpo/anomalies', t.nav.anomalies],
    ['report', '/dpo/citizen-report', t.nav.report],
    ['consents', '/dpo/consents', t.nav.consents],
    ['relations', '/dpo/relations', t.nav.relations],
    ['notifications', '/dpo/notifications', t.nav.notifications],
    ['integrity', '/dpo/integrity', t.nav.integrity],
  ];
  const signedIn = ctx.clientId !== undefined;
  const doc = html`<!doctype html>
<html lang="${ctx.lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="same-origin">
${options.refreshSeconds !== undefined ? html`<meta http-equiv="refresh" content="${options.refreshSeconds}">` : ''}
<title>${options.title} · Snitflade DPO</title>
<link rel="icon" href="/dpo/assets/favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="/dpo/assets/dpo.css">
<script src="/dpo/assets/dpo.js" defer></script>
</head>
<body>
<header class="top">
  <span class="brand">Snitflade · ${t.layout.brand}</span>
  ${
    signedIn
      ? html`<nav aria-label="${t.layout.mainMenu}">${nav.map(([s, href, label]) => html`<a href="${href}"${s === options.section ? html` aria-current="page"` : ''}>${label}</a>`)}</nav>
  <span class="who">
    <form method="post" action="/dpo/lang">${csrfField(ctx)}<input type="hidden" name="back" value="${ctx.path}"><input type="hidden" name="lang" value="${ctx.lang === 'da' ? 'en' : 'da'}"><button type="submit" id="lang-switch">${t.layout.otherLanguage}</button></form>
    <span id="signed-in-as">${t.layout.signedInAs} ${ctx.clientId}</span>
    <form method="post" action="/dpo/sign-out">${csrfField(ctx)}<button type="submit" id="sign-out">${t.layout.signOut}</button></form>
  </span>`
      : ''
  }
</header>
<main>
${options.body}
</main>
</body>
</html>`;
  return doc.value;
}
