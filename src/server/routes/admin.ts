import { Router } from 'express';
import { reloadRules } from '../../rules/reload.js';
import { GatewayError } from '../../errors.js';
import type { Gateway } from '../../gateway.js';
import { authenticate } from '../authenticate.js';
import { locals } from '../context.js';

/**
 * POST /v1/admin/reload: the operators' console (role `operations`) asks the gateway to load the
 * rules on disk. 200 with the new policy set's digest, or 422 RULES_INVALID listing the files
 * and lines that do not check (the details are in the operator's log and `snitflade check`);
 * the rules in force stay. Both are in the audit trail.
 */
/** Who may reload the rules. */
export const ADMIN_ROLES = ['operations'] as const;

export function adminRoutes(gateway: Gateway): Router {
  const router = Router();
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
