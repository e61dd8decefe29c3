import type { NextFunction, Request, Response } from 'express';
import { GatewayError } from '../errors.js';

/**
 * The only paths that read a query string: the DPO's review pages (`?lang=`, `?after=`, `?from=`
 * …, read by src/dpo/request.ts), matched as express mounts them (any case, "/dpo" or "/dpo/…").
 */
const READS_QUERY_STRING = /^\/dpo(?:\/|$)/i;

/**
 * Refuses a request target that carries more than a path, before anything else is done with
 * the request (no client identification, token check, body read, audit record or provider call):
 *
 * - a query string, even a bare "?", on every path but the DPO pages': nothing else reads one,
 *   and the request token's htu binds the path alone, so whatever a caller put there (a CPR
 *   number, say) would travel unnoticed. 400 QUERY_STRING_NOT_ALLOWED.
 * - a fragment ("#"): not valid in an HTTP request target (RFC 9112 3.2), and express would
 *   drop it silently while routing. 400 HTTP_MALFORMED.
 *
 * The refusal names neither, and no log line, metric label or audit record holds the target:
 * the request log names a fixed route and the code.
 */
export function refuseQueryString(req: Request, _res: Response, next: NextFunction): void {
  const target = req.originalUrl;
  if (target.includes('#')) return next(new GatewayError('HTTP_MALFORMED'));
  if (target.includes('?') && !READS_QUERY_STRING.test(req.path)) return next(new GatewayError('QUERY_STRING_NOT_ALLOWED'));
  next();
}
