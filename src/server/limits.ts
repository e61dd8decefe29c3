import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { GatewayError } from '../errors.js';
import { locals } from './context.js';

export interface ClientLimits {
  /** Sustained requests per second per client system. */
  readonly ratePerSecond: number;
  /** Requests a client may send at once above the sustained rate (bucket size). */
  readonly burst: number;
  /** Requests of one client system in progress at once. */
  readonly concurrency: number;
}

interface Bucket {
  tokens: number;
  /** performance.now() of the last refill. */
  at: number;
  inFlight: number;
}

export type Admission =
  | { readonly ok: true; readonly release: () => void }
  | { readonly ok: false; readonly reason: 'rate' | 'concurrency'; readonly retryAfterSeconds: number };

/**
 * Per-client admission control for one gateway instance: a token bucket (rate and burst) and a
 * cap on requests in progress. Keys are registered client ids, so the map is bounded by the
 * client registry. With several instances each enforces its own limits.
 *
 * @example
 * const limiter = new ClientLimiter({ ratePerSecond: 50, burst: 100, concurrency: 20 });
 * const a = limiter.admit('sof-case-system');
 * if (a.ok) try { ... } finally { a.release(); }
 */
export class ClientLimiter {
  readonly #limits: ClientLimits;
  readonly #buckets = new Map<string, Bucket>();
  readonly #now: () => number;

  constructor(limits: ClientLimits, now: () => number = () => performance.now()) {
    if (
      !(limits.ratePerSecond > 0) ||
      !Number.isInteger(limits.burst) ||
      limits.burst < 1 ||
      !Number.isInteger(limits.concurrency) ||
      limits.concurrency < 1
    ) {
      throw new TypeError('ClientLimiter: ratePerSecond must be > 0, burst and concurrency positive integers');
    }
    this.#limits = limits;
    this.#now = now;
  }

  /** Admits one request of `client`, or says why not and when to try again. */
  admit(client: string): Admission {
    const now = this.#now();
    let b = this.#buckets.get(client);
    if (!b) {
      b = { tokens: this.#limits.burst, at: now, inFlight: 0 };
      this.#buckets.set(client, b);
    } else {
      b.tokens = Math.min(this.#limits.burst, b.tokens + ((now - b.at) / 1000) * this.#limits.ratePerSecond);
      b.at = now;
    }
    if (b.inFlight >= this.#limits.concurrency) return { ok: false, reason: 'concurrency', retryAfterSeconds: 1 };
    if (b.tokens < 1) {
      return { ok: false, reason: 'rate', retryAfterSeconds: Math.max(1, Math.ceil((1 - b.tokens) / this.#limits.ratePerSecond)) };
    }
    b.tokens -= 1;
    b.inFlight += 1;
    const bucket = b;
    let released = false;
    return {
      ok: true,
      release: () => {
        if (released) return;
        released = true;
        bucket.inFlight -= 1;
      },
    };
  }

  /** Requests of `client` in progress now. */
  inFlight(client: string): number {
    return this.#buckets.get(client)?.inFlight ?? 0;
  }
}

/**
 * Express middleware, mounted right after the client is identified: refuses a request over its
 * client's rate or concurrency with 429 RATE_LIMITED and Retry-After (the error handler audits
 * it); an admitted request holds its concurrency slot until its response is finished or aborted.
 */
export function clientLimits(limiter: ClientLimiter): RequestHandler {
  return (_req: Request, res: Response, next: NextFunction): void => {
    const client = locals(res).client;
    if (!client) return next();
    const admission = limiter.admit(client.id);
    if (!admission.ok)
      return next(
        new GatewayError('RATE_LIMITED', {
          reasons: [admission.reason === 'rate' ? 'RATE' : 'CONCURRENCY'],
          retryAfterSeconds: admission.retryAfterSeconds,
        }),
      );
    res.once('close', admission.release);
    next();
  };
}
