import { isGatewayError } from '../../errors.js';
import { redriveDelivery, searchDeliveries, type DeliveryView } from '../../outbox/dead-letters.js';
import { formatTime, html } from '../html.js';
import { contractTitle } from '../labels.js';
import { csrfField, page, type PageContext } from '../layout.js';
import { caller, PAGE_SIZE, pageContext, queryParam, sendPage, type DpoPages } from '../request.js';

/** Notifications that could not be delivered (GET /dpo/notifications) and re-driving one (POST /dpo/notifications/:id/redrive, audited as REDRIVEN by the outbox). */
export const notificationsRoutes: DpoPages = (router, deps) => {
  router.get('/notifications', async (req, res) => {
    const ctx = pageContext(deps, req, res);
    const after = queryParam(req, 'after');
    const found = await searchDeliveries(deps.deadLetters, { state: 'dead', limit: PAGE_SIZE, ...(after !== undefined ? { after } : {}) });
    sendPage(
      res,
      200,
      notificationsPage(ctx, {
        deliveries: found.deliveries,
        ...(found.next !== undefined ? { next: found.next } : {}),
        paged: after !== undefined,
        ...(queryParam(req, 'done') === 'redriven' ? { done: 'redriven' as const } : {}),
      }),
    );
  });

  router.post('/notifications/:id/redrive', async (req, res) => {
    const ctx = pageContext(deps, req, res);
    try {
      await redriveDelivery(deps.deadLetters, caller(res), req.params.id);
    } catch (err) {
      // A dead letter gone or expired meanwhile: the list again, saying so.
      if (!isGatewayError(err) || (err.code !== 'DEAD_LETTER_NOT_FOUND' && err.code !== 'DEAD_LETTER_EXPIRED')) throw err;
      res.locals.problemCode = err.code;
      const found = await searchDeliveries(deps.deadLetters, { state: 'dead', limit: PAGE_SIZE });
      return sendPage(
        res,
        err.status,
        notificationsPage(ctx, { deliveries: found.deliveries, paged: false, error: `${err.message} (${err.code})` }),
      );
    }
    res.redirect(303, '/dpo/notifications?done=redriven');
  });
};

export function notificationsPage(
  ctx: PageContext,
  o: { deliveries: readonly DeliveryView[]; next?: string; paged: boolean; done?: 'redriven'; error?: string },
): string {
  const { t, lang, rules } = ctx;
  return page(ctx, {
    title: t.nav.notifications,
    section: 'notifications',
    body: html`<h1>${t.notifications.heading}</h1>
<p class="lead">${t.notifications.lead}</p>
${o.done === 'redriven' ? html`<p class="notice ok" id="redriven">${t.notifications.redriven}</p>` : ''}
${o.error !== undefined ? html`<p class="notice bad" id="redrive-error">${o.error}</p>` : ''}
${
  o.deliveries.length === 0
    ? html`<p class="notice ok" id="no-dead-letters">${t.notifications.none}</p>`
    : html`<table id="dead-letters"><thead><tr><th>${t.notifications.created}</th><th>${t.common.contract}</th><th>${t.notifications.recipient}</th><th class="num">${t.notifications.attempts}</th><th>${t.notifications.lastError}</th><th>${t.common.auditId}</th><th></th></tr></thead>
<tbody>${o.deliveries.map(
        (
          d,
        ) => html`<tr data-delivery="${d.id}"><td>${formatTime(d.createdAt, lang)}</td><td>${contractTitle(rules, d.contract, lang)}</td><td>${d.recipient.system} (${d.recipient.administration})</td><td class="num">${d.attempts}</td><td class="small">${d.lastError ?? '-'}${d.lastStatus !== null ? ` (HTTP ${d.lastStatus})` : ''}</td><td><code class="small">${d.auditId}</code></td>
  <td>${d.payloadAvailable ? html`<form method="post" action="/dpo/notifications/${d.id}/redrive" data-confirm="${t.notifications.confirmRedrive}">${csrfField(ctx)}<button type="submit" class="secondary">${t.notifications.redrive}</button></form>` : html`<span class="muted small">${t.notifications.payloadErased}</span>`}</td></tr>`,
      )}</tbody></table>`
}
<nav class="pager">${o.paged ? html`<a href="/dpo/notifications">${t.common.firstPage}</a>` : ''}${o.next !== undefined ? html`<a href="/dpo/notifications?after=${encodeURIComponent(o.next)}">${t.common.nextPage}</a>` : ''}</nav>`,
  });
}
