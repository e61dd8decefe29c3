/**
 * Bulkheads between provider systems: at most `limit` requests wait for one provider at once,
 * whoever sent them. A slot is taken just before the call to the provider (after the policy
 * decision) and given back when it ends, so a provider that hangs holds only the slots of the
 * requests waiting for it (each until the upstream timeout ends the wait); requests for other
 * providers, and requests that never reach a provider (refused, denied), are not held up by it.
 * Keys are the contracts' provider systems, so the map is bounded by the client registry.
 *
 * @example
 * const slots = new ProviderSlots(20);
 * const release = slots.take('bif-jobcentre-system');
 * if (release === undefined) refuse('PROVIDER_BUSY');
 * else try { await postJson(...) } finally { release(); }
 */
export class ProviderSlots {
  readonly limit: number;
  readonly #inFlight = new Map<string, number>();

  constructor(limit: number) {
    if (!Number.isInteger(limit) || limit < 1) throw new TypeError('ProviderSlots: limit must be a positive integer');
    this.limit = limit;
  }

  /** A slot of `provider` and the function that gives it back (once, however often it is called), or undefined when all are taken. */
  take(provider: string): (() => void) | undefined {
    const taken = this.#inFlight.get(provider) ?? 0;
    if (taken >= this.limit) return undefined;
    this.#inFlight.set(provider, taken + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.#inFlight.get(provider) ?? 1) - 1;
      if (left === 0) this.#inFlight.delete(provider);
      else this.#inFlight.set(provider, left);
    };
  }

  /** Requests waiting for `provider` now. */
  inFlight(provider: string): number {
    return this.#inFlight.get(provider) ?? 0;
  }
}
