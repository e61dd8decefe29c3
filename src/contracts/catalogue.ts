import { ERRORS, type ErrorCode } from '../errors.js';
import {
  CHILD_CATEGORY,
  SPECIAL_CATEGORIES,
  type Contract,
  type ContractRegistry,
  type ContractSubject,
  type DataCategory,
} from './types.js';

/** One contract as the catalogue shows it (GET /v1/contracts, GET /v1/contracts/{id}). JSON-safe. */
export interface CatalogueEntry {
  readonly id: string;
  readonly version: number;
  readonly title: string;
  readonly description: string;
  readonly kind: Contract['kind'];
  readonly provider: { readonly administration: string; readonly system: string };
  /** Whom the data is about: the citizens' age range (e.g. adults: min 18); absent when the contract does not say. */
  readonly subject?: ContractSubject;
  /** Where callers send it: /v1/queries/{id} or /v1/notifications/{id}. */
  readonly path: string;
  readonly request: object;
  /** The response schema (queries) or the event schema (notifications). */
  readonly response: object;
  readonly fields: readonly {
    readonly name: string;
    readonly category: DataCategory;
    /** A special category (GDPR Art. 9): released only under a policy with an Art. 9 basis. */
    readonly special: boolean;
    readonly label: { readonly da: string; readonly en: string };
  }[];
}

/** The public path of a contract. */
export function contractPath(contract: Pick<Contract, 'id' | 'kind'>): string {
  return `/v1/${contract.kind === 'query' ? 'queries' : 'notifications'}/${contract.id}`;
}

/**
 * A contract's catalogue entry: everything a developer needs to call it, nothing compiled.
 *
 * @example
 *   res.json({ contracts: registry.list().map(catalogueEntry) });
 */
export function catalogueEntry(contract: Contract): CatalogueEntry {
  return {
    id: contract.id,
    version: contract.version,
    // The catalogue is for developers: English (the DPO's pages and the citizen's report use Danish).
    title: contract.title.en,
    description: contract.description.en,
    kind: contract.kind,
    provider: { administration: contract.provider.administration, system: contract.provider.system },
    ...(contract.subject !== undefined ? { subject: structuredClone(contract.subject) } : {}),
    path: contractPath(contract),
    request: structuredClone(contract.requestSchema),
    response: structuredClone(contract.responseSchema),
    fields: contract.fieldNames.map((name) => {
      const info = contract.fields[name]!;
      return {
        name,
        category: info.category,
        special: SPECIAL_CATEGORIES.includes(info.category),
        label: { da: info.label.da, en: info.label.en },
      };
    }),
  };
}

export interface OpenApiOptions {
  /** The gateway's base URL, e.g. https://localhost:8443. */
  readonly serverUrl: string;
  /** The API version shown in info.version; defaults to "1". */
  readonly version?: string;
  /** Paths and component schemas besides the contracts' (the gateway's own API: src/server/openapi.ts). */
  readonly more?: { readonly paths: Readonly<Record<string, unknown>>; readonly schemas: Readonly<Record<string, unknown>> };
}

/** The statuses each kind of exchange can refuse with, and the codes behind them (errors.ts). */
const REFUSALS: readonly number[] = [400, 401, 403, 404, 409, 413, 415, 429, 500, 502, 503, 504];

const disclosureSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['auditId', 'policy', 'purpose', 'legalBasis', 'released', 'withheld'],
  properties: {
    auditId: { type: 'string', description: 'The audit record of this release; quote it to the DPO.' },
    policy: {
      type: 'object',
      additionalProperties: false,
      required: ['id', 'version'],
      properties: { id: { type: 'string' }, version: { type: 'integer', minimum: 1 } },
    },
    purpose: { type: 'string', description: 'The purpose from the purpose registry, as named in the request token.' },
    legalBasis: {
      type: 'string',
      description: 'The legal basis of the release, as text (GDPR article; Art. 9 basis; national provision).',
    },
    released: {
      type: 'array',
      items: { type: 'string' },
      description: 'Fields released: in the contract, permitted by the policy and asked for.',
    },
    withheld: {
      type: 'array',
      items: { type: 'string' },
      description: 'Fields asked for but not released (not permitted, or not held by the provider).',
    },
  },
};

const problemSchema = {
  type: 'object',
  required: ['type', 'title', 'status', 'detail', 'code'],
  properties: {
    type: { type: 'string', format: 'uri-reference' },
    title: { type: 'string' },
    status: { type: 'integer' },
    detail: { type: 'string' },
    code: { type: 'string', enum: Object.keys(ERRORS) },
    instance: { type: 'string' },
    requestId: { type: 'string' },
    auditId: { type: 'string', description: 'Set when the refusal was written to the audit trail.' },
    reasons: {
      type: 'array',
      items: { type: 'string' },
      description: 'Machine-readable reasons, e.g. policy deny reasons (NO_POLICY, CONSENT_MISSING, ...).',
    },
    errors: {
      type: 'array',
      items: { type: 'object', required: ['path', 'message'], properties: { path: { type: 'string' }, message: { type: 'string' } } },
    },
  },
};

