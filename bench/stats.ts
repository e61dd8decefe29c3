/** Latency summaries: exact percentiles over every sample (windows are short enough to keep them all). */

export interface Summary {
  readonly count: number;
  readonly mean: number;
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly p999: number;
  readonly max: number;
}

export const EMPTY_SUMMARY: Summary = { count: 0, mean: 0, p50: 0, p90: 0, p99: 0, p999: 0, max: 0 };

/** Nearest-rank percentiles of the samples (any unit); an empty input gives zeros. */
export function summarize(samples: ArrayLike<number>, count = samples.length): Summary {
  if (count === 0) return EMPTY_SUMMARY;
  const sorted = Float64Array.from({ length: count }, (_, i) => samples[i]!).sort();
  const at = (q: number): number => sorted[Math.min(count - 1, Math.max(0, Math.ceil(q * count) - 1))]!;
  let sum = 0;
  for (let i = 0; i < count; i++) sum += sorted[i]!;
  return { count, mean: sum / count, p50: at(0.5), p90: at(0.9), p99: at(0.99), p999: at(0.999), max: sorted[count - 1]! };
}

/** Rounds for reports: 3 significant decimals below 10, 2 below 100, else 1. */
export function round(n: number): number {
  if (!Number.isFinite(n)) return n;
  const a = Math.abs(n);
  const d = a < 10 ? 3 : a < 100 ? 2 : 1;
  return Math.round(n * 10 ** d) / 10 ** d;
}

export function roundSummary(s: Summary): Summary {
  return {
    count: s.count,
    mean: round(s.mean),
    p50: round(s.p50),
    p90: round(s.p90),
    p99: round(s.p99),
    p999: round(s.p999),
    max: round(s.max),
  };
}

/**
 * Times `fn` `iterations` times, one sample per call, in microseconds. Awaits only when `fn`
 * returns a promise, so synchronous work is not charged a microtask.
 */
export async function timeEach(iterations: number, fn: (i: number) => unknown): Promise<Summary>;
export async function timeEach(iterations: number, fn: (i: number) => unknown, raw: true): Promise<number[]>;
export async function timeEach(iterations: number, fn: (i: number) => unknown, raw = false): Promise<Summary | number[]> {
  const samples = new Float64Array(iterations);
  for (let i = 0; i < iterations; i++) {
    const t0 = process.hrtime.bigint();
    const r = fn(i);
    if (r instanceof Promise) await r;
    samples[i] = Number(process.hrtime.bigint() - t0) / 1000;
  }
  return raw ? Array.from(samples) : summarize(samples);
}
