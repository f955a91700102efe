/** Retry pacing for a failed watch: exponential from `baseMs`, never above `capMs`. */
export interface BackoffPolicy {
  baseMs: number;
  capMs: number;
}

export const WATCH_BACKOFF: Readonly<BackoffPolicy> = Object.freeze({ baseMs: 500, capMs: 30_000 });

/**
 * The delay before retry number `attempt` (0 for the first retry). "Equal jitter": half of the exponential
 * step is fixed and half random, so hosts that lost the same store spread their reconnects out, yet none
 * retries sooner than half the step. `random` returns a number in [0, 1), like Math.random.
 */
export function backoffDelay(
  attempt: number,
  random: () => number = Math.random,
  policy: BackoffPolicy = WATCH_BACKOFF,
): number {
  // The exponent is bounded so that a long outage cannot overflow to Infinity before the cap applies.
  const step = Math.min(policy.capMs, policy.baseMs * 2 ** Math.min(Math.max(0, attempt), 32));
  return step / 2 + random() * (step / 2);
}
