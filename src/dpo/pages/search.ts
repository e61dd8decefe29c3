import { DPO_ACCESS } from '../../audit/reasons.js';
import type { Pseudonymizer } from '../../audit/pseudonym.js';
import { savedSearch, saveSearch, searchByCriteria, type SearchCriteria } from '../../audit/saved-search.js';
import type { AuditKind, AuditRecord } from '../../audit/types.js';
import { isGatewayError } from '../../errors.js';
import { mayHoldCpr, parseCpr } from '../../lib/cpr.js';
import { formatShortTime, html, type Html } from '../html.js';
import { contractTitle, fieldsWentOut, kindLabel, purposeTitle, reasonText } from '../labels.js';
import { csrfField, page, type PageContext } from '../layout.js';
import { inputError, sendFormAgain, sendRefusal } from '../messages.js';
import {
  auditAccess,
  bodyOf,
  dpoOf,
  echoable,
  field,
  PAGE_SIZE,
  pageContext,
  queryParam,
  sendPage,
  UUID,
  validDay,
  type Body,
  type DpoPages,
} from '../request.js';

/**
 * Searching the trail (GET and POST /dpo/search) and the results (GET /dpo/search/:id). A search
 * by CPR number is audited before anything is shown; the search is saved for the session
 * (src/audit/saved-search.ts) and the results page's address holds only its random id.
 */
export const searchRoutes: DpoPages = (router, deps) => {
  router.get('/search', (req, res) => {
    sendPage(res, 200, searchPage(pageContext(deps, req, res)));
  });

  router.post('/search', async (req, res) => {
    const ctx = pageContext(deps, req, res);
    const parsed = parseSearch(ctx, deps.pseudonyms, bodyOf(req));
    if ('error' in parsed) return sendFormAgain(res, searchPage(ctx, echoable(parsed.values), parsed.error));
    await auditAccess(deps, res, DPO_ACCESS.search, parsed.criteria.subjects?.[0] ?? null);
    const id = await saveSearch(deps.audit, dpoOf(res).session.idHash, parsed.criteria);
    res.redirect(303, `/dpo/search/${id}`);
  });

  router.get('/search/:id', async (req, res) => {
    const ctx = pageContext(deps, req, res);
    const id = req.params.id;
    const criteria = UUID.test(id) ? await savedSearch(deps.audit, id, dpoOf(res).session.idHash) : undefined;
    if (criteria === undefined) return sendRefusal(res, ctx, 'searchExpired', 'search-expired');
    const after = queryParam(req, 'after');
    let found: { records: AuditRecord[]; next?: string };
    try {
      found = await searchByCriteria(deps.audit, criteria, { ...(after !== undefined ? { after } : {}), limit: PAGE_SIZE });
    } catch (err) {
      if (!isGatewayError(err) || err.code !== 'AUDIT_QUERY_INVALID') throw err;
      return sendRefusal(res, ctx, 'cursorInvalid');
    }
    sendPage(
      res,
      200,
      resultsPage(ctx, {
        id,
        criteria,
        records: found.records,
        ...(found.next !== undefined ? { next: found.next } : {}),
        paged: after !== undefined,
      }),
    );
  });
};

const KINDS: readonly AuditKind[] = ['decision', 'release', 'refusal', 'consent', 'relation', 'notification', 'admin', 'dpo-access'];

