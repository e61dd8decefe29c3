import type { ConsentView } from '../../consent/types.js';
import type { DeliveryView } from '../../outbox/dead-letters.js';
import { formatTime, html } from '../html.js';
import { contractTitle, purposeTitle } from '../labels.js';
import { csrfField, page, type PageContext } from './layout.js';

export function consentsPage(ctx: PageContext, o: { consents?: readonly ConsentView[]; error?: string } = {}): string {
  const { t, lang, rules } = ctx;
  const stateBadge = (s: string) =>
    s === 'active' ? html`<span class="badge ok">${t('Gældende', 'Active')}</span>` : s === 'withdrawn' ? html`<span class="badge failed">${t('Trukket tilbage', 'Withdrawn')}</span>` : html`<span class="badge pending">${t('Udløbet', 'Expired')}</span>`;
  const eventText = (type: string) => (type === 'given' ? t('Givet', 'Given') : type === 'withdrawn' ? t('Trukket tilbage', 'Withdrawn') : t('Udløbet', 'Expired'));
  return page(ctx, {
    title: t('Samtykker', 'Consents'),
    section: 'consents',
    body: html`<h1>${t('Borgerens samtykker', "A citizen's consents")}</h1>
<form method="post" action="/dpo/consents" class="panel inline" id="consent-form" autocomplete="off">
  ${csrfField(ctx)}
  ${o.error !== undefined ? html`<p class="notice bad" id="consent-error">${o.error}</p>` : ''}
  <label>${t('Borgerens CPR-nummer', "Citizen's CPR number")}<input name="cpr" id="c-cpr" inputmode="numeric" maxlength="11" required autocomplete="off"></label>
  <button type="submit" id="consent-submit">${t('Slå op', 'Look up')}</button>
</form>
<p class="small muted">${t('Opslaget registreres i revisionssporet (CONSENT_SEARCH).', 'The look-up is recorded in the audit trail (CONSENT_SEARCH).')}</p>
${o.consents === undefined ? '' : o.consents.length === 0 ? html`<p class="notice" id="no-consents">${t('Borgeren har ingen registrerede samtykker.', 'The citizen has no recorded consents.')}</p>` : o.consents.map(
      (c) => html`<section class="panel consent" data-consent="${c.id}" data-state="${c.state}">
  <h2>${stateBadge(c.state)} ${t('Samtykke', 'Consent')} <code>${c.id}</code></h2>
  <dl class="facts">
    <dt>${t('Modtagere', 'Recipients')}</dt><dd>${c.recipients.join(', ')}</dd>
    <dt>${t('Formål', 'Purposes')}</dt><dd>${c.purposes.map((p) => purposeTitle(rules, p, lang)).join('; ')}</dd>
    <dt>${t('Kontrakter', 'Contracts')}</dt><dd>${c.contracts.length === 0 ? '-' : c.contracts.map((x) => contractTitle(rules, x, lang)).join('; ')}</dd>
    <dt>${t('Datakategorier', 'Data categories')}</dt><dd>${c.categories.length === 0 ? '-' : c.categories.join(', ')}</dd>
    <dt>${t('Periode', 'Period')}</dt><dd>${c.validFrom} – ${c.validTo}</dd>
    <dt>${t('Dokumentation', 'Evidence')}</dt><dd>${c.evidence.kind}: ${c.evidence.reference}</dd>
    <dt>${t('Registreret af', 'Recorded by')}</dt><dd>${c.recordedBy.system} (${c.recordedBy.administration})${c.recordedBy.caseworker !== null ? `, ${c.recordedBy.caseworker}` : ''} · ${formatTime(c.recordedAt, lang)}</dd>
    <dt>${t('Kvitteringens digest', "Receipt's digest")}</dt><dd><code>${c.receiptDigest}</code></dd>
  </dl>
  <h3>${t('Historik', 'History')}</h3>
  <table class="small"><thead><tr><th>${t('Hændelse', 'Event')}</th><th>${t('Tid', 'Time')}</th><th>${t('Af', 'By')}</th><th>${t('Grund', 'Reason')}</th></tr></thead>
  <tbody>${c.events.map((e) => html`<tr data-event="${e.type}"><td>${eventText(e.type)}</td><td>${formatTime(e.at, lang)}</td><td>${e.actor === null ? '-' : `${e.actor.system} (${e.actor.administration})`}</td><td>${e.reason ?? '-'}</td></tr>`)}</tbody></table>
</section>`,
    )}`,
  });
}

export function notificationsPage(ctx: PageContext, o: { deliveries: readonly DeliveryView[]; next?: string; paged: boolean; done?: 'redriven'; error?: string }): string {
  const { t, lang, rules } = ctx;
  return page(ctx, {
    title: t('Notifikationer', 'Notifications'),
    section: 'notifications',
    body: html`<h1>${t('Notifikationer, der ikke kunne leveres', 'Notifications that could not be delivered')}</h1>
<p class="lead">${t('Døde breve: leveringer, der opgav efter alle forsøg. Et nyt forsøg (re-drive) registreres i revisionssporet.', 'Dead letters: deliveries that gave up after every attempt. A re-drive is recorded in the audit trail.')}</p>
${o.done === 'redriven' ? html`<p class="notice ok" id="redriven">${t('Leveringen er sat i kø igen.', 'The delivery is queued again.')}</p>` : ''}
${o.error !== undefined ? html`<p class="notice bad" id="redrive-error">${o.error}</p>` : ''}
${o.deliveries.length === 0 ? html`<p class="notice ok" id="no-dead-letters">${t('Ingen døde breve.', 'No dead letters.')}</p>` : html`<table id="dead-letters"><thead><tr><th>${t('Oprettet', 'Created')}</th><th>${t('Kontrakt', 'Contract')}</th><th>${t('Modtager', 'Recipient')}</th><th class="num">${t('Forsøg', 'Attempts')}</th><th>${t('Sidste fejl', 'Last error')}</th><th>${t('Revisions-id', 'Audit id')}</th><th></th></tr></thead>
<tbody>${o.deliveries.map(
      (d) => html`<tr data-delivery="${d.id}"><td>${formatTime(d.createdAt, lang)}</td><td>${contractTitle(rules, d.contract, lang)}</td><td>${d.recipient.system} (${d.recipient.administration})</td><td class="num">${d.attempts}</td><td class="small">${d.lastError ?? '-'}${d.lastStatus !== null ? ` (HTTP ${d.lastStatus})` : ''}</td><td><code class="small">${d.auditId}</code></td>
  <td>${d.payloadAvailable ? html`<form method="post" action="/dpo/notifications/${d.id}/redrive" data-confirm="${t('Send notifikationen igen?', 'Send the notification again?')}">${csrfField(ctx)}<button type="submit" class="secondary">${t('Send igen', 'Re-drive')}</button></form>` : html`<span class="muted small">${t('indhold slettet', 'payload erased')}</span>`}</td></tr>`,
    )}</tbody></table>`}
<nav class="pager">${o.paged ? html`<a href="/dpo/notifications">${t('Første side', 'First page')}</a>` : ''}${o.next !== undefined ? html`<a href="/dpo/notifications?after=${encodeURIComponent(o.next)}">${t('Næste side', 'Next page')}</a>` : ''}</nav>`,
  });
}
