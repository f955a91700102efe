/**
 * Milliseconds on a monotonic scale (only differences matter): the clock durations are measured with.
 * Not performance.now(): in Node 20 the first touch of the global `performance` loads perf_hooks, ~1 ms of
 * a cold start, for the same clock.
 */
export function monotonicMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}