/** The search form, checked: the criteria to save (the citizen as pseudonyms), or what is wrong. */
function parseSearch(
  ctx: PageContext,
  pseudonyms: Pseudonymizer,
  body: Body,
): { criteria: SearchCriteria; cpr?: string; values: SearchFormValues } | { error: string; values: SearchFormValues } {
  const rules = ctx.rules;
  const values: SearchFormValues = {
    callerSystem: field(body, 'callerSystem'),
    caseworker: field(body, 'caseworker'),
    contract: field(body, 'contract'),
    purpose: field(body, 'purpose'),
    decision: field(body, 'decision'),
    kind: field(body, 'kind'),
    fromDay: field(body, 'from'),
    toDay: field(body, 'to'),
  };
  const rawCpr = field(body, 'cpr');
  const cpr = rawCpr === '' ? undefined : parseCpr(rawCpr);
  if (rawCpr !== '' && cpr === undefined) return { error: inputError(ctx, 'cprInvalid'), values };
  if (values.callerSystem && rules.clients.byId(values.callerSystem) === undefined)
    return { error: inputError(ctx, 'callerUnknown'), values };
  if (values.contract && rules.contracts.get(values.contract) === undefined) return { error: inputError(ctx, 'contractUnknown'), values };
  if (values.purpose && !rules.policies.purposes.has(values.purpose)) return { error: inputError(ctx, 'purposeUnknown'), values };
  if (values.decision && values.decision !== 'permit' && values.decision !== 'deny')
    return { error: inputError(ctx, 'decisionUnknown'), values };
  if (values.kind && !(KINDS as readonly string[]).includes(values.kind)) return { error: inputError(ctx, 'kindUnknown'), values };
  if (
    values.caseworker &&
    (values.caseworker.length > 200 || !/^[\x21-\x7e][\x20-\x7e]*$/.test(values.caseworker) || mayHoldCpr(values.caseworker))
  ) {
    return { error: inputError(ctx, 'caseworkerInvalid'), values: { ...values, caseworker: '' } };
  }
  for (const d of [values.fromDay, values.toDay]) if (d && !validDay(d)) return { error: inputError(ctx, 'dateInvalid'), values };
  if (values.fromDay && values.toDay && values.fromDay > values.toDay) return { error: inputError(ctx, 'periodReversed'), values };
  const criteria: SearchCriteria = {
    ...(cpr !== undefined ? { subjects: pseudonyms.all(cpr) } : {}),
    ...(values.callerSystem ? { callerSystem: values.callerSystem } : {}),
    ...(values.caseworker ? { caseworker: values.caseworker } : {}),
    ...(values.contract ? { contract: values.contract } : {}),
    ...(values.purpose ? { purpose: values.purpose } : {}),
    ...(values.decision ? { decision: values.decision as 'permit' | 'deny' } : {}),
    ...(values.kind ? { kind: values.kind as AuditKind } : {}),
    ...(values.fromDay ? { fromDay: values.fromDay } : {}),
    ...(values.toDay ? { toDay: values.toDay } : {}),
  };
  return cpr !== undefined ? { criteria, cpr, values } : { criteria, values };
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
  const any = t.search.any;
  return html`<form method="post" action="/dpo/search" class="panel filters" id="search-form" autocomplete="off">
  ${csrfField(ctx)}
  ${error !== undefined ? html`<p class="notice bad" id="search-error">${error}</p>` : ''}
  <label>${t.common.cprNumber}<input name="cpr" id="f-cpr" inputmode="numeric" maxlength="11" placeholder="DDMMÅÅ-XXXX" autocomplete="off"></label>
  ${select(
    'callerSystem',
    t.common.callingSystem,
    rules.clients.clients.map((c) => [c.id, `${c.title[lang]} (${c.id})`]),
    values.callerSystem,
    any,
  )}
  <label>${t.common.caseworker}<input name="caseworker" id="f-caseworker" maxlength="200" value="${values.caseworker ?? ''}"></label>
  ${select(
    'contract',
    t.common.contract,
    rules.contracts.list().map((c) => [c.id, `${c.title[lang]} (${c.id})`]),
    values.contract,
    any,
  )}
  ${select(
    'purpose',
    t.common.purpose,
    [...rules.policies.purposes.values()].map((p) => [p.id, p.title[lang]]),
    values.purpose,
    any,
  )}
  ${select(
    'decision',
    t.common.decision,
    [
      ['permit', t.common.permitted],
      ['deny', t.search.denied],
    ],
    values.decision,
    any,
  )}
  ${select(
    'kind',
    t.common.recordKind,
    KINDS.map((k) => [k, kindLabel(k, lang)]),
    values.kind,
    any,
  )}
  <label>${t.common.from}<input type="date" name="from" id="f-from" value="${values.fromDay ?? ''}"></label>
  <label>${t.common.toInclusive}<input type="date" name="to" id="f-to" value="${values.toDay ?? ''}"></label>
  <div><button type="submit" id="search-submit">${t.search.submit}</button></div>
</form>
<p class="small muted">${t.search.privacy}</p>`;
}

export function searchPage(ctx: PageContext, values?: SearchFormValues, error?: string): string {
  const { t } = ctx;
  return page(ctx, {
    title: t.nav.search,
    section: 'search',
    body: html`<h1>${t.search.heading}</h1>${searchForm(ctx, values, error)}`,
  });
}

