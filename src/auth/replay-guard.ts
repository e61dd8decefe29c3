/**
 * The in-process front of the replay cache, for tokens whose durable claim rides on the
 * request's first audit commit (AuditTrail.append with a claim) instead of a commit of its own.
 *
 * `reserve` answers at once whether this process has seen the key; the durable replay cache in
 * the store stays the authority. A key this guard does not hold (the process restarted, another
 * instance saw the token, or the guard forgot it to stay within `maxKeys`) is still refused when
 * the request's decision record is committed together with the claim (ReplayedClaimError).
 *
 * @example
 * const guard = new ReplayGuard();
 * if (!guard.reserve(key, expiresAtMs)) throw new GatewayError('TOKEN_REPLAYED');
 */
export class ReplayGuard {
  readonly #keys = new Map<string, number>();
  readonly #maxKeys: number;
  #sinceSweep = 0;

  /** `maxKeys`: most keys held; the oldest are forgotten first. Default 100,000. */
  constructor(options: { readonly maxKeys?: number } = {}) {
    const maxKeys = options.maxKeys ?? 100_000;
    if (!Number.isInteger(maxKeys) || maxKeys < 1) throw new TypeError('ReplayGuard: maxKeys must be a positive integer');
    this.#maxKeys = maxKeys;
  }

  /** Reserves the key until `expiresAt` (Unix ms); false if this process already holds it. */
  reserve(key: string, expiresAt: number, now: number = Date.now()): boolean {
    const held = this.#keys.get(key);
    if (held !== undefined && held >= now) return false;
    if (held !== undefined) this.#keys.delete(key);
    this.#keys.set(key, expiresAt);
    this.#sinceSweep += 1;
    if (this.#sinceSweep >= 4096) this.#sweep(now);
    while (this.#keys.size > this.#maxKeys) this.#keys.delete(this.#keys.keys().next().value as string);
    return true;
  }

  /** Keys held now. */
  get size(): number {
    return this.#keys.size;
  }

  #sweep(now: number): void {
    this.#sinceSweep = 0;
    for (const [key, expiresAt] of this.#keys) if (expiresAt < now) this.#keys.delete(key);
  }
}
