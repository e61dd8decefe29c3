import type { Client } from '../auth/clients.js';
import type { RequestToken } from '../auth/token.js';
import { callerSchemaErrors, contractAjv } from '../contracts/ajv.js';
import { GatewayError } from '../errors.js';
import type { Store } from '../store/types.js';
import type { CheckpointVerifier } from './checkpoint.js';
import { auditEntry } from './entry.js';
import { DPO_ACCESS, type DpoAccess } from './reasons.js';
import type { Pseudonymizer } from './pseudonym.js';
import { buildCitizenReport, type CitizenReport, type Lang, type ReportRules } from './report.js';
import { parseAuditSearch, searchAuditTrail, type AuditSearchResult } from './search.js';
import type { AuditTrail } from './trail.js';
import type { AuditEntry } from './types.js';
import type { StoredRelation } from '../relations/types.js';
import { writeAudit, type AuditWriteObserver } from './write.js';
import { verifyTrail, type TrailVerification } from './verify-trail.js';
import { newAuditId } from './id.js';

/**
 * The DPO's operations on the trail (the routes in src/server/routes/audit.ts call these):
 * search, verify and the citizen's access report; and, for the DPO pages, a citizen's relations
 * with their history. Each access is itself audited, as kind
 * 'dpo-access', before anything is answered: who asked, what kind of access, and about which
 * citizen by pseudonym only.
 */

export interface DpoAuditDeps {
  readonly store: Store;
  readonly trail: AuditTrail;
  readonly pseudonyms: Pseudonymizer;
  readonly verifier: CheckpointVerifier;
  readonly rules: () => ReportRules;
  /** Whether access reports name the employee (config audit.reportIncludesEmployee). */
  readonly includeEmployee: boolean;
  readonly observe?: AuditWriteObserver;
}

/** The DPO's console as the HTTP shell identified it. */
export interface DpoCaller {
  readonly requestId: string;
  readonly client: Client;
  readonly token: RequestToken;
}

/** The audit entry of a DPO's access to the trail. */
export function dpoAccessEntry(
  deps: Pick<DpoAuditDeps, 'rules'>,
  caller: DpoCaller,
  access: DpoAccess,
  subject: string | null,
  auditId: string,
): AuditEntry {
  const purpose = deps.rules().policies.purposes.has(caller.token.purpose) ? caller.token.purpose : null;
  return auditEntry('dpo-access', {
    auditId,
    requestId: caller.requestId,
    caller: { system: caller.client.id, administration: caller.client.administration },
    caseworker: caller.token.caseworker,
    caseRef: caller.token.caseRef,
    purpose,
    subject,
    reasons: [access],
    tokenDigest: caller.token.digest,
    status: 200,
  });
}

async function audit(deps: DpoAuditDeps, caller: DpoCaller, access: DpoAccess, cpr: string | undefined): Promise<string> {
  const auditId = newAuditId();
  await writeAudit(
    deps.trail,
    dpoAccessEntry(deps, caller, access, cpr !== undefined ? deps.pseudonyms.pseudonym(cpr) : null, auditId),
    deps.observe,
  );
  return auditId;
}

/** POST /v1/audit/search. */
export async function dpoSearch(
  deps: DpoAuditDeps,
  caller: DpoCaller,
  body: unknown,
): Promise<{ results: AuditSearchResult[]; next?: string; auditId: string }> {
  const request = parseAuditSearch(body);
  const auditId = await audit(deps, caller, DPO_ACCESS.search, request.cpr);
  return { ...(await searchAuditTrail(deps, request)), auditId };
}

/** GET /v1/audit/verify: every chain, with its checkpoints. */
export async function dpoVerify(deps: DpoAuditDeps, caller: DpoCaller): Promise<TrailVerification & { auditId: string }> {
  const auditId = await audit(deps, caller, DPO_ACCESS.verify, undefined);
  return { ...(await verifyTrail({ store: deps.store, verifier: deps.verifier })), auditId };
}

/**
 * A citizen's relations in the relations register, every administration's, with their history
 * (the DPO's relations page): the access is audited first (kind dpo-access, RELATION_HISTORY,
 * the citizen as pseudonym), then the register is read under every pseudonym key.
 */
export async function dpoRelationHistory(
  deps: DpoAuditDeps,
  caller: DpoCaller,
  cpr: string,
): Promise<{ relations: StoredRelation[]; auditId: string }> {
  const auditId = await audit(deps, caller, DPO_ACCESS.relationHistory, cpr);
  return { relations: await deps.store.relations.search({ subjects: deps.pseudonyms.all(cpr) }), auditId };
}

export const citizenReportSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['cpr'],
  properties: {
    cpr: { type: 'string', format: 'cpr' },
    from: { type: 'string', format: 'date-time', maxLength: 40 },
    to: { type: 'string', format: 'date-time', maxLength: 40 },
    format: { enum: ['json', 'csv', 'html'] },
    lang: { enum: ['da', 'en'] },
  },
} as const;

export interface CitizenReportRequest {
  readonly cpr: string;
  readonly from?: string;
  readonly to?: string;
  readonly format?: 'json' | 'csv' | 'html';
  readonly lang?: Lang;
}

const validateReport = contractAjv({ allErrors: true }).compile(citizenReportSchema);

/** The report body, validated; throws AUDIT_QUERY_INVALID naming schema paths, never values. */
export function parseCitizenReportRequest(body: unknown): CitizenReportRequest {
  if (!validateReport(body)) throw new GatewayError('AUDIT_QUERY_INVALID', { errors: callerSchemaErrors(validateReport.errors) });
  const b = body as CitizenReportRequest;
  if (b.from !== undefined && b.to !== undefined && Date.parse(b.from) >= Date.parse(b.to))
    throw new GatewayError('AUDIT_QUERY_INVALID', { errors: [{ path: '/to', message: 'must be after from' }] });
  return b;
}

/** POST /v1/audit/citizen-report. */
export async function dpoCitizenReport(
  deps: DpoAuditDeps,
  caller: DpoCaller,
  body: unknown,
): Promise<{ report: CitizenReport; format: 'json' | 'csv' | 'html'; lang: Lang; auditId: string }> {
  const request = parseCitizenReportRequest(body);
  const auditId = await audit(deps, caller, DPO_ACCESS.citizenReport, request.cpr);
  const report = await buildCitizenReport(
    { store: deps.store, pseudonyms: deps.pseudonyms, rules: deps.rules(), includeEmployee: deps.includeEmployee },
    {
      cpr: request.cpr,
      ...(request.from !== undefined ? { from: request.from } : {}),
      ...(request.to !== undefined ? { to: request.to } : {}),
    },
  );
  return { report, format: request.format ?? 'json', lang: request.lang ?? 'da', auditId };
}
