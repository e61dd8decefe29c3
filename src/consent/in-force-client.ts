import https from 'node:https';
import type { IncomingMessage } from 'node:http';
import { CodedError } from '../errors.js';
import { parseStrictJson } from '../lib/strict-json.js';
import type { ConsentService } from './types.js';

/**
 * The in-force look-up at a consent service (docs/consent-and-notifications.md, "A consent
 * service"):
 *
 *   POST <url>/v1/consents/in-force   {"cpr": "..."}   over mutual TLS, the gateway's certificate
 *   200 application/json              {"artefacts": ["<compact JWS>", ...]}
 *
 * Anything else is a failure the caller turns into a denial (fail closed). The answer is read
 * with caps and never logged; errors say what was wrong with it, never what it held, and never
 * the CPR number asked about.
 */

/** The largest answer read, in bytes. */
export const MAX_IN_FORCE_BYTES = 64 * 1024;
/** The most artefacts one answer may hold. */
export const MAX_IN_FORCE_ARTEFACTS = 100;
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;
const JSON_TYPE = /^application\/json\s*(;|$)/i;

export type ConsentServiceErrorCode =
  /** The connection failed or broke before the whole answer arrived. */
  | 'ERR_CONSENT_SERVICE_UNREACHABLE'
  /** No whole answer before the caller's signal aborted or `timeoutMs` ran out. */
  | 'ERR_CONSENT_SERVICE_TIMEOUT'
  /** An HTTP status other than 200. */
  | 'ERR_CONSENT_SERVICE_STATUS'
  /** 200, but not JSON, too large, or not the protocol's shape. */
  | 'ERR_CONSENT_SERVICE_ANSWER_INVALID';

/**
 * A consent service did not give a usable answer. Its message names the service and what went
 * wrong for an operator to act on; it never holds the CPR number or anything the service sent.
 */
export class ConsentServiceError extends CodedError {
  readonly code: ConsentServiceErrorCode;
  /** The issuer id of the service. */
  readonly issuer: string;
  /** The HTTP status it answered, when it answered. */
  readonly status: number | undefined;

  constructor(code: ConsentServiceErrorCode, issuer: string, message: string, options?: { cause?: unknown; status?: number }) {
    super(message, options);
    this.code = code;
    this.issuer = issuer;
    this.status = options?.status;
  }
}

export interface InForceClientOptions {
  /** The issuer id (`iss`) of the artefacts the service returns. */
  readonly issuer: string;
  /** The service's base URL (https); the look-up is POST <url>/v1/consents/in-force. */
  readonly url: string;
  /** Mutual TLS: the gateway's client certificate and the CA that signs the service's certificate. */
  readonly agent: https.Agent;
  /** The longest a look-up may take even if the caller's signal never aborts (consent.timeoutMs). */
  readonly timeoutMs: number;
}

/** A consent service client that can be closed (its connections), as the gateway does on shutdown. */
export interface InForceClient extends ConsentService {
  close(): void;
}

/**
 * A client for one consent service's in-force look-up.
 *
 * @example
 *   const client = inForceClient({ issuer: 'demo-samtykke', url, agent, timeoutMs: 2000 });
 *   const artefacts = await client.inForce(cpr, AbortSignal.timeout(2000)); // unverified: verify each
 */
