/**
 * The wait before attempt n+1 after n failed attempts: exponential (base · 2^(n-1)), capped at
 * `maxMs`, with "equal jitter": a random point in the upper half of that wait, so that many
 * deliveries failing together (a recipient going down) do not all come back at the same moment,
 * while none comes back sooner than half its turn.
 *
 * @example
 *   backoffMs(3, { baseMs: 1000, maxMs: 600_000 }) // between 2000 and 4000
 */
export function backoffMs(
  failedAttempts: number,
  o: { readonly baseMs: number; readonly maxMs: number },
  random: () => number = Math.random,
): number {
  if (!Number.isInteger(failedAttempts) || failedAttempts < 1) throw new TypeError('backoffMs: failedAttempts must be a positive integer');
  const exp = Math.min(o.maxMs, o.baseMs * 2 ** Math.min(failedAttempts - 1, 40));
  const r = Math.min(Math.max(random(), 0), 1);
  return Math.max(1, Math.round(exp / 2 + (exp / 2) * r));
}
