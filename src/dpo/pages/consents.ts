import { searchConsents } from '../../consent/records.js';
import type { ConsentView } from '../../consent/types.js';
import { parseCpr } from '../../lib/cpr.js';
import { formatTime, html } from '../html.js';
import { administrationTitle, contractTitle, purposeTitle } from '../labels.js';
import { csrfField, page, type PageContext } from '../layout.js';
import { inputError, sendFormAgain } from '../messages.js';
import { bodyOf, caller, field, pageContext, sendPage, type DpoPages } from '../request.js';

/** A citizen's consents and their history (GET and POST /dpo/consents), looked up through the consent registry, which audits the look-up (CONSENT_SEARCH). */
export const consentsRoutes: DpoPages = (router, deps) => {
  router.get('/consents', (req, res) => {
    sendPage(res, 200, consentsPage(pageContext(deps, req, res)));
  });

  router.post('/consents', async (req, res) => {
    const ctx = pageContext(deps, req, res);
    const cpr = parseCpr(field(bodyOf(req), 'cpr'));
    if (cpr === undefined) return sendFormAgain(res, consentsPage(ctx, { error: inputError(ctx, 'cprInvalid') }));
    const { consents } = await searchConsents(deps.consents, caller(res), { cpr });
    sendPage(res, 200, consentsPage(ctx, { consents: consents }));
  });
};

export function consentsPage(ctx: PageContext, o: { consents?: readonly ConsentView[]; error?: string } = {}): string {
  const { t, lang, rules } = ctx;
  const stateBadge = (s: string) =>
    s === 'active'
      ? html`<span class="badge ok">${t.consents.active}</span>`
      : s === 'withdrawn'
        ? html`<span class="badge failed">${t.consents.withdrawn}</span>`
        : html`<span class="badge pending">${t.consents.expired}</span>`;
  // What the evidence is: the form's reference and kind for a caseworker's record; the artefact, its issuer and the text shown for a signed one.
  const evidenceText = (c: ConsentView): string => {
    const e = c.evidence;
    if (e.artefact !== undefined) {
      const a = e.artefact;
      return `${t.consents.artefact} ${a.issuer}/${a.id} · ${t.consents.consentText} ${a.text.template} v${a.text.version} · ${t.consents.givenAt} ${formatTime(a.givenAt, lang)}`;
    }
    return `${t.consents.formReference} ${e.reference}${e.form !== undefined ? ` (${t.consents.forms[e.form]})` : ''}`;
  };
  // Who gave it: the citizen, or a representative's role with the evidence of their authority (a reference, never a CPR number).
  const giverText = (c: ConsentView): string =>
    `${t.consents.givers[c.givenBy.role]}${c.givenBy.reference !== undefined ? ` (${t.consents.giverEvidence} ${c.givenBy.reference})` : ''}`;
  const eventText = (type: string) =>
    type === 'given' ? t.consents.given : type === 'withdrawn' ? t.consents.withdrawn : t.consents.expired;
  return page(ctx, {
    title: t.nav.consents,
    section: 'consents',
    body: html`<h1>${t.consents.heading}</h1>
<form method="post" action="/dpo/consents" class="panel inline" id="consent-form" autocomplete="off">
  ${csrfField(ctx)}
  ${o.error !== undefined ? html`<p class="notice bad" id="consent-error">${o.error}</p>` : ''}
  <label>${t.common.cprNumber}<input name="cpr" id="c-cpr" inputmode="numeric" maxlength="11" required autocomplete="off"></label>
  <button type="submit" id="consent-submit">${t.consents.lookUp}</button>
</form>
<p class="small muted">${t.consents.audited}</p>
${
  o.consents === undefined
    ? ''
    : o.consents.length === 0
      ? html`<p class="notice" id="no-consents">${t.consents.none}</p>`
      : o.consents.map(
          (c) => html`<section class="panel consent" data-consent="${c.id}" data-state="${c.state}">
  <h2>${stateBadge(c.state)} ${t.consents.consent} <code>${c.id}</code></h2>
  <dl class="facts">
    <dt>${t.consents.level}</dt><dd data-level="${c.level}">${t.consents.levels[c.level]}</dd>
    <dt>${t.consents.evidence}</dt><dd data-evidence>${evidenceText(c)}</dd>
    <dt>${t.consents.givenBy}</dt><dd data-given-by="${c.givenBy.role}">${giverText(c)}</dd>
    <dt>${t.consents.backdated}</dt><dd data-backdated="${c.backdated ? 'yes' : 'no'}">${c.backdated ? html`<span class="badge pending">${t.consents.backdatedYes}</span>` : t.consents.backdatedNo}</dd>
    <dt>${t.consents.recipients}</dt><dd>${c.recipients.map((a) => administrationTitle(rules, a, lang)).join(', ')}</dd>
    <dt>${t.consents.sources}</dt><dd data-sources>${c.sources === null ? t.consents.anySource : c.sources.map((a) => administrationTitle(rules, a, lang)).join(', ')}</dd>
    <dt>${t.consents.purposes}</dt><dd>${c.purposes.map((p) => purposeTitle(rules, p, lang)).join('; ')}</dd>
    <dt>${t.consents.contracts}</dt><dd>${c.contracts.length === 0 ? '-' : c.contracts.map((x) => contractTitle(rules, x, lang)).join('; ')}</dd>
    <dt>${t.consents.categories}</dt><dd>${c.categories.length === 0 ? '-' : c.categories.join(', ')}</dd>
    <dt>${t.consents.period}</dt><dd>${c.validFrom} – ${c.validTo}</dd>
    <dt>${t.consents.relation}</dt><dd data-relation>${c.relation === null ? t.consents.noRelation : html`<code>${c.relation}</code>`}</dd>
    <dt>${t.consents.recordedBy}</dt><dd>${c.recordedBy.system} (${c.recordedBy.administration})${c.recordedBy.caseworker !== null ? `, ${c.recordedBy.caseworker}` : ''} · ${formatTime(c.recordedAt, lang)}</dd>
    <dt>${t.consents.receiptDigest}</dt><dd><code>${c.receiptDigest}</code></dd>
  </dl>
  <h3>${t.consents.history}</h3>
  <table class="small"><thead><tr><th>${t.consents.event}</th><th>${t.common.time}</th><th>${t.consents.by}</th><th>${t.common.reason}</th></tr></thead>
  <tbody>${c.events.map((e) => html`<tr data-event="${e.type}"><td>${eventText(e.type)}</td><td>${formatTime(e.at, lang)}</td><td>${e.actor === null ? '-' : `${e.actor.system} (${e.actor.administration})`}</td><td>${e.reason ?? '-'}</td></tr>`)}</tbody></table>
</section>`,
        )
}`,
  });
}