export function inForceClient(options: InForceClientOptions): InForceClient {
  const endpoint = new URL(`${options.url.replace(/\/+$/, '')}/v1/consents/in-force`);
  const where = `POST ${endpoint.origin}${endpoint.pathname}`;
  const fail = (code: ConsentServiceErrorCode, what: string, extra?: { cause?: unknown; status?: number }): ConsentServiceError =>
    new ConsentServiceError(
      code,
      options.issuer,
      `consent service "${options.issuer}" (${where}) ${what}; consent checks that rely on it deny until it answers`,
      extra,
    );

  return {
    issuer: options.issuer,
    inForce(cpr, signal) {
      const deadline = AbortSignal.any([signal, AbortSignal.timeout(options.timeoutMs)]);
      if (deadline.aborted)
        return Promise.reject(fail('ERR_CONSENT_SERVICE_TIMEOUT', 'was not asked: the look-up was aborted before it began'));
      const body = JSON.stringify({ cpr });
      return new Promise<readonly string[]>((resolve, reject) => {
        let settled = false;
        const settle = (outcome: { artefacts: readonly string[] } | ConsentServiceError): void => {
          if (settled) return;
          settled = true;
          deadline.removeEventListener('abort', onAbort);
          if (outcome instanceof ConsentServiceError) {
            req.destroy();
            reject(outcome);
          } else resolve(outcome.artefacts);
        };
        const onAbort = (): void =>
          settle(
            fail(
              'ERR_CONSENT_SERVICE_TIMEOUT',
              `did not answer in time (the caller's deadline, or consent.timeoutMs ${options.timeoutMs} ms); check that it is up and reachable`,
            ),
          );
        const req = https.request(endpoint, {
          method: 'POST',
          agent: options.agent,
          headers: { 'content-type': 'application/json', accept: 'application/json', 'content-length': Buffer.byteLength(body) },
        });
        deadline.addEventListener('abort', onAbort, { once: true });
        req.on('error', (err: NodeJS.ErrnoException) =>
          settle(fail('ERR_CONSENT_SERVICE_UNREACHABLE', `could not be reached (${err.code ?? 'connection failed'})`, { cause: err })),
        );
        req.on('response', (res) => readAnswer(res, settle, fail));
        req.end(body);
      });
    },
    close() {
      options.agent.destroy();
    },
  };
}

function readAnswer(
  res: IncomingMessage,
  settle: (outcome: { artefacts: readonly string[] } | ConsentServiceError) => void,
  fail: (code: ConsentServiceErrorCode, what: string, extra?: { status?: number }) => ConsentServiceError,
): void {
  const status = res.statusCode ?? 0;
  if (status !== 200) {
    settle(fail('ERR_CONSENT_SERVICE_STATUS', `answered HTTP ${status}, not 200`, { status }));
    return;
  }
  if (!JSON_TYPE.test(String(res.headers['content-type'] ?? ''))) {
    settle(fail('ERR_CONSENT_SERVICE_ANSWER_INVALID', 'answered with a content type other than application/json', { status }));
    return;
  }
  const declared = Number(res.headers['content-length'] ?? 0);
  const tooLarge = (): ConsentServiceError =>
    fail('ERR_CONSENT_SERVICE_ANSWER_INVALID', `answered more than ${MAX_IN_FORCE_BYTES} bytes`, { status });
  if (declared > MAX_IN_FORCE_BYTES) {
    settle(tooLarge());
    return;
  }
  const chunks: Buffer[] = [];
  let size = 0;
  res.on('data', (chunk: Buffer) => {
    size += chunk.length;
    if (size > MAX_IN_FORCE_BYTES) settle(tooLarge());
    else chunks.push(chunk);
  });
  const broken = (): void =>
    settle(fail('ERR_CONSENT_SERVICE_UNREACHABLE', 'broke the connection before its answer was complete', { status }));
  res.on('aborted', broken);
  res.on('error', broken);
  res.on('end', () => {
    if (!res.complete) return broken();
    const artefacts = parseArtefacts(Buffer.concat(chunks));
    if (artefacts === undefined) {
      return settle(
        fail(
          'ERR_CONSENT_SERVICE_ANSWER_INVALID',
          `answered something other than {"artefacts": [compact JWS, ...]} with at most ${MAX_IN_FORCE_ARTEFACTS} artefacts`,
          { status },
        ),
      );
    }
    settle({ artefacts });
  });
}

/** The artefacts of a well-formed answer, or undefined. */
function parseArtefacts(bytes: Buffer): readonly string[] | undefined {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return undefined;
  }
  const answer = parseStrictJson(text, 4);
  if (answer === undefined || Object.keys(answer).length !== 1) return undefined;
  const { artefacts } = answer;
  if (!Array.isArray(artefacts) || artefacts.length > MAX_IN_FORCE_ARTEFACTS) return undefined;
  if (!artefacts.every((a): a is string => typeof a === 'string' && COMPACT_JWS.test(a))) return undefined;
  return Object.freeze([...artefacts]);
}
