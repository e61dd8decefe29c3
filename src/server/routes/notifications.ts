import { Router } from 'express';
import { runNotification, type NotificationDeps } from '../../exchange/notification.js';
import type { Gateway } from '../../gateway.js';
import { redriveDelivery, searchDeliveries } from '../../outbox/dead-letters.js';
import { authenticate } from '../authenticate.js';
import { locals } from '../context.js';
import { exchangeRoute } from './exchange.js';

/** Who may see and re-drive dead letters. */
export const DEAD_LETTER_ROLES = ['operations', 'dpo'] as const;

/**
 *   POST /v1/notifications/{contractId}                     the provider system posts an event -> 202 {auditId, deliveries}
 *   POST /v1/notifications/dead-letters/search              {state?, contract?, recipient?, auditId?, limit?, after?} -> {deliveries, next?}
 *   POST /v1/notifications/dead-letters/{id}/redrive        {} -> {delivery, auditId}
 */
export function notificationRoutes(gateway: Gateway): Router {
  const router = Router();
  const wake = (): void => gateway.outbox.wake();

  router.post('/v1/notifications/dead-letters/search', ...authenticate(gateway, 'dead-letters', DEAD_LETTER_ROLES), async (_req, res) => {
    res.json(await searchDeliveries({ outbox: gateway.store.outbox, trail: gateway.trail, wake }, locals(res).json));
  });
  router.post(
    '/v1/notifications/dead-letters/:id/redrive',
    ...authenticate(gateway, 'dead-letters', DEAD_LETTER_ROLES),
    async (req, res) => {
      const l = locals(res);
      res.json(
        await redriveDelivery(
          { outbox: gateway.store.outbox, trail: gateway.trail, wake },
          { requestId: l.requestId, client: l.client!, token: l.token! },
          req.params.id as string,
        ),
      );
    },
  );

  const deps: NotificationDeps = { ...gateway.deps, outbox: gateway.store.outbox, wake };
  exchangeRoute(router, gateway, 'notification', (req) => runNotification(deps, req), 202);
  return router;
}
