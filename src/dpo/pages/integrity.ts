import { DPO_ACCESS } from '../../audit/reasons.js';
import type { CheckpointSummary, IntegrityStatus } from '../../audit/integrity-monitor.js';
import { formatNumber, formatTime, html } from '../html.js';
import { problemText } from '../labels.js';
import { csrfField, page, type PageContext } from '../layout.js';
import { auditAccess, integrityStatus, logError, pageContext, sendPage, type DpoPages } from '../request.js';
import { integrityBadge } from './overview.js';

/** The trail's integrity (GET /dpo/integrity) and the DPO's request for a full verification (POST /dpo/integrity/verify, audited). */
export const integrityRoutes: DpoPages = (router, deps) => {
  router.get('/integrity', async (req, res) => {
    const ctx = pageContext(deps, req, res);
    const status = await integrityStatus(deps);
    sendPage(res, 200, integrityPage(ctx, { status, checkpoints: await deps.integrity.checkpoints(status.chains.map((c) => c.chain)) }));
  });

  router.post('/integrity/verify', async (_req, res) => {
    await auditAccess(deps, res, DPO_ACCESS.verify, null);
    deps.integrity.startFull(logError(deps, 'dpo full verification failed'));
    res.redirect(303, '/dpo/integrity');
  });
};

export function integrityPage(
  ctx: PageContext,
  o: { status: IntegrityStatus; checkpoints: readonly CheckpointSummary[] | undefined; started?: boolean },
): string {
  const { t, lang } = ctx;
  const s = o.status;
  const full = s.full;
  return page(ctx, {
    title: t.nav.integrity,
    section: 'integrity',
    ...(full.running ? { refreshSeconds: 2 } : {}),
    body: html`<h1>${t.integrity.heading} ${integrityBadge(ctx, s)}</h1>
<p class="lead">${t.integrity.lead}</p>
<section class="panel" id="integrity-status" data-state="${s.state}">
<table><thead><tr><th>${t.common.chain}</th><th>${t.integrity.status}</th><th class="num">${t.integrity.verifiedThrough}</th><th class="num">${t.integrity.latestRecord}</th><th>${t.integrity.finding}</th></tr></thead>
<tbody>${s.chains.map(
      (
        c,
      ) => html`<tr data-chain="${c.chain}" data-state="${c.state}"><td>${c.chain}</td><td>${c.state === 'intact' ? html`<span class="badge ok">${t.common.intact}</span>` : c.state === 'failed' ? html`<span class="badge failed">${t.common.failed}</span>` : html`<span class="badge pending">${t.common.beingChecked}</span>`}</td>
  <td class="num">${formatNumber(c.verifiedThrough, lang)}</td><td class="num">${formatNumber(c.headSeq, lang)}</td>
  <td class="integrity-problem">${c.problem !== undefined ? html`<strong>${t.common.record} #${c.problem.seq}: ${problemText(c.problem.kind, lang)}.</strong> <span class="small">${c.problem.message} (${c.problem.kind})</span>` : '-'}</td></tr>`,
    )}</tbody></table>
</section>
<section class="panel" id="full-verification" data-running="${full.running ? 'yes' : 'no'}"><h2>${t.integrity.full}</h2>
${
  full.running
    ? html`<p class="notice" id="full-running">${t.integrity.running(formatNumber(full.checked, lang))}</p>`
    : full.finishedAt !== undefined
      ? html`<p id="full-result">${t.integrity.lastFull}: ${formatTime(full.finishedAt, lang)}, ${formatNumber(full.checked, lang)} ${t.integrity.recordsFoundGood} · ${
          full.error !== undefined
            ? html`<span class="badge failed">${t.integrity.fullCouldNotComplete}</span>`
            : full.ok
              ? html`<span class="badge ok">${t.integrity.fullNoProblem}</span>`
              : html`<span class="badge failed">${t.integrity.fullProblem}</span>`
        }</p>`
      : html`<p>${t.integrity.noFullYet}</p>`
}
<form method="post" action="/dpo/integrity/verify">${csrfField(ctx)}<button type="submit" id="verify-now"${full.running ? html` disabled` : ''}>${t.integrity.verifyNow}</button></form>
</section>
<section class="panel"><h2>${t.integrity.checkpoints}</h2>
${
  o.checkpoints === undefined
    ? html`<p class="muted">${t.integrity.noCheckpoints}</p>`
    : o.checkpoints.length === 0
      ? html`<p class="muted">${t.integrity.noCheckpointYet}</p>`
      : html`<table id="checkpoints"><thead><tr><th>${t.common.chain}</th><th class="num">${t.integrity.throughRecord}</th><th>${t.integrity.signed}</th><th>${t.integrity.signature}</th></tr></thead><tbody>${o.checkpoints.map(
          (c) =>
            html`<tr><td>${c.chain}</td><td class="num">${formatNumber(c.seq, lang)}</td><td>${formatTime(c.time, lang)}</td><td>${c.signatureValid ? html`<span class="badge ok">${t.integrity.signatureValid}</span>` : html`<span class="badge failed">${t.integrity.signatureInvalid}</span>`}</td></tr>`,
        )}</tbody></table>`
}
</section>`,
  });
}
