import { formatNumber, formatTime, html } from '../html.js';
import type { IntegrityStatus } from '../integrity.js';
import { problemText } from '../labels.js';
import { csrfField, page, type PageContext } from './layout.js';
import { integrityBadge, type CheckpointSummary } from './overview.js';

export function integrityPage(ctx: PageContext, o: { status: IntegrityStatus; checkpoints: readonly CheckpointSummary[] | undefined; started?: boolean }): string {
  const { t, lang } = ctx;
  const s = o.status;
  const full = s.full;
  return page(ctx, {
    title: t('Integritet', 'Integrity'),
    section: 'integrity',
    ...(full.running ? { refreshSeconds: 2 } : {}),
    body: html`<h1>${t('Revisionssporets integritet', "The audit trail's integrity")} ${integrityBadge(ctx, s)}</h1>
<p class="lead">${t(
      'Hver post er hash-kædet til den forrige. Ved hvert sidevisning kontrolleres de nye poster; en fuld kontrol genberegner hele kæden og finder også ændringer i gamle poster.',
      'Every record is hash-chained to the one before it. Each page view checks the new records; a full verification recomputes the whole chain and also finds changes to old records.',
    )}</p>
<section class="panel" id="integrity-status" data-state="${s.state}">
<table><thead><tr><th>${t('Kæde', 'Chain')}</th><th>${t('Status', 'Status')}</th><th class="num">${t('Kontrolleret til', 'Verified through')}</th><th class="num">${t('Seneste post', 'Latest record')}</th><th>${t('Fund', 'Finding')}</th></tr></thead>
<tbody>${s.chains.map(
      (c) => html`<tr data-chain="${c.chain}" data-state="${c.state}"><td>${c.chain}</td><td>${c.state === 'intact' ? html`<span class="badge ok">${t('Intakt', 'Intact')}</span>` : c.state === 'failed' ? html`<span class="badge failed">${t('Fejlet', 'Failed')}</span>` : html`<span class="badge pending">${t('Kontrolleres', 'Being checked')}</span>`}</td>
  <td class="num">${formatNumber(c.verifiedThrough, lang)}</td><td class="num">${formatNumber(c.headSeq, lang)}</td>
  <td class="integrity-problem">${c.problem !== undefined ? html`<strong>${t('Post', 'Record')} #${c.problem.seq}: ${problemText(c.problem.kind, lang)}.</strong> <span class="small">${c.problem.message} (${c.problem.kind})</span>` : '-'}</td></tr>`,
    )}</tbody></table>
</section>
<section class="panel" id="full-verification" data-running="${full.running ? 'yes' : 'no'}"><h2>${t('Fuld kontrol', 'Full verification')}</h2>
${full.running
      ? html`<p class="notice" id="full-running">${t(`Kører: ${formatNumber(full.checked, lang)} poster kontrolleret. Siden opdaterer sig selv.`, `Running: ${formatNumber(full.checked, lang)} records checked. This page updates itself.`)}</p>`
      : full.finishedAt !== undefined
        ? html`<p id="full-result">${t('Seneste fulde kontrol', 'Last full verification')}: ${formatTime(full.finishedAt, lang)}, ${formatNumber(full.checked, lang)} ${t('poster fundet i orden', 'records found good')} · ${
            full.error !== undefined ? html`<span class="badge failed">${t('kunne ikke gennemføres', 'could not complete')}</span>` : full.ok ? html`<span class="badge ok">${t('ingen fejl', 'no problem found')}</span>` : html`<span class="badge failed">${t('fejl fundet', 'problem found')}</span>`
          }</p>`
        : html`<p>${t('Der er ikke kørt en fuld kontrol siden gatewayen startede.', 'No full verification has run since the gateway started.')}</p>`}
<form method="post" action="/dpo/integrity/verify">${csrfField(ctx)}<button type="submit" id="verify-now"${full.running ? html` disabled` : ''}>${t('Kontrollér hele sporet nu', 'Verify the whole trail now')}</button></form>
</section>
<section class="panel"><h2>${t('Signerede kontrolpunkter', 'Signed checkpoints')}</h2>
${o.checkpoints === undefined
      ? html`<p class="muted">${t('Gatewayen signerer ikke kontrolpunkter.', 'The gateway signs no checkpoints.')}</p>`
      : o.checkpoints.length === 0
        ? html`<p class="muted">${t('Intet kontrolpunkt er signeret endnu.', 'No checkpoint has been signed yet.')}</p>`
        : html`<table id="checkpoints"><thead><tr><th>${t('Kæde', 'Chain')}</th><th class="num">${t('Til og med post', 'Through record')}</th><th>${t('Signeret', 'Signed')}</th><th>${t('Signatur', 'Signature')}</th></tr></thead><tbody>${o.checkpoints.map(
            (c) => html`<tr><td>${c.chain}</td><td class="num">${formatNumber(c.seq, lang)}</td><td>${formatTime(c.time, lang)}</td><td>${c.signatureValid ? html`<span class="badge ok">${t('gyldig', 'valid')}</span>` : html`<span class="badge failed">${t('ugyldig', 'invalid')}</span>`}</td></tr>`,
          )}</tbody></table>`}
</section>`,
  });
}
