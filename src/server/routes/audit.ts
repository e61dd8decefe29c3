import { Router, type Response } from 'express';
import { dpoCitizenReport, dpoSearch, dpoVerify, type DpoAuditDeps, type DpoCaller } from '../../audit/dpo-access.js';
import { CITIZEN_REPORT_CSP, citizenReportCsv, citizenReportHtml } from '../../audit/report.js';
import type { Gateway } from '../../gateway.js';
import { authenticate } from '../authenticate.js';
import { locals } from '../context.js';

/** Only the DPO's console reads the audit trail. */
export const AUDIT_ROLES = ['dpo'] as const;

/**
 * The DPO's audit API (src/audit/dpo-access.ts does the work; every call is itself audited):
 *   POST /v1/audit/search           {cpr?, callerSystem?, caseworker?, contract?, purpose?, policy?, decision?, reason?,
 *                                    kind?, from?, to?, cursor?, limit?, proofs?} -> {results: [{record, verification}], next?, auditId}
 *   GET  /v1/audit/verify           -> {ok, verifiedAt, chains: [{chain, ok, checked, lastCheckpoint, unsealed, problem?}], auditId}
 *   POST /v1/audit/citizen-report   {cpr, from?, to?, format?: json|csv|html, lang?: da|en} -> the report
 */
export function auditRoutes(gateway: Gateway): Router {
  const router = Router();
  const deps = (): DpoAuditDeps => ({
    store: gateway.store,
    trail: gateway.trail,
    pseudonyms: gateway.pseudonyms,
    verifier: gateway.audit.verifier,
    rules: () => gateway.rules(),
    includeEmployee: gateway.config.audit.reportIncludesEmployee,
    observe: gateway.metrics,
  });
  const caller = (res: Response): DpoCaller => {
    const l = locals(res);
    return { requestId: l.requestId, client: l.client!, token: l.token! };
  };

  router.post('/v1/audit/search', ...authenticate(gateway, 'audit-search', AUDIT_ROLES), async (_req, res) => {
    res.json(await dpoSearch(deps(), caller(res), locals(res).json));
  });

  router.get('/v1/audit/verify', ...authenticate(gateway, 'audit-verify', AUDIT_ROLES), async (_req, res) => {
    res.json(await dpoVerify(deps(), caller(res)));
  });

  router.post('/v1/audit/citizen-report', ...authenticate(gateway, 'audit-citizen-report', AUDIT_ROLES), async (_req, res) => {
    const { report, format, lang, auditId } = await dpoCitizenReport(deps(), caller(res), locals(res).json);
    res.set('x-audit-id', auditId);
    if (format === 'csv') {
      res
        .type('text/csv; charset=utf-8')
        .set('content-disposition', 'attachment; filename="citizen-report.csv"')
        .send(citizenReportCsv(report, lang));
    } else if (format === 'html') {
      res.type('text/html; charset=utf-8').set('content-security-policy', CITIZEN_REPORT_CSP).send(citizenReportHtml(report, lang));
    } else {
      res.json({ ...report, auditId });
    }
  });
  return router;
}
