import { Router } from 'express';
import type { Gateway } from '../../gateway.js';
import { endRelation, registerRelation, searchRelations, type RelationsDeps } from '../../relations/register.js';
import { authenticate } from '../authenticate.js';
import { locals } from '../context.js';

/**
 * Who may register and end relations: case systems, for their own administration (a coordinating
 * caseworker's system registers its `coordinating-caseworker` relations the same way).
 */
export const RELATION_ROLES = ['caseworker-system', 'coordinating-caseworker'] as const;
/** Who may search them: the case systems (their own administration's only) and the DPO (all). */
export const RELATION_SEARCH_ROLES = ['caseworker-system', 'coordinating-caseworker', 'dpo'] as const;

/**
 * The relations register's API (src/relations/register.ts does the work):
 *   POST /v1/relations              {cpr, capacity, caseRef, from, to?, caseworker?, administration?}
 *                                   -> 201 {relation, auditId, outcome: 'registered'}, or 200 (outcome 'changed' | 'unchanged')
 *   POST /v1/relations/{id}/end     {to, reason?} -> 200 {relation, auditId, outcome: 'ended' | 'unchanged'}
 *   POST /v1/relations/search       {cpr?, caseRef?} -> 200 {relations, auditId}
 */
export function relationRoutes(gateway: Gateway): Router {
  const router = Router();
  const deps = (): RelationsDeps => ({
    relations: gateway.store.relations,
    trail: gateway.trail,
    pseudonyms: gateway.pseudonyms,
    rules: () => gateway.rules(),
    observe: gateway.metrics,
    limits: gateway.config.relations,
  });
  const caller = (res: Parameters<typeof locals>[0]) => {
    const l = locals(res);
    return { requestId: l.requestId, client: l.client!, token: l.token! };
  };

  // The search first: its path would otherwise read as a relation id.
  router.post('/v1/relations/search', ...authenticate(gateway, 'relation-search', RELATION_SEARCH_ROLES), async (_req, res) => {
    res.json(await searchRelations(deps(), caller(res), locals(res).json));
  });
  router.post('/v1/relations', ...authenticate(gateway, 'relation-register', RELATION_ROLES), async (_req, res) => {
    const result = await registerRelation(deps(), caller(res), locals(res).json);
    res.status(result.outcome === 'registered' ? 201 : 200).json(result);
  });
  router.post('/v1/relations/:id/end', ...authenticate(gateway, 'relation-end', RELATION_ROLES), async (req, res) => {
    res.json(await endRelation(deps(), caller(res), req.params.id as string, locals(res).json));
  });
  return router;
}
