import type { AuditRecord } from '../../audit/types.js';
import { formatShortTime, html, type Html } from '../html.js';
import { contractTitle, kindLabel, purposeTitle, reasonText } from '../labels.js';
import { csrfField, page, type PageContext } from './layout.js';

/** A search as saved server-side: the citizen only as pseudonyms, never the CPR number. */
export interface SearchCriteria {
  readonly subjects?: readonly string[];
  readonly callerSystem?: string;
  readonly caseworker?: string;
  readonly contract?: string;
  readonly purpose?: string;
  readonly decision?: 'permit' | 'deny';
  readonly kind?: 'decision' | 'release' | 'refusal' | 'consent' | 'notification' | 'admin' | 'dpo-access';
  readonly fromDay?: string;
  readonly toDay?: string;
}

export interface SearchFormValues {
  readonly callerSystem?: string;
  readonly caseworker?: string;
  readonly contract?: string;
  readonly purpose?: string;
  readonly decision?: string;
  readonly kind?: string;
  readonly fromDay?: string;
  readonly toDay?: string;
}

function select(name: string, label: string, options: readonly [string, string][], value: string | undefined, anyLabel: string): Html {
  return html`<label>${label}<select name="${name}" id="f-${name}"><option value="">${anyLabel}</option>${options.map(
    ([v, l]) => html`<option value="${v}"${v === value ? html` selected` : ''}>${l}</option>`,
  )}</select></label>`;
}

export function searchForm(ctx: PageContext, values: SearchFormValues = {}, error?: string): Html {
  const { t, rules, lang } = ctx;
  const any = t('Alle', 'Any');
  return html`<form method="post" action="/dpo/search" class="panel filters" id="search-form" autocomplete="off">
  ${csrfField(ctx)}
  ${error !== undefined ? html`<p class="notice bad" id="search-error">${error}</p>` : ''}
  <label>${t('Borgerens CPR-nummer', "Citizen's CPR number")}<input name="cpr" id="f-cpr" inputmode="numeric" maxlength="11" placeholder="DDMMÅÅ-XXXX" autocomplete="off"></label>
  ${select('callerSystem', t('Kaldende system', 'Calling system'), rules.clients.clients.map((c) => [c.id, `${c.title} (${c.id})`]), values.callerSystem, any)}
  <label>${t('Sagsbehandler', 'Caseworker')}<input name="caseworker" id="f-caseworker" maxlength="200" value="${values.caseworker ?? ''}"></label>
  ${select('contract', t('Kontrakt', 'Contract'), rules.contracts.list().map((c) => [c.id, `${c.title} (${c.id})`]), values.contract, any)}
  ${select('purpose', t('Formål', 'Purpose'), [...rules.policies.purposes.values()].map((p) => [p.id, p.title[lang]]), values.purpose, any)}
  ${select('decision', t('Afgørelse', 'Decision'), [['permit', t('Tilladt', 'Permitted')], ['deny', t('Afvist', 'Denied')]], values.decision, any)}
  ${select('kind', t('Posttype', 'Record kind'), ['decision', 'release', 'refusal', 'consent', 'notification', 'admin', 'dpo-access'].map((k) => [k, kindLabel(k, lang)]), values.kind, any)}
  <label>${t('Fra', 'From')}<input type="date" name="from" id="f-from" value="${values.fromDay ?? ''}"></label>
  <label>${t('Til og med', 'To (inclusive)')}<input type="date" name="to" id="f-to" value="${values.toDay ?? ''}"></label>
  <div><button type="submit" id="search-submit">${t('Søg', 'Search')}</button></div>
</form>
<p class="small muted">${t(
    'CPR-nummeret sendes kun i formularen og gemmes ikke: sporet søges på borgerens pseudonym, og adressen på resultatsiden indeholder kun et tilfældigt søge-id. Søgningen registreres i revisionssporet.',
    "The CPR number is sent only in the form and not kept: the trail is searched by the citizen's pseudonym, and the results page's address holds only a random search id. The search is recorded in the audit trail.",
  )}</p>`;
}

export function searchPage(ctx: PageContext, values?: SearchFormValues, error?: string): string {
  const { t } = ctx;
  return page(ctx, {
    title: t('Søg i sporet', 'Search the trail'),
    section: 'search',
    body: html`<h1>${t('Søg i revisionssporet', 'Search the audit trail')}</h1>${searchForm(ctx, values, error)}`,
  });
}

export function decisionBadge(ctx: PageContext, r: Pick<AuditRecord, 'decision' | 'kind'>): Html {
  const { t } = ctx;
  if (r.kind === 'refusal') return html`<span class="badge failed">${t('Afvist', 'Refused')}</span>`;
  if (r.decision === 'permit') return html`<span class="badge ok">${t('Tilladt', 'Permitted')}</span>`;
  if (r.decision === 'deny') return html`<span class="badge failed">${t('Afvist', 'Denied')}</span>`;
  return html`<span class="muted">-</span>`;
}

