import { parseStrictJson } from '../lib/strict-json.js';

/**
 * A provider's 404 is "no case for this citizen" unless its problem+json body says the provider
 * does not offer the contract at all (the provider protocol's CONTRACT_UNKNOWN, see
 * src/simulators/server.ts). The body is untrusted: it is read only when small, only as strict
 * JSON, and only its `code` is compared, exactly; nothing of it is kept, logged or passed on.
 */

/** Larger problem bodies are not read: a provider's problem+json is a few hundred bytes. */
export const MAX_PROBLEM_BYTES = 4096;

const PROBLEM_JSON = /^application\/problem\+json\s*(;|$)/i;

/**
 * Whether a provider's answer is its problem+json saying it does not offer the contract asked for.
 *
 * @example
 *   offersNoSuchContract('application/problem+json', Buffer.from('{"status":404,"code":"CONTRACT_UNKNOWN"}')); // true
 */
export function offersNoSuchContract(contentType: string, body: Buffer): boolean {
  if (!PROBLEM_JSON.test(contentType) || body.length > MAX_PROBLEM_BYTES) return false;
  const problem = parseStrictJson(body.toString('utf8'), 4);
  return problem !== undefined && problem.code === 'CONTRACT_UNKNOWN';
}
