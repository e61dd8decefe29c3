import { citizenReportSchema } from '../audit/dpo-access.js';
import { auditSearchSchema } from '../audit/search.js';
import { recordConsentSchema, searchConsentsSchema, withdrawConsentSchema } from '../consent/requests.js';
import { openApiDocument, problemResponses, ref, type OpenApiOptions } from '../contracts/catalogue.js';
import type { ContractRegistry } from '../contracts/types.js';
import { deadLetterSearchSchema } from '../outbox/dead-letters.js';
import { ADMIN_ROLES } from './routes/admin.js';
import { AUDIT_ROLES } from './routes/audit.js';
import { CONSENT_ROLES, CONSENT_SEARCH_ROLES } from './routes/consents.js';
import { RELATION_ROLES, RELATION_SEARCH_ROLES } from './routes/relations.js';
import { endRelationSchema, registerRelationSchema, searchRelationsSchema } from '../relations/requests.js';
import { DEAD_LETTER_ROLES } from './routes/notifications.js';

/**
 * The gateway's whole public API as OpenAPI 3.1: the contracts' exchange paths
 * (src/contracts/catalogue.ts) and the gateway's own API (consents, relations, the DPO's audit API,
 * dead letters, reload, the catalogue and operations), each with the roles it needs and its
 * request schema, the same schemas the routes validate with. The DPO review pages under /dpo/
 * are HTML for a browser and are not in it.
 *
 * @example
 *   res.json(gatewayOpenApiDocument(gateway.rules().contracts, { serverUrl: 'https://localhost:8443' }));
 */
export function gatewayOpenApiDocument(registry: ContractRegistry, options: Omit<OpenApiOptions, 'more'>): Record<string, unknown> {
  return openApiDocument(registry, { ...options, more: { paths: gatewayPaths(), schemas: GATEWAY_SCHEMAS } });
}

/** Request bodies of the gateway's own API, by component name. */
const GATEWAY_SCHEMAS = {
  'consent.record': recordConsentSchema,
  'consent.search': searchConsentsSchema,
  'consent.withdraw': withdrawConsentSchema,
  'relation.register': registerRelationSchema,
  'relation.end': endRelationSchema,
  'relation.search': searchRelationsSchema,
  'audit.search': auditSearchSchema,
  'audit.citizen-report': citizenReportSchema,
  'dead-letters.search': deadLetterSearchSchema,
  'empty-object': { type: 'object', description: 'An empty JSON object: the token binds the call, the body carries nothing.' },
} as const;

type Credentials = 'none' | 'certificate' | 'certificate and token';

interface Operation {
  readonly method: 'get' | 'post';
  readonly path: string;
  readonly operationId: string;
  readonly summary: string;
  readonly description: string;
  readonly tag: string;
  readonly credentials: Credentials;
  readonly roles?: readonly string[];
  readonly body?: keyof typeof GATEWAY_SCHEMAS;
  /** The success status, its description and its media type (default application/json). */
  readonly ok: readonly [status: number, description: string, mediaType?: string];
  readonly pathParameter?: string;
}

