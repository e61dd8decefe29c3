import { callerSchemaErrors } from '../contracts/ajv.js';
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

/**
 * Step 3, contract: the contract named in the path exists and is of this kind, and the body is
 * strict JSON that validates against its request schema. Error messages name schema paths,
 * never values.
 */
export function checkContract(
  contracts: ContractRegistry,
  contractId: string,
  kind: Contract['kind'],
  rawBody: Uint8Array,
): CheckedRequest {
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
    throw new GatewayError('REQUEST_INVALID', { errors: callerSchemaErrors(contract.validateRequest.errors) });
  }
  const fields = Array.isArray(body.fields) ? (body.fields as string[]) : contract.fieldNames;
  return { contract, body, cpr: body.cpr as string, requestedFields: fields };
}
