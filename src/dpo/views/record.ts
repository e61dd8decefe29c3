import type { AuditRecord } from '../../audit/types.js';
import { formatNumber, formatTime, html, type Html } from '../html.js';
import type { RecordVerification } from '../integrity.js';
import { contractTitle, fieldLabel, kindLabel, problemText, purposeTitle, reasonText, systemTitle } from '../labels.js';
import { page, type PageContext } from './layout.js';
import { decisionBadge, recordsTable } from './search.js';

function fields(ctx: PageContext, contract: string | null, names: readonly string[]): Html {
  if (names.length === 0) return html`<span class="muted">${ctx.t('ingen', 'none')}</span>`;
  return html`${names.map((f, i) => html`${i > 0 ? ', ' : ''}<span title="${f}">${fieldLabel(ctx.rules, contract, f, ctx.lang)}</span> <code>${f}</code>`)}`;
}

function check(ctx: PageContext, ok: boolean | null, good: [string, string], bad: [string, string], unknown: [string, string]): Html {
  const { t } = ctx;
  if (ok === null) return html`<li><span class="badge pending">${t('ukendt', 'unknown')}</span> ${t(...unknown)}</li>`;
  return ok ? html`<li><span class="badge ok">OK</span> ${t(...good)}</li>` : html`<li><span class="badge failed">${t('FEJL', 'FAILED')}</span> ${t(...bad)}</li>`;
}

