import { callerSchemaErrors } from '../contracts/ajv.js';
import { GatewayError } from '../errors.js';
import { parseCpr } from '../lib/cpr.js';
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

/**
 * The citizen a refused request's body names, for its refusal record only: the top-level `cpr`
 * string when it is one well-formed CPR number (any written form parseCpr knows, e.g.
 * "010190-9901"), whatever else is wrong with the body (schema, token, replay); otherwise
 * undefined. The body must still be unambiguous JSON (no duplicate keys: `{"cpr":A,"cpr":B}`
 * names no one). Never logged, echoed or thrown: the caller turns it into a pseudonym at once.
 *
 * Anyone whose request reaches the gateway's checks can name any citizen in a bogus body and so
 * plant refusal records under that citizen's pseudonym. That is accepted: the record says it was
 * refused, why, and which identified calling system (and caseworker, once the token verified)
 * sent it, which is what the citizen and the DPO should see; leaving such refusals unattributed
 * would hide them from a search for the citizen instead.
 */
export function cprNamedIn(rawBody: Uint8Array): string | undefined {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(rawBody);
  } catch {
    return undefined;
  }
  const cpr = parseStrictJson(text)?.cpr;
  return typeof cpr === 'string' ? parseCpr(cpr) : undefined;
}