const OPERATIONS: readonly Operation[] = [
  {
    method: 'get',
    path: '/healthz',
    operationId: 'healthz',
    summary: 'Liveness',
    description: 'Answers while the process serves HTTP.',
    tag: 'operations',
    credentials: 'none',
    ok: [200, '{"status":"ok"}'],
  },
  {
    method: 'get',
    path: '/readyz',
    operationId: 'readyz',
    summary: 'Readiness',
    description:
      'Whether this instance is ready (the store accepts writes with durable commits, it holds its audit chain lease, its own and the CA certificate are valid) and, if not, why: {ready, reasons}. 503 when not ready. The detail is at GET /v1/admin/readiness.',
    tag: 'operations',
    credentials: 'none',
    ok: [200, '{ready: true, reasons: []} (503 with {ready: false, reasons: [...]} when not)'],
  },
  {
    method: 'get',
    path: '/metrics',
    operationId: 'metrics',
    summary: 'Prometheus metrics',
    description: 'Counters and histograms labelled only with registered ids and stable codes.',
    tag: 'operations',
    credentials: 'none',
    ok: [200, 'Prometheus text format', 'text/plain'],
  },
  {
    method: 'get',
    path: '/v1/contracts',
    operationId: 'contracts.list',
    summary: 'The contract catalogue',
    description: 'Every contract in force: provider, kind, fields and their data categories.',
    tag: 'catalogue',
    credentials: 'certificate',
    ok: [200, '{contracts: [...]}'],
  },
  {
    method: 'get',
    path: '/v1/contracts/{id}',
    operationId: 'contracts.get',
    summary: 'One contract',
    description: 'One catalogue entry; 404 CONTRACT_UNKNOWN for an id not in force.',
    tag: 'catalogue',
    credentials: 'certificate',
    pathParameter: 'id',
    ok: [200, 'The catalogue entry'],
  },
  {
    method: 'get',
    path: '/openapi.json',
    operationId: 'openapi',
    summary: 'This document',
    description: "The OpenAPI document of the contracts in force and of the gateway's own API.",
    tag: 'catalogue',
    credentials: 'certificate',
    ok: [200, 'OpenAPI 3.1'],
  },
  {
    method: 'post',
    path: '/v1/consents',
    operationId: 'consents.record',
    summary: "Record a citizen's consent",
    description:
      "Recorded on the citizen's behalf by a caseworker's system, on one of two kinds of evidence: an artefact signed by a consent service the municipality trusts (citizen-signed; verified, its CPR number checked against the body's, recorded once) or a caseworker's record of a paper or verbal consent (recorded-by-caseworker). The period starts no earlier than the day it was given less the back-dating grace and ends within its purposes' consentMaxDuration. Answered with the consent and its signed receipt. Audited.",
    tag: 'consents',
    credentials: 'certificate and token',
    roles: CONSENT_ROLES,
    body: 'consent.record',
    ok: [201, '{consent, auditId}'],
  },
  {
    method: 'post',
    path: '/v1/consents/search',
    operationId: 'consents.search',
    summary: "A citizen's consents",
    description:
      'The consents of the citizen, in force or not, that your administration recorded or receives under (the DPO sees all); others are not shown, nor that they exist. Audited.',
    tag: 'consents',
    credentials: 'certificate and token',
    roles: CONSENT_SEARCH_ROLES,
    body: 'consent.search',
    ok: [200, '{consents, auditId}'],
  },
  {
    method: 'post',
    path: '/v1/consents/{id}/withdraw',
    operationId: 'consents.withdraw',
    summary: 'Withdraw a consent',
    description:
      "By the administration that recorded it or one that receives under it, or the DPO; for anyone else the consent does not exist (404). The body names the citizen, so that a wrong id never withdraws another citizen's consent. From the next request on, on every instance, it permits nothing; a queued notification delivery that relied on it is checked again before it goes out. Audited.",
    tag: 'consents',
    credentials: 'certificate and token',
    roles: CONSENT_SEARCH_ROLES,
    body: 'consent.withdraw',
    pathParameter: 'id',
    ok: [200, '{consent, auditId}'],
  },
  {
    method: 'post',
    path: '/v1/relations',
    operationId: 'relations.register',
    summary: 'Register that your administration serves a citizen',
    description:
      "For the caller's own administration only, in a capacity the capacities registry opens to its administration and roles, under the administration's own case reference (unique within the administration, compared without regard to letter case). Registering the case reference again updates that relation; the same body again changes nothing (200, outcome unchanged, audited). 409 when the reference names another citizen, or the relation was ended or voided (RELATION_ENDED). Dates are bounded (RELATION_DATE_OUT_OF_RANGE). Audited.",
    tag: 'relations',
    credentials: 'certificate and token',
    roles: RELATION_ROLES,
    body: 'relation.register',
    ok: [201, '{relation, auditId, outcome} (200 for a change or no change)'],
  },
  {
    method: 'post',
    path: '/v1/relations/search',
    operationId: 'relations.search',
    summary: 'Relations by citizen and/or case reference',
    description: "A case system sees only its own administration's relations; the DPO sees all. Each relation with its history. Audited.",
    tag: 'relations',
    credentials: 'certificate and token',
    roles: RELATION_SEARCH_ROLES,
    body: 'relation.search',
    ok: [200, '{relations, auditId}'],
  },
  {
    method: 'post',
    path: '/v1/relations/{id}/end',
    operationId: 'relations.end',
    summary: 'End a relation',
    description:
      "The administration no longer serves the citizen after the date given, which may only shorten the period (at the latest the current end, at the earliest the day before the start). Reason recorded-in-error voids the relation: never in force. Only the administration's own relation: any other id is 404 RELATION_NOT_FOUND. From the next request on, at every instance, the relation is not in force after that date. Audited.",
    tag: 'relations',
    credentials: 'certificate and token',
    roles: RELATION_ROLES,
    body: 'relation.end',
    pathParameter: 'id',
    ok: [200, '{relation, auditId, outcome}'],
  },
  {
    method: 'post',
    path: '/v1/audit/search',
    operationId: 'audit.search',
    summary: 'Search the audit trail',
    description:
      'Records matching every filter, newest first, each with its verification; a citizen is named by CPR in the body and searched by pseudonym. Audited.',
    tag: 'audit',
    credentials: 'certificate and token',
    roles: AUDIT_ROLES,
    body: 'audit.search',
    ok: [200, '{results: [{record, verification}], next?, auditId}'],
  },
  {
    method: 'get',
    path: '/v1/audit/verify',
    operationId: 'audit.verify',
    summary: 'Verify the audit trail',
    description: 'Every chain against its hashes and signed checkpoints. Audited.',
    tag: 'audit',
    credentials: 'certificate and token',
    roles: AUDIT_ROLES,
    ok: [200, '{ok, verifiedAt, chains, auditId}'],
  },
  {
    method: 'post',
    path: '/v1/audit/citizen-report',
    operationId: 'audit.citizen-report',
    summary: 'Who has seen my data?',
    description:
      "The citizen's access report (GDPR Art. 15) as JSON, CSV or HTML, in Danish or English. Audited; the audit id is in the x-audit-id header.",
    tag: 'audit',
    credentials: 'certificate and token',
    roles: AUDIT_ROLES,
    body: 'audit.citizen-report',
    ok: [200, 'The report (application/json, text/csv or text/html, as asked)'],
  },
  {
    method: 'post',
    path: '/v1/notifications/dead-letters/search',
    operationId: 'dead-letters.search',
    summary: 'Dead letters and deliveries',
    description: 'Notification deliveries by state, contract, recipient or audit id, without their payloads.',
    tag: 'notifications',
    credentials: 'certificate and token',
    roles: DEAD_LETTER_ROLES,
    body: 'dead-letters.search',
    ok: [200, '{deliveries, next?}'],
  },
  {
    method: 'post',
    path: '/v1/notifications/dead-letters/{id}/redrive',
    operationId: 'dead-letters.redrive',
    summary: 'Deliver a dead letter again',
    description: 'Puts a dead delivery back in the queue with its attempts reset. Audited.',
    tag: 'notifications',
    credentials: 'certificate and token',
    roles: DEAD_LETTER_ROLES,
    body: 'empty-object',
    pathParameter: 'id',
    ok: [200, '{auditId, delivery}'],
  },
  {
    method: 'post',
    path: '/v1/admin/reload',
    operationId: 'admin.reload',
    summary: 'Reload contracts, policies and clients',
    description: 'Loads the rules on disk; 422 RULES_INVALID keeps the rules in force. Audited either way (as SIGHUP does).',
    tag: 'operations',
    credentials: 'certificate and token',
    roles: ADMIN_ROLES,
    body: 'empty-object',
    ok: [200, '{status: "reloaded", auditId, policySet, previousPolicySet, contracts, policies, warnings}'],
  },
  {
    method: 'get',
    path: '/v1/admin/readiness',
    operationId: 'admin.readiness',
    summary: 'Readiness in detail',
    description:
      'What /readyz stands on: the store and the commit durability in force, whether this instance holds its audit chain lease, the rules and the policy set digest, certificates with the days left, the revocation list in force and whether it is current. 503 with the same body when not ready. The client certificate alone, no request token: it answers when the store cannot write.',
    tag: 'operations',
    credentials: 'certificate',
    roles: ADMIN_ROLES,
    ok: [200, '{ready, reasons, store, chain, rules, certificates, revocation} (503 with the same body when not ready)'],
  },
];