export function recordPage(ctx: PageContext, o: { record: AuditRecord; related: readonly AuditRecord[]; verification: RecordVerification }): string {
  const { t, lang, rules } = ctx;
  const r = o.record;
  const v = o.verification;
  const policy = r.policy === null ? undefined : rules.policies.policies.find((p) => p.id === r.policy?.id);
  const purpose = r.purpose === null ? undefined : rules.policies.purposes.get(r.purpose);
  const intact = v.hashIntact && v.linksToPrevious !== false && v.linkedFromNext !== false && v.columnsIntact && v.inPlace && v.seal.status !== 'failed';
  const chainCovers = v.chain !== undefined && v.chain.state !== 'failed' && v.chain.verifiedThrough >= r.seq;
  return page(ctx, {
    title: t('Post', 'Record'),
    section: 'search',
    body: html`<h1>${kindLabel(r.kind, lang)} · ${formatTime(r.time, lang)}</h1>
<p class="lead">${t('Alt hvad posten indeholder. Posten indeholder ingen dataværdier og intet CPR-nummer, kun feltnavne og et pseudonym.', 'Everything the record holds. It holds no data values and no CPR number: field names and a pseudonym only.')}</p>
<section class="panel" id="verification" data-verified="${intact ? 'intact' : 'failed'}"><h2>${t('Kontrol af posten', "The record's verification")} ${intact ? html`<span class="badge ok">${t('Intakt', 'Intact')}</span>` : html`<span class="badge failed">${t('Ændret', 'Altered')}</span>`}</h2>
<ul>
  ${check(ctx, v.hashIntact, ['Indholdet passer til postens hash.', "The content matches the record's hash."], ['Indholdet passer ikke til postens hash: posten er ændret, efter den blev skrevet.', "The content does not match the record's hash: the record was changed after it was written."], ['', ''])}
  ${check(ctx, v.linksToPrevious, ['Posten er kædet til den forrige post.', 'The record links to the record before it.'], ['Posten peger ikke på den forrige post: den forrige er ændret eller udskiftet.', 'The record does not link to the record before it: that one was changed or replaced.'], ['Den forrige post findes ikke længere (slettet efter opbevaringsreglen eller fjernet).', 'The record before it is no longer stored (deleted under the retention rule, or removed).'])}
  ${check(ctx, v.linkedFromNext, ['Den næste post er kædet til denne.', 'The next record links to this one.'], ['Den næste post peger ikke på denne: denne post er ændret eller udskiftet.', 'The next record does not link to this one: this record was changed or replaced.'], ['Dette er kædens seneste post.', "This is the chain's latest record."])}
  ${check(ctx, v.columnsIntact, ['Søgekolonnerne passer til posten.', 'The search columns agree with the record.'], ['Søgekolonnerne er ændret bag om revisionssporet.', "The search columns were changed behind the trail's back."], ['', ''])}
  ${check(ctx, v.inPlace, ['Posten står på sin plads i kæden.', 'The record is at its place in the chain.'], ['Posten står ikke på sin plads i kæden.', 'The record is not at its place in the chain.'], ['', ''])}
  <li id="seal" data-seal="${v.seal.status}">${
    v.seal.status === 'verified'
      ? html`<span class="badge ok">OK</span> ${t(`Posten er med i det signerede kontrolpunkt til og med post ${formatNumber(v.seal.checkpoint?.seq ?? 0, lang)} (${formatTime(v.seal.checkpoint?.time ?? '', lang)}); inklusionsbeviset holder.`, `The record is included in the signed checkpoint through record ${formatNumber(v.seal.checkpoint?.seq ?? 0, lang)} (${formatTime(v.seal.checkpoint?.time ?? '', lang)}); its inclusion proof checks out.`)}`
      : v.seal.status === 'pending'
        ? html`<span class="badge pending">${t('afventer', 'pending')}</span> ${t('Skrevet efter kædens seneste signerede kontrolpunkt; det næste kontrolpunkt forsegler den.', "Written after the chain's latest signed checkpoint; the next checkpoint seals it.")}`
        : html`<span class="badge failed">${t('FEJL', 'FAILED')}</span> ${t('Posten kan ikke bevises med i et signeret kontrolpunkt', 'The record cannot be proven included in a signed checkpoint')}: ${v.seal.reason ?? ''}`
  }</li>
  <li>${
    v.chain === undefined
      ? t('Kæden er ikke kontrolleret endnu.', 'The chain has not been verified yet.')
      : v.chain.state === 'failed'
        ? html`<span class="badge failed">${t('FEJL', 'FAILED')}</span> ${t('Kædens kontrol fandt en fejl', "The chain's verification found a problem")}: ${t('post', 'record')} #${v.chain.problem?.seq ?? ''}, ${problemText(v.chain.problem?.kind ?? '', lang)}`
        : chainCovers
          ? html`<span class="badge ok">OK</span> ${t(`Kæden ${r.chain} er kontrolleret intakt til og med post ${formatNumber(v.chain.verifiedThrough, lang)}.`, `Chain ${r.chain} was verified intact through record ${formatNumber(v.chain.verifiedThrough, lang)}.`)}`
          : html`<span class="badge pending">${t('afventer', 'pending')}</span> ${t('Kæden er endnu ikke kontrolleret så langt.', 'The chain has not been verified this far yet.')}`
  }</li>
</ul></section>
<div class="grid2">
<section class="panel"><h2>${t('Hvem, hvad og hvorfor', 'Who, what and why')}</h2>
<dl class="facts" id="record-facts">
  <dt>${t('Posttype', 'Record kind')}</dt><dd>${kindLabel(r.kind, lang)} <code>${r.kind}</code></dd>
  <dt>${t('Afgørelse', 'Decision')}</dt><dd>${decisionBadge(ctx, r)}</dd>
  <dt>${t('Grunde', 'Reasons')}</dt><dd id="record-reasons">${r.reasons.length === 0 ? html`<span class="muted">-</span>` : r.reasons.map((c) => html`<div>${reasonText(c, lang)} <code>${c}</code></div>`)}</dd>
  <dt>${t('Kaldende system', 'Calling system')}</dt><dd>${systemTitle(rules, r.caller?.system ?? null)}${r.caller !== null ? html` · ${r.caller.administration}` : ''}</dd>
  <dt>${t('Sagsbehandler', 'Caseworker')}</dt><dd id="record-caseworker">${r.caseworker ?? '-'}</dd>
  <dt>${t('Sagsreference', 'Case reference')}</dt><dd>${r.caseRef ?? '-'}</dd>
  <dt>${t('Borger (pseudonym)', 'Citizen (pseudonym)')}</dt><dd><code>${r.subject ?? '-'}</code></dd>
  <dt>${t('Kontrakt', 'Contract')}</dt><dd>${r.contract === null ? '-' : html`${contractTitle(rules, r.contract, lang)} <code>${r.contract}</code>`}</dd>
  <dt>${t('Formål', 'Purpose')}</dt><dd id="record-purpose">${r.purpose === null ? '-' : html`${purposeTitle(rules, r.purpose, lang)} <code>${r.purpose}</code>`}</dd>
  <dt>${t('Ønskede felter', 'Fields asked for')}</dt><dd>${fields(ctx, r.contract, r.fields.requested)}</dd>
  <dt>${t('Udleverede felter', 'Fields released')}</dt><dd id="record-released">${fields(ctx, r.contract, r.fields.released)}</dd>
  <dt>${t('Tilbageholdte felter', 'Fields withheld')}</dt><dd>${fields(ctx, r.contract, r.fields.withheld)}</dd>
  <dt>${t('Frasorterede felter fra udbyder', 'Fields dropped from the provider')}</dt><dd>${fields(ctx, r.contract, r.fields.dropped)}</dd>
  <dt>${t('Samtykke (kvitteringens digest)', 'Consent (receipt digest)')}</dt><dd><code>${r.consent ?? '-'}</code></dd>
  <dt>${t('Svarstatus', 'Status answered')}</dt><dd>${r.status ?? '-'}</dd>
  <dt>${t('Udbyder', 'Provider')}</dt><dd>${r.upstream === null ? '-' : `HTTP ${r.upstream.status ?? '-'}, ${r.upstream.latencyMs} ms`}</dd>
  <dt>${t('Behandlingstid', 'Latency')}</dt><dd>${r.latencyMs === null ? '-' : `${r.latencyMs} ms`}</dd>
</dl></section>
<section class="panel" id="legal-basis"><h2>${t('Politik og retsgrundlag', 'Policy and legal basis')}</h2>
${
  r.policy === null
    ? html`<p class="muted">${t('Ingen politik blev brugt (afvist før en afgørelse, eller ingen politik passede).', 'No policy was applied (refused before a decision, or no policy matched).')}</p>`
    : html`<dl class="facts">
  <dt>${t('Politik', 'Policy')}</dt><dd id="policy-title">${policy?.title ?? r.policy.id} <code>${r.policy.id}</code> v${r.policy.version}</dd>
  ${policy !== undefined && policy.version !== r.policy.version ? html`<dt></dt><dd class="notice small">${t(`Gældende version er nu ${policy.version}; teksten nedenfor er den gældende versions.`, `The version in force is now ${policy.version}; the text below is that version's.`)}</dd>` : ''}
  ${policy?.example === true ? html`<dt></dt><dd class="small muted">${t('Eksempelpolitik til juridisk gennemgang.', 'Example policy for legal review.')}</dd>` : ''}
  <dt>${t('Retsgrundlag (registreret)', 'Legal basis (as recorded)')}</dt><dd id="legal-basis-text">${r.legalBasis ?? '-'}</dd>
  ${policy !== undefined ? html`<dt>GDPR</dt><dd>${policy.legalBasis.gdpr}${policy.legalBasis.gdprSpecial !== undefined ? `; ${policy.legalBasis.gdprSpecial}` : ''}</dd>
  <dt>${t('National hjemmel', 'National provision')}</dt><dd>${policy.legalBasis.national}</dd>
  <dt>${t('Beskrivelse', 'Description')}</dt><dd>${policy.legalBasis.description}</dd>
  <dt>${t('Samtykke krævet', 'Consent required')}</dt><dd>${policy.consent.required ? t('ja', 'yes') : t('nej', 'no')}</dd>
  <dt>${t('Ejer', 'Owner')}</dt><dd>${policy.owner}</dd>` : ''}
</dl>`
}
${purpose !== undefined ? html`<h3>${t('Formålet', 'The purpose')}</h3><p>${purpose.title[lang]}</p><p class="small">${purpose.description}</p>` : ''}
</section>
</div>
<section class="panel"><h2>${t('Kædeplacering og beviser', 'Chain position and evidence')}</h2>
<dl class="facts">
  <dt>${t('Post-id', 'Record id')}</dt><dd><code id="record-id">${r.id}</code></dd>
  <dt>${t('Revisions-id', 'Audit id')}</dt><dd><code>${r.auditId}</code></dd>
  <dt>${t('Forespørgsels-id', 'Request id')}</dt><dd><code>${r.requestId}</code></dd>
  <dt>${t('Kæde og nummer', 'Chain and number')}</dt><dd>${r.chain} #${formatNumber(r.seq, lang)}</dd>
  <dt>${t('Tid (UTC)', 'Time (UTC)')}</dt><dd><code>${r.time}</code></dd>
  <dt>Hash</dt><dd><code>${r.hash}</code></dd>
  <dt>${t('Forrige hash', 'Previous hash')}</dt><dd><code>${r.prevHash}</code></dd>
  <dt>${t('Politiksæt (digest)', 'Policy set (digest)')}</dt><dd><code>${r.policySet ?? '-'}</code></dd>
  <dt>${t('Tokenets digest', "The token's digest")}</dt><dd><code>${r.tokenDigest ?? '-'}</code></dd>
  <dt>${t('Svarets digest', "The response's digest")}</dt><dd><code>${r.responseDigest ?? '-'}</code></dd>
</dl></section>
${o.related.length > 1 ? html`<section><h2>${t('Andre poster for samme udveksling', 'Other records of the same exchange')}</h2>${recordsTable(ctx, o.related)}</section>` : ''}`,
  });
}
