import type { RecordVerification } from '../../audit/integrity-monitor.js';
import { exchangeRecords, recordById } from '../../audit/search.js';
import type { AuditRecord } from '../../audit/types.js';
import { basisForReader } from '../../policy/legal-basis.js';
import type { Policy } from '../../policy/types.js';
import { formatDuration, formatNumber, formatTime, html, type Html } from '../html.js';
import { contractTitle, fieldLabel, fieldsWentOut, kindLabel, problemText, purposeTitle, reasonText, systemTitle } from '../labels.js';
import { page, type PageContext } from '../layout.js';
import { sendRefusal } from '../messages.js';
import { PAGE_SIZE, pageContext, sendPage, UUID, type DpoPages } from '../request.js';
import { decisionBadge, recordsTable } from './search.js';

/** One record (GET /dpo/records/:id): everything it holds, its verification, the legal basis, and the other records of its exchange. */
export const recordRoutes: DpoPages = (router, deps) => {
  router.get('/records/:id', async (req, res) => {
    const ctx = pageContext(deps, req, res);
    const id = req.params.id;
    const record = UUID.test(id) ? await recordById(deps.audit, id) : undefined;
    if (record === undefined) return sendRefusal(res, ctx, 'recordNotFound', 'record-not-found');
    const [related, verification] = await Promise.all([
      exchangeRecords(deps.audit, record.auditId, PAGE_SIZE),
      deps.integrity.verifyRecord(record),
    ]);
    sendPage(res, 200, recordPage(ctx, { record, related, verification }));
  });
};

function fields(ctx: PageContext, contract: string | null, names: readonly string[]): Html {
  if (names.length === 0) return html`<span class="muted">${ctx.t.record.noFields}</span>`;
  return html`${names.map((f, i) => html`${i > 0 ? ', ' : ''}<span title="${f}">${fieldLabel(ctx.rules, contract, f, ctx.lang)}</span> <code>${f}</code>`)}`;
}

function check(ctx: PageContext, ok: boolean | null, words: { good: string; bad: string; unknown?: string }): Html {
  const { t } = ctx;
  if (ok === null) return html`<li><span class="badge pending">${t.record.unknown}</span> ${words.unknown ?? ''}</li>`;
  return ok
    ? html`<li><span class="badge ok">OK</span> ${words.good}</li>`
    : html`<li><span class="badge failed">${t.record.failedBadge}</span> ${words.bad}</li>`;
}

/**
 * The approvals the policy was in force with when the record was written (signed policies): their
 * digest as the record names it and, while the policy in force carries the same approvals, who
 * signed and when.
 */
function approvals(ctx: PageContext, named: NonNullable<AuditRecord['policy']>, inForce: Policy | undefined): Html {
  const { t, lang } = ctx;
  if (named.approvals === undefined) return html`<span class="muted">${t.record.noApprovals}</span>`;
  const same = inForce?.approvals?.digest === named.approvals ? inForce.approvals.approvals : undefined;
  return html`<code>${named.approvals}</code>${
    same === undefined
      ? html`<br><span class="small muted">${t.record.approvalsChanged}</span>`
      : html`<br>${same.map((a, i) => html`${i > 0 ? '; ' : ''}${a.title} <code>${a.approver}</code> ${formatTime(a.signedAt, lang)}`)}`
  }`;
}

