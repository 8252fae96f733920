/** Distribution facts for token counts and latencies. */
export interface Percentiles {
  count: number;
  mean: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

/** Nearest-rank percentiles (no interpolation, so every value reported was observed). */
export function percentiles(values: readonly number[]): Percentiles | null {
  if (values.length === 0) return null;
  const sorted = Float64Array.from(values).sort();
  const rank = (q: number): number => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] as number;
  let sum = 0;
  for (const value of sorted) sum += value;
  return { count: sorted.length, mean: sum / sorted.length, p50: rank(0.5), p90: rank(0.9), p99: rank(0.99), max: sorted[sorted.length - 1] as number };
}

/** Equal-width histogram bins over [0, max]. */
export function histogram(values: readonly number[], bins = 20): Array<{ start: number; end: number; count: number }> {
  if (values.length === 0) return [];
  let max = 0;
  for (const value of values) max = Math.max(max, value);
  const width = Math.max(1, Math.ceil((max + 1) / bins));
  const counts = new Array<number>(bins).fill(0);
  for (const value of values) {
    const bin = Math.min(bins - 1, Math.floor(value / width));
    counts[bin] = (counts[bin] ?? 0) + 1;
  }
  return counts.map((count, index) => ({ start: index * width, end: (index + 1) * width, count }));
}