export function recordsTable(ctx: PageContext, records: readonly AuditRecord[]): Html {
  const { t, lang, rules } = ctx;
  return html`<table id="results"><thead><tr><th>${t('Tid', 'Time')}</th><th>${t('Post', 'Record')}</th><th>${t('Kaldende system', 'Calling system')}</th><th>${t('Sagsbehandler', 'Caseworker')}</th><th>${t('Kontrakt', 'Contract')}</th><th>${t('Formål', 'Purpose')}</th><th>${t('Afgørelse', 'Decision')}</th><th>${t('Felter / grunde', 'Fields / reasons')}</th></tr></thead>
<tbody>${records.map(
    (r) => html`<tr data-record="${r.id}" data-audit-id="${r.auditId}">
  <td class="nowrap"><a href="/dpo/records/${r.id}">${formatShortTime(r.time, lang)}</a></td>
  <td>${kindLabel(r.kind, lang)}</td>
  <td>${r.caller?.system ?? '-'}</td>
  <td>${r.caseworker ?? '-'}</td>
  <td title="${r.contract ?? ''}">${r.contract === null ? '-' : contractTitle(rules, r.contract, lang)}</td>
  <td>${r.purpose === null ? '-' : purposeTitle(rules, r.purpose, lang)}</td>
  <td>${decisionBadge(ctx, r)}</td>
  <td class="small">${r.fields.released.length > 0 ? html`<div>${t('Udleveret', 'Released')}: ${r.fields.released.join(', ')}</div>` : ''}${r.fields.withheld.length > 0 ? html`<div>${t('Tilbageholdt', 'Withheld')}: ${r.fields.withheld.join(', ')}</div>` : ''}${r.reasons.length > 0 ? html`<div>${r.reasons.map((c) => reasonText(c, lang)).join('; ')}</div>` : ''}</td>
</tr>`,
  )}</tbody></table>`;
}

export function resultsPage(ctx: PageContext, o: { id: string; criteria: SearchCriteria; records: readonly AuditRecord[]; next?: string; paged: boolean }): string {
  const { t, lang, rules } = ctx;
  const c = o.criteria;
  const filters: [string, string][] = [];
  if (c.subjects !== undefined) filters.push([t('Borger', 'Citizen'), t('den borger, der blev søgt på (pseudonym)', 'the citizen searched for (pseudonym)')]);
  if (c.callerSystem !== undefined) filters.push([t('Kaldende system', 'Calling system'), c.callerSystem]);
  if (c.caseworker !== undefined) filters.push([t('Sagsbehandler', 'Caseworker'), c.caseworker]);
  if (c.contract !== undefined) filters.push([t('Kontrakt', 'Contract'), contractTitle(rules, c.contract, lang)]);
  if (c.purpose !== undefined) filters.push([t('Formål', 'Purpose'), purposeTitle(rules, c.purpose, lang)]);
  if (c.decision !== undefined) filters.push([t('Afgørelse', 'Decision'), c.decision === 'permit' ? t('Tilladt', 'Permitted') : t('Afvist', 'Denied')]);
  if (c.kind !== undefined) filters.push([t('Posttype', 'Record kind'), kindLabel(c.kind, lang)]);
  if (c.fromDay !== undefined) filters.push([t('Fra', 'From'), c.fromDay]);
  if (c.toDay !== undefined) filters.push([t('Til og med', 'To (inclusive)'), c.toDay]);
  return page(ctx, {
    title: t('Søgeresultat', 'Search results'),
    section: 'search',
    body: html`<h1>${t('Søgeresultat', 'Search results')}</h1>
<section class="panel"><dl class="facts" id="criteria">${filters.length === 0 ? html`<dt>${t('Filtre', 'Filters')}</dt><dd>${t('ingen (hele sporet)', 'none (the whole trail)')}</dd>` : filters.map(([k, v]) => html`<dt>${k}</dt><dd>${v}</dd>`)}</dl>
<p class="actions"><a class="button secondary" href="/dpo/search">${t('Ny søgning', 'New search')}</a></p></section>
${o.records.length === 0 ? html`<p class="notice" id="no-results">${t('Ingen poster matcher søgningen.', 'No records match the search.')}</p>` : recordsTable(ctx, o.records)}
<nav class="pager" aria-label="${t('Sider', 'Pages')}">
  ${o.paged ? html`<a href="/dpo/search/${o.id}" id="first-page">${t('Første side', 'First page')}</a>` : ''}
  ${o.next !== undefined ? html`<a href="/dpo/search/${o.id}?after=${o.next}" id="next-page">${t('Næste side', 'Next page')}</a>` : html`<span class="muted small">${t('Ikke flere poster', 'No more records')}</span>`}
</nav>`,
  });
}
