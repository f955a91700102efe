/** Order statistics of a sample of timings (nearest-rank, on a sorted copy). */
export function quantile(values: readonly number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank] ?? NaN;
}

export const median = (values: readonly number[]): number => quantile(values, 0.5);

/** Rounded for the JSON lines: timings to 0.1 ms, sizes to 0.1 MiB, ratios to 0.01. */
export const round = (value: number, digits = 1): number => {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
};

/** Milliseconds elapsed since `start` (a process.hrtime.bigint() reading). */
export const msSince = (start: bigint): number => Number(process.hrtime.bigint() - start) / 1e6;
