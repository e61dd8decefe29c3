import { Router } from 'express';
import { reloadRules } from '../../rules/reload.js';
import { GatewayError } from '../../errors.js';
import type { Gateway } from '../../gateway.js';
import { authenticate, requireRole } from '../authenticate.js';
import { locals } from '../context.js';
import { readiness } from '../readiness.js';

/** Who may use the operators' API: reload the rules, read the readiness detail. */
export const ADMIN_ROLES = ['operations'] as const;

/**
 * The operators' API (role `operations`):
 *   POST /v1/admin/reload     the operators' console asks the gateway to load the rules on disk.
 *                             200 with the new policy set's digest, or 422 RULES_INVALID listing
 *                             the files and lines that do not check (the details are in the
 *                             operator's log and `snitflade check`); the rules in force stay. Both
 *                             are in the audit trail. With a request token, like every change.
 *   GET  /v1/admin/readiness  what /readyz stands on: store and durability, chain lease, rules and
 *                             policy set digest, certificates and their days left, revocation
 *                             list; 200 when ready, 503 when not, as /readyz. The client
 *                             certificate alone: it must answer when the store cannot claim a
 *                             token, and it changes nothing.
 */
export function adminRoutes(gateway: Gateway): Router {
  const router = Router();
  router.get('/v1/admin/readiness', requireRole('admin-readiness', ADMIN_ROLES), async (_req, res) => {
    const report = await readiness(gateway);
    res.status(report.ready ? 200 : 503).json(report);
  });
  router.post('/v1/admin/reload', ...authenticate(gateway, 'admin-reload', ADMIN_ROLES), async (_req, res) => {
    const l = locals(res);
    const outcome = await reloadRules(gateway, {
      via: 'api',
      requestId: l.requestId,
      caller: { system: l.client!.id, administration: l.client!.administration },
      ...(l.token ? { caseworker: l.token.caseworker, tokenDigest: l.token.digest } : {}),
    });
    if (!outcome.ok) {
      const err = new GatewayError('RULES_INVALID', {
        errors: outcome.errors.map((e) => ({ path: e.file, message: e.line !== undefined ? `line ${e.line}` : 'the file as a whole' })),
      });
      err.auditId = outcome.auditId;
      throw err;
    }
    res.json({
      status: 'reloaded',
      auditId: outcome.auditId,
      policySet: outcome.policySet,
      previousPolicySet: outcome.previousPolicySet,
      contracts: outcome.contracts,
      policies: outcome.policies,
      warnings: outcome.warnings.map((w) => ({ path: w.file, message: w.line !== undefined ? `line ${w.line}` : 'the file as a whole' })),
    });
  });
  return router;
}