/** The optional header of a notification that lets its sender send it again safely. */
const IDEMPOTENCY_KEY_HEADER = {
  name: 'Idempotency-Key',
  in: 'header',
  required: false,
  description:
    "The sender's own id for this event. Sent again with the same key and body (say, after a lost answer), the notification is answered " +
    'as the first time and nothing is queued twice; the same key with another body is refused (409 IDEMPOTENCY_KEY_REUSED).',
  schema: { type: 'string', pattern: '^[A-Za-z0-9._:-]{1,100}$' },
};

/** Component names may hold letters, digits, ".", "-" and "_": contract ids already do. */
export const ref = (name: string): { $ref: string } => ({ $ref: `#/components/schemas/${name}` });

/** The problem+json responses, one per refusal status, each naming its codes. */
export function problemResponses(): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const status of REFUSALS) {
    const codes = (Object.keys(ERRORS) as ErrorCode[]).filter((c) => ERRORS[c].status === status);
    out[String(status)] = {
      description: codes.map((c) => `${c}: ${ERRORS[c].title}`).join('; '),
      content: { 'application/problem+json': { schema: ref('Problem') } },
    };
  }
  return out;
}

/** Whom the contract is about, as a sentence for the OpenAPI description (empty when it does not say). */
function subjectText(subject: ContractSubject | undefined): string {
  if (subject === undefined) return '';
  const { min, max } = subject.age;
  const range =
    min !== undefined && max !== undefined ? `aged ${min} to ${max}` : min !== undefined ? `aged ${min} or over` : `aged ${max!} or under`;
  return ` About citizens ${range} only.`;
}

function fieldList(contract: Contract): string {
  return contract.fieldNames
    .map((n) => {
      const f = contract.fields[n]!;
      const note = SPECIAL_CATEGORIES.includes(f.category)
        ? ', special category: GDPR Art. 9'
        : f.category === CHILD_CATEGORY
          ? ", a child's data: specially protected"
          : '';
      return `- \`${n}\` (${f.category}${note}): ${f.label.en}`;
    })
    .join('\n');
}

/**
 * The gateway's OpenAPI 3.1 document: one path per contract, the disclosure envelope, the
 * problem+json errors and the two credentials every call needs (mutual TLS and a signed token).
 *
 * @example
 *   res.json(openApiDocument(registry, { serverUrl: 'https://localhost:8443' }));
 */
export function openApiDocument(registry: ContractRegistry, options: OpenApiOptions): Record<string, unknown> {
  const schemas: Record<string, unknown> = { Problem: problemSchema, Disclosure: disclosureSchema };
  const paths: Record<string, unknown> = {};
  for (const contract of registry.list()) {
    const requestName = `${contract.id}.request`;
    const payloadName = `${contract.id}.${contract.kind === 'query' ? 'response' : 'event'}`;
    schemas[requestName] = structuredClone(contract.requestSchema);
    schemas[payloadName] = structuredClone(contract.responseSchema);
    const ok =
      contract.kind === 'query'
        ? {
            '200': {
              description: 'Released: only fields in the contract, permitted by a policy and asked for.',
              content: {
                'application/json': {
                  schema: {
                    type: 'object',
                    additionalProperties: false,
                    required: ['data', 'disclosure'],
                    properties: { data: ref(payloadName), disclosure: ref('Disclosure') },
                  },
                },
              },
            },
          }
        : {
            '202': {
              description: 'Accepted: the event is audited and queued for every recipient a policy permits.',
              content: {
                'application/json': { schema: { type: 'object', required: ['auditId'], properties: { auditId: { type: 'string' } } } },
              },
            },
          };
    paths[contractPath(contract)] = {
      post: {
        operationId: contract.id,
        summary: contract.title.en,
        description: `${contract.description.en}\n\nProvider: ${contract.provider.administration} (${contract.provider.system}).${subjectText(contract.subject)}\n\nFields:\n${fieldList(contract)}\n\nThe CPR number travels only in the body.`,
        tags: [contract.provider.administration],
        security: [{ mutualTLS: [], requestToken: [] }],
        ...(contract.kind === 'notification' ? { parameters: [IDEMPOTENCY_KEY_HEADER] } : {}),
        requestBody: { required: true, content: { 'application/json': { schema: ref(requestName) } } },
        responses: { ...ok, ...problemResponses() },
      },
    };
  }
  return {
    openapi: '3.1.0',
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    info: {
      title: 'Snitflade: data sharing between municipal administrations',
      version: options.version ?? '1',
      description:
        'Every call needs a client certificate of a registered system (mutual TLS) and a bearer JWT signed with that ' +
        "system's registered key, naming the caseworker, case and purpose and bound to the request body (body_sha256). " +
        'Default deny: data flows only under a policy. Every decision and release is audited. Personal identifiers ' +
        'travel only in request bodies, and no path takes a query string (400 QUERY_STRING_NOT_ALLOWED). The string format "cpr" is a Danish CPR number: ten digits, the first six a date.',
    },
    servers: [{ url: options.serverUrl }],
    paths: { ...paths, ...options.more?.paths },
    components: {
      schemas: { ...schemas, ...options.more?.schemas },
      securitySchemes: {
        mutualTLS: { type: 'mutualTLS', description: 'The client certificate issued to the calling system by the gateway operator.' },
        requestToken: {
          type: 'http',
          scheme: 'bearer',
          bearerFormat: 'JWT',
          description:
            'ES256 or EdDSA, at most 5 minutes, single use (jti), aud = the gateway, with sub (caseworker), case, purpose, htm, htu and body_sha256.',
        },
      },
    },
  };
}