export function recordPage(
  ctx: PageContext,
  o: { record: AuditRecord; related: readonly AuditRecord[]; verification: RecordVerification },
): string {
  const { t, lang, rules } = ctx;
  const r = o.record;
  const v = o.verification;
  const policy = r.policy === null ? undefined : rules.policies.policies.find((p) => p.id === r.policy?.id);
  const purpose = r.purpose === null ? undefined : rules.policies.purposes.get(r.purpose);
  const intact =
    v.hashIntact && v.linksToPrevious !== false && v.linkedFromNext !== false && v.columnsIntact && v.inPlace && v.seal.status !== 'failed';
  const chainCovers = v.chain !== undefined && v.chain.state !== 'failed' && v.chain.verifiedThrough >= r.seq;
  return page(ctx, {
    title: t.common.record,
    section: 'search',
    body: html`<h1>${kindLabel(r.kind, lang)} · ${formatTime(r.time, lang)}</h1>
<p class="lead">${t.record.lead}</p>
<section class="panel" id="verification" data-verified="${intact ? 'intact' : 'failed'}"><h2>${t.record.verificationHeading} ${intact ? html`<span class="badge ok">${t.common.intact}</span>` : html`<span class="badge failed">${t.record.altered}</span>`}</h2>
${v.erased ? html`<p class="notice" id="erased"><span class="badge pending">${t.record.erasedBadge}</span> ${t.record.erasedLead}</p>` : ''}
<ul>
  ${check(ctx, v.hashIntact, v.erased ? t.record.checks.erased : t.record.checks.hash)}
  ${check(ctx, v.linksToPrevious, t.record.checks.previous)}
  ${check(ctx, v.linkedFromNext, t.record.checks.next)}
  ${check(ctx, v.columnsIntact, t.record.checks.columns)}
  ${check(ctx, v.inPlace, t.record.checks.place)}
  <li id="seal" data-seal="${v.seal.status}">${
    v.seal.status === 'verified'
      ? html`<span class="badge ok">OK</span> ${t.record.sealVerified(formatNumber(v.seal.checkpoint?.seq ?? 0, lang), formatTime(v.seal.checkpoint?.time ?? '', lang))}`
      : v.seal.status === 'erased'
        ? html`<span class="badge ok">OK</span> ${t.record.sealErased(formatNumber(v.seal.checkpoint?.seq ?? 0, lang), formatTime(v.seal.checkpoint?.time ?? '', lang))}`
        : v.seal.status === 'pending'
          ? html`<span class="badge pending">${t.record.pending}</span> ${t.record.sealPending}`
          : html`<span class="badge failed">${t.record.failedBadge}</span> ${t.record.sealFailed}: ${v.seal.reason ?? ''}`
  }</li>
  <li>${
    v.chain === undefined
      ? t.record.chainNotVerified
      : v.chain.state === 'failed'
        ? html`<span class="badge failed">${t.record.failedBadge}</span> ${t.record.chainProblem}: ${t.common.recordLower} #${v.chain.problem?.seq ?? ''}, ${problemText(v.chain.problem?.kind ?? '', lang)}`
        : chainCovers
          ? html`<span class="badge ok">OK</span> ${t.record.chainVerified(r.chain, formatNumber(v.chain.verifiedThrough, lang))}`
          : html`<span class="badge pending">${t.record.pending}</span> ${t.record.chainNotThisFar}`
  }</li>
</ul></section>
<div class="grid2">
<section class="panel"><h2>${t.record.factsHeading}</h2>
<dl class="facts" id="record-facts">
  <dt>${t.common.recordKind}</dt><dd>${kindLabel(r.kind, lang)} <code>${r.kind}</code></dd>
  <dt>${t.common.decision}</dt><dd>${decisionBadge(ctx, r)}</dd>
  <dt>${t.record.reasons}</dt><dd id="record-reasons">${r.reasons.length === 0 ? html`<span class="muted">-</span>` : r.reasons.map((c) => html`<div>${reasonText(c, lang)} <code>${c}</code></div>`)}</dd>
  <dt>${t.common.callingSystem}</dt><dd>${systemTitle(rules, r.caller?.system ?? null, lang)}${r.caller !== null ? html` · ${r.caller.administration}` : ''}</dd>
  <dt>${t.common.caseworker}</dt><dd id="record-caseworker">${r.caseworker ?? '-'}</dd>
  <dt>${t.record.caseRef}</dt><dd>${r.caseRef ?? '-'}</dd>
  <dt>${t.record.subject}</dt><dd><code>${r.subject ?? '-'}</code></dd>
  <dt>${t.common.contract}</dt><dd>${r.contract === null ? '-' : html`${contractTitle(rules, r.contract, lang)} <code>${r.contract}</code>`}</dd>
  <dt>${t.common.purpose}</dt><dd id="record-purpose">${r.purpose === null ? '-' : html`${purposeTitle(rules, r.purpose, lang)} <code>${r.purpose}</code>`}</dd>
  <dt>${t.record.fieldsRequested}</dt><dd>${fields(ctx, r.contract, r.fields.requested)}</dd>
  <dt>${fieldsWentOut(r) ? t.record.fieldsReleased : t.record.fieldsPermitted}</dt><dd id="record-released">${fields(ctx, r.contract, r.fields.released)}</dd>
  <dt>${t.record.fieldsWithheld}</dt><dd>${fields(ctx, r.contract, r.fields.withheld)}</dd>
  <dt>${t.record.fieldsDropped}</dt><dd>${fields(ctx, r.contract, r.fields.dropped)}</dd>
  <dt>${t.record.consent}</dt><dd><code>${r.consent ?? '-'}</code></dd>
  <dt>${t.record.status}</dt><dd>${r.status ?? '-'}</dd>
  <dt>${t.record.upstream}</dt><dd>${r.upstream === null ? '-' : `HTTP ${r.upstream.status ?? '-'}, ${formatDuration(r.upstream.latencyMs, lang)}`}</dd>
  <dt>${t.record.latency}</dt><dd id="record-latency">${r.latencyMs === null ? '-' : formatDuration(r.latencyMs, lang)}</dd>
</dl></section>
<section class="panel" id="legal-basis"><h2>${t.record.policyHeading}</h2>
${
  r.policy === null
    ? html`<p class="muted">${t.record.noPolicy}</p>`
    : html`<dl class="facts">
  <dt>${t.record.policy}</dt><dd id="policy-title">${policy?.title[lang] ?? r.policy.id} <code>${r.policy.id}</code> v${r.policy.version}</dd>
  ${policy !== undefined && policy.version !== r.policy.version ? html`<dt></dt><dd class="notice small">${t.record.versionNow(policy.version)}</dd>` : ''}
  ${policy?.example === true ? html`<dt></dt><dd class="small muted">${t.record.examplePolicy}</dd>` : ''}
  <dt>${t.record.approvals}</dt><dd id="policy-approvals">${approvals(ctx, r.policy, policy)}</dd>
  <dt>${t.record.legalBasisRecorded}</dt><dd id="legal-basis-text">${r.legalBasis !== null ? basisForReader(r.legalBasis, lang) : '-'}</dd>
  ${
    policy !== undefined
      ? html`<dt>${t.record.gdpr}</dt><dd>${basisForReader([policy.legalBasis.gdpr, policy.legalBasis.gdprSpecial].filter((b) => b !== undefined).join('; '), lang)}</dd>
  <dt>${t.record.nationalProvision}</dt><dd>${policy.legalBasis.national}</dd>
  <dt>${t.record.description}</dt><dd>${policy.legalBasis.description[lang]}</dd>
  <dt>${t.record.consentRequired}</dt><dd>${policy.consent.required ? t.record.yes : t.record.no}</dd>
  <dt>${t.record.owner}</dt><dd>${policy.owner[lang]}</dd>`
      : ''
  }
</dl>`
}
${purpose !== undefined ? html`<h3>${t.record.purposeHeading}</h3><p>${purpose.title[lang]}</p><p class="small">${purpose.description[lang]}</p>` : ''}
</section>
</div>
<section class="panel"><h2>${t.record.evidenceHeading}</h2>
<dl class="facts">
  <dt>${t.record.recordId}</dt><dd><code id="record-id">${r.id}</code></dd>
  <dt>${t.common.auditId}</dt><dd><code>${r.auditId}</code></dd>
  <dt>${t.record.requestId}</dt><dd><code>${r.requestId}</code></dd>
  <dt>${t.record.chainAndSeq}</dt><dd>${r.chain} #${formatNumber(r.seq, lang)}</dd>
  <dt>${t.record.timeUtc}</dt><dd><code>${r.time}</code></dd>
  <dt>Hash</dt><dd><code>${r.hash}</code></dd>
  <dt>${t.record.prevHash}</dt><dd><code>${r.prevHash}</code></dd>
  <dt>${t.record.policySet}</dt><dd><code>${r.policySet ?? '-'}</code></dd>
  <dt>${t.record.tokenDigest}</dt><dd><code>${r.tokenDigest ?? '-'}</code></dd>
  <dt>${t.record.responseDigest}</dt><dd><code>${r.responseDigest ?? '-'}</code></dd>
</dl></section>
${o.related.length > 1 ? html`<section><h2>${t.record.related}</h2>${recordsTable(ctx, o.related)}</section>` : ''}`,
  });
}