export function decisionBadge(ctx: PageContext, r: Pick<AuditRecord, 'decision' | 'kind'>): Html {
  const { t } = ctx;
  if (r.kind === 'refusal') return html`<span class="badge failed">${t.common.refused}</span>`;
  if (r.decision === 'permit') return html`<span class="badge ok">${t.common.permitted}</span>`;
  if (r.decision === 'deny') return html`<span class="badge failed">${t.search.denied}</span>`;
  return html`<span class="muted">-</span>`;
}

export function recordsTable(ctx: PageContext, records: readonly AuditRecord[]): Html {
  const { t, lang, rules } = ctx;
  return html`<table id="results"><thead><tr><th>${t.common.time}</th><th>${t.common.record}</th><th>${t.common.callingSystem}</th><th>${t.common.caseworker}</th><th>${t.common.contract}</th><th>${t.common.purpose}</th><th>${t.common.decision}</th><th>${t.search.fieldsReasons}</th></tr></thead>
<tbody>${records.map(
    (r) => html`<tr data-record="${r.id}" data-audit-id="${r.auditId}">
  <td class="nowrap"><a href="/dpo/records/${r.id}">${formatShortTime(r.time, lang)}</a></td>
  <td>${kindLabel(r.kind, lang)}</td>
  <td>${r.caller?.system ?? '-'}</td>
  <td>${r.caseworker ?? '-'}</td>
  <td title="${r.contract ?? ''}">${r.contract === null ? '-' : contractTitle(rules, r.contract, lang)}</td>
  <td>${r.purpose === null ? '-' : purposeTitle(rules, r.purpose, lang)}</td>
  <td>${decisionBadge(ctx, r)}</td>
  <td class="small">${r.erasedBy !== undefined ? html`<span class="badge pending" data-erased="${r.erasedBy}">${t.record.erasedBadge}</span>` : ''}${r.fields.released.length > 0 ? html`<div>${fieldsWentOut(r) ? t.search.released : t.search.permitted}: ${r.fields.released.join(', ')}</div>` : ''}${r.fields.withheld.length > 0 ? html`<div>${t.search.withheld}: ${r.fields.withheld.join(', ')}</div>` : ''}${r.reasons.length > 0 ? html`<div>${r.reasons.map((c) => reasonText(c, lang)).join('; ')}</div>` : ''}</td>
</tr>`,
  )}</tbody></table>`;
}

export function resultsPage(
  ctx: PageContext,
  o: { id: string; criteria: SearchCriteria; records: readonly AuditRecord[]; next?: string; paged: boolean },
): string {
  const { t, lang, rules } = ctx;
  const c = o.criteria;
  const filters: [string, string][] = [];
  if (c.subjects !== undefined) filters.push([t.search.citizen, t.search.citizenSearched]);
  if (c.callerSystem !== undefined) filters.push([t.common.callingSystem, c.callerSystem]);
  if (c.caseworker !== undefined) filters.push([t.common.caseworker, c.caseworker]);
  if (c.contract !== undefined) filters.push([t.common.contract, contractTitle(rules, c.contract, lang)]);
  if (c.purpose !== undefined) filters.push([t.common.purpose, purposeTitle(rules, c.purpose, lang)]);
  if (c.decision !== undefined) filters.push([t.common.decision, c.decision === 'permit' ? t.common.permitted : t.search.denied]);
  if (c.kind !== undefined) filters.push([t.common.recordKind, kindLabel(c.kind, lang)]);
  if (c.fromDay !== undefined) filters.push([t.common.from, c.fromDay]);
  if (c.toDay !== undefined) filters.push([t.common.toInclusive, c.toDay]);
  return page(ctx, {
    title: t.search.results,
    section: 'search',
    body: html`<h1>${t.search.results}</h1>
<section class="panel"><dl class="facts" id="criteria">${filters.length === 0 ? html`<dt>${t.search.filters}</dt><dd>${t.search.noFilters}</dd>` : filters.map(([k, v]) => html`<dt>${k}</dt><dd>${v}</dd>`)}</dl>
<p class="actions"><a class="button secondary" href="/dpo/search">${t.search.newSearch}</a></p></section>
${o.records.length === 0 ? html`<p class="notice" id="no-results">${t.search.none}</p>` : recordsTable(ctx, o.records)}
<nav class="pager" aria-label="${t.search.pages}">
  ${o.paged ? html`<a href="/dpo/search/${o.id}" id="first-page">${t.common.firstPage}</a>` : ''}
  ${o.next !== undefined ? html`<a href="/dpo/search/${o.id}?after=${o.next}" id="next-page">${t.common.nextPage}</a>` : html`<span class="muted small">${t.search.noMore}</span>`}
</nav>`,
  });
}
