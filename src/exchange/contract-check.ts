import { GatewayError } from '../errors.js';
import { parseStrictJson } from '../lib/strict-json.js';
import type { Contract, ContractRegistry } from '../contracts/types.js';

export interface CheckedRequest {
  readonly contract: Contract;
  readonly body: Record<string, unknown>;
  readonly cpr: string;
  /** For queries: the response fields the caller asks for. */
  readonly requestedFields: readonly string[];
}

const MAX_SCHEMA_ERRORS = 10;
const SAFE_NAME = /^[A-Za-z_][A-Za-z0-9_-]{0,63}$/;

/** Names an unknown property only when it looks like a field name (a key could hold a CPR number). */
function unknownProperty(name: unknown): string {
  return typeof name === 'string' && SAFE_NAME.test(name) ? `unknown property "${name}"` : 'unknown property';
}

/**
 * Step 3, contract: the contract named in the path exists and is of this kind, and the body is
 * strict JSON that validates against its request schema. Error messages name schema paths,
 * never values.
 */
export function checkContract(contracts: ContractRegistry, contractId: string, kind: Contract['kind'], rawBody: Uint8Array): CheckedRequest {
  const contract = contracts.get(contractId);
  if (!contract) throw new GatewayError('CONTRACT_UNKNOWN');
  if (contract.kind !== kind) throw new GatewayError('CONTRACT_KIND_MISMATCH');
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(rawBody);
  } catch {
    throw new GatewayError('BODY_MALFORMED');
  }
  const body = parseStrictJson(text);
  if (!body) throw new GatewayError('BODY_MALFORMED');
  if (!contract.validateRequest(body)) {
    const errors = (contract.validateRequest.errors ?? []).slice(0, MAX_SCHEMA_ERRORS).map((e) => ({
      path: e.instancePath || '/',
      message: e.keyword === 'additionalProperties' ? unknownProperty((e.params as { additionalProperty?: unknown }).additionalProperty) : (e.message ?? 'invalid'),
    }));
    throw new GatewayError('REQUEST_INVALID', { errors });
  }
  const fields = Array.isArray(body.fields) ? (body.fields as string[]) : contract.fieldNames;
  return { contract, body, cpr: body.cpr as string, requestedFields: fields };
}
