import { dpoRelationHistory } from '../../audit/dpo-access.js';
import { SUPPRESS_BELOW, type SharedCitizenCount } from '../../audit/statistics.js';
import { parseCpr } from '../../lib/cpr.js';
import { copenhagenDate } from '../../policy/dates.js';
import { relationState } from '../../relations/register.js';
import type { StoredRelation } from '../../relations/types.js';
import { formatNumber, formatTime, html } from '../html.js';
import { administrationTitle, capacityTitle } from '../labels.js';
import { csrfField, page, type PageContext } from '../layout.js';
import { inputError, sendFormAgain } from '../messages.js';
import { bodyOf, caller, field, pageContext, sendPage, type DpoPages } from '../request.js';

/**
 * The relations register for the DPO (GET and POST /dpo/relations): today's shared citizens per
 * combination of administrations (counts under SUPPRESS_BELOW suppressed), and a citizen's
 * relations, every administration's, with their history. The CPR number travels only in the POST
 * body; the look-up is audited (kind dpo-access, RELATION_HISTORY) before anything is shown.
 */
export const relationsRoutes: DpoPages = (router, deps) => {
  router.get('/relations', async (req, res) => {
    const day = copenhagenDate(new Date());
    const shared = await deps.statistics.sharedCitizens(day);
    sendPage(res, 200, relationsPage(pageContext(deps, req, res), { shared: { day, counts: shared } }));
  });

  router.post('/relations', async (req, res) => {
    const ctx = pageContext(deps, req, res);
    const cpr = parseCpr(field(bodyOf(req), 'cpr'));
    if (cpr === undefined) return sendFormAgain(res, relationsPage(ctx, { error: inputError(ctx, 'cprInvalid') }));
    const { relations } = await dpoRelationHistory(deps.audit, caller(res), cpr);
    sendPage(res, 200, relationsPage(ctx, { relations, today: copenhagenDate(new Date()) }));
  });
};

export function relationsPage(
  ctx: PageContext,
  o: {
    relations?: readonly StoredRelation[];
    today?: string;
    shared?: { day: string; counts: readonly SharedCitizenCount[] };
    error?: string;
  } = {},
): string {
  const { t } = ctx;
  return page(ctx, {
    title: t.nav.relations,
    section: 'relations',
    body: html`<h1>${t.relations.heading}</h1>
<p class="lead">${t.relations.lead}</p>
<form method="post" action="/dpo/relations" class="panel inline" id="relations-form" autocomplete="off">
  ${csrfField(ctx)}
  ${o.error !== undefined ? html`<p class="notice bad" id="relations-error">${o.error}</p>` : ''}
  <label>${t.common.cprNumber}<input name="cpr" id="rel-cpr" inputmode="numeric" maxlength="11" required autocomplete="off"></label>
  <button type="submit" id="relations-submit">${t.relations.lookUp}</button>
</form>
<p class="small muted">${t.relations.audited}</p>
${
  o.relations === undefined
    ? ''
    : o.relations.length === 0
      ? html`<p class="notice" id="no-relations">${t.relations.none}</p>`
      : html`<div id="relations">${o.relations.map((s) => relationSection(ctx, s, o.today ?? copenhagenDate(new Date())))}</div>`
}
${o.shared !== undefined ? sharedSection(ctx, o.shared.day, o.shared.counts) : ''}`,
  });
}

function relationSection(ctx: PageContext, stored: StoredRelation, today: string) {
  const { t, lang, rules } = ctx;
  const r = stored.relation;
  const state = relationState(r, today);
  const badge = state === 'active' ? 'ok' : state === 'voided' ? 'failed' : 'pending';
  return html`<section class="panel relation" data-relation="${r.id}" data-state="${state}" data-administration="${r.administration}">
  <h2><span class="badge ${badge}">${t.relations.states[state]}</span> ${administrationTitle(rules, r.administration, lang)} · ${capacityTitle(rules, r.capacity, lang)}</h2>
  <dl class="facts">
    <dt>${t.relations.relation}</dt><dd><code>${r.id}</code></dd>
    <dt>${t.relations.capacity}</dt><dd>${capacityTitle(rules, r.capacity, lang)} (<code>${r.capacity}</code>)</dd>
    <dt>${t.relations.caseRef}</dt><dd class="case-ref">${r.caseRef}</dd>
    <dt>${t.relations.caseworker}</dt><dd>${r.caseworker ?? '-'}</dd>
    <dt>${t.relations.period}</dt><dd class="period">${r.from} – ${r.to ?? t.relations.openEnded}</dd>
    ${r.endReason !== null ? html`<dt>${t.relations.endReason}</dt><dd class="end-reason">${t.relations.endReasons[r.endReason]}</dd>` : ''}
    <dt>${t.relations.registeredAt}</dt><dd>${formatTime(r.registeredAt, lang)}</dd>
    <dt>${t.relations.updatedAt}</dt><dd>${formatTime(r.updatedAt, lang)}</dd>
  </dl>
  <h3>${t.relations.history}</h3>
  <table class="small history"><thead><tr><th>${t.relations.event}</th><th>${t.common.time}</th><th>${t.relations.by}</th><th>${t.common.caseworker}</th><th>${t.relations.changed}</th><th>${t.common.reason}</th><th>${t.common.auditId}</th></tr></thead>
  <tbody>${stored.events.map(
    (e) =>
      html`<tr data-event="${e.type}"><td>${t.relations.events[e.type]}</td><td>${formatTime(e.at, lang)}</td><td>${e.actor.system} (${e.actor.administration})</td><td>${e.actor.caseworker ?? '-'}</td><td class="changed">${e.changed.length === 0 ? '-' : e.changed.map((c) => (t.relations.fields as Readonly<Record<string, string>>)[c] ?? c).join(', ')}</td><td class="reason">${e.reason !== null ? t.relations.endReasons[e.reason] : '-'}</td><td><code>${e.auditId}</code></td></tr>`,
  )}</tbody></table>
</section>`;
}

function sharedSection(ctx: PageContext, day: string, counts: readonly SharedCitizenCount[]) {
  const { t, lang, rules } = ctx;
  return html`<section class="panel" id="shared-citizens">
  <h2>${t.relations.shared}</h2>
  <p class="small">${t.relations.sharedLead(day)}</p>
  ${
    counts.length === 0
      ? html`<p class="notice" id="no-shared">${t.relations.noneInForce}</p>`
      : html`<table><thead><tr><th>${t.relations.combination}</th><th class="num">${t.relations.citizens}</th></tr></thead>
  <tbody>${counts.map(
    (c) =>
      html`<tr data-combination="${c.administrations.join('+')}"><td>${c.administrations.map((a) => administrationTitle(rules, a, lang)).join(' + ')}</td><td class="num">${c.citizens === null ? t.relations.fewerThan(SUPPRESS_BELOW) : formatNumber(c.citizens, lang)}</td></tr>`,
  )}</tbody></table>`
  }
  <p class="small muted">${t.relations.sharedNote(SUPPRESS_BELOW)}</p>
</section>`;
}
