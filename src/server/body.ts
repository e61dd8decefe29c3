import express, { type NextFunction, type Request, type Response, type RequestHandler } from 'express';
import { GatewayError } from '../errors.js';
import type { Gateway } from '../gateway.js';

/** Refuses a POST whose content type is not JSON (415), before reading its body. */
export function requireJson(req: Request, _res: Response, next: NextFunction): void {
  if (req.method === 'POST' && !req.is('application/json')) return next(new GatewayError('UNSUPPORTED_MEDIA_TYPE'));
  next();
}

/** Reads the exact body bytes (tokens are bound to them), capped at the configured size. */
export function rawBody(gateway: Gateway): RequestHandler {
  // No Content-Encoding: tokens are bound to the bytes sent, and a compressed body could unpack to far more than the limit.
  return express.raw({ type: () => true, limit: gateway.config.limits.bodyBytes, inflate: false });
}

export function bodyBytes(req: Request): Uint8Array {
  return Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
}
