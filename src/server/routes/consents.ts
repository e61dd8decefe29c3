import { Router } from 'express';
import { consentRegistryDeps, recordConsent, searchConsents, withdrawConsent, type ConsentRegistryDeps } from '../../consent/records.js';
import type { Gateway } from '../../gateway.js';
import { authenticate } from '../authenticate.js';
import { locals } from '../context.js';

/** Who may record consents: caseworkers' systems, on the citizen's behalf. */
export const CONSENT_ROLES = ['caseworker-system'] as const;
/** The DPO may also read them (e.g. for a citizen's access request) and withdraw them. */
export const CONSENT_SEARCH_ROLES = ['caseworker-system', 'dpo'] as const;

/**
 * The consent registry's API (src/consent/records.ts does the work):
 *   POST /v1/consents                 {cpr, evidence, recipients?, sources?, purposes?, contracts?, categories?,
 *                                      validFrom?, validTo?, givenBy?, relation?}
 *                                     -> 201 {consent, auditId}; consent.receipt is the signed receipt
 *   POST /v1/consents/search          {cpr} -> 200 {consents, auditId}: those the caller has standing for
 *   POST /v1/consents/{id}/withdraw   {cpr, reason?} -> 200 {consent, auditId}: recorder, recipient or DPO
 */
export function consentRoutes(gateway: Gateway): Router {
  const router = Router();
  const deps = (): ConsentRegistryDeps => consentRegistryDeps(gateway);
  const caller = (res: Parameters<typeof locals>[0]) => {
    const l = locals(res);
    return { requestId: l.requestId, client: l.client!, token: l.token! };
  };

  router.post('/v1/consents', ...authenticate(gateway, 'consent-record', CONSENT_ROLES), async (_req, res) => {
    const result = await recordConsent(deps(), caller(res), locals(res).json);
    res.status(201).json(result);
  });
  router.post('/v1/consents/search', ...authenticate(gateway, 'consent-search', CONSENT_SEARCH_ROLES), async (_req, res) => {
    res.json(await searchConsents(deps(), caller(res), locals(res).json));
  });
  router.post('/v1/consents/:id/withdraw', ...authenticate(gateway, 'consent-withdraw', CONSENT_SEARCH_ROLES), async (req, res) => {
    res.json(await withdrawConsent(deps(), caller(res), req.params.id as string, locals(res).json));
  });
  return router;
}