const SECURITY: Readonly<Record<Credentials, unknown[]>> = {
  none: [{}],
  certificate: [{ mutualTLS: [] }],
  'certificate and token': [{ mutualTLS: [], requestToken: [] }],
};

/** The paths of OPERATIONS, in the document's form. */
function gatewayPaths(): Record<string, Record<string, unknown>> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const op of OPERATIONS) {
    const [status, description, mediaType = 'application/json'] = op.ok;
    const roles = op.roles !== undefined ? `\n\nRoles: ${op.roles.join(', ')}.` : '';
    (paths[op.path] ??= {})[op.method] = {
      operationId: op.operationId,
      summary: op.summary,
      description: `${op.description}${roles}`,
      tags: [op.tag],
      security: SECURITY[op.credentials],
      ...(op.pathParameter !== undefined
        ? { parameters: [{ name: op.pathParameter, in: 'path', required: true, schema: { type: 'string', maxLength: 128 } }] }
        : {}),
      ...(op.body !== undefined ? { requestBody: { required: true, content: { 'application/json': { schema: ref(op.body) } } } } : {}),
      responses: {
        [String(status)]: {
          description,
          content: { [mediaType]: { schema: mediaType === 'application/json' ? { type: 'object' } : { type: 'string' } } },
        },
        ...problemResponses(),
      },
    };
  }
  return paths;
}

/** Method and path of every operation the document describes besides the contracts' (for tests). */
export const GATEWAY_OPERATIONS: readonly (readonly [method: string, path: string])[] = OPERATIONS.map(
  (o) => [o.method.toUpperCase(), o.path] as const,
);
