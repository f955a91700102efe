import type * as Cockatiel from 'cockatiel';

type CockatielModule = typeof Cockatiel;

/**
 * The program's one retry policy, for everything that fails and is tried again: a store that is down at
 * start, a watch that failed, a resource that failed to render, check or reload, etcd's re-opening of a
 * watch stream. Exponential from RETRY_INITIAL_MS, doubling, capped at RETRY_MAX_MS, with half jitter
 * (cockatiel's halfJitterGenerator: half of each step fixed, half random), so hosts that lost the same
 * store spread their retries out, yet none retries sooner than half the step.
 */
export const RETRY_INITIAL_MS = 250;
export const RETRY_MAX_MS = 30_000;

/** Paces the attempts of one thing that keeps failing; reset after a success. */
export interface RetryPacer {
  /** The delay before the next attempt; each call grows it, up to the cap. */
  nextDelay(): number;
  /** Consecutive failures counted since the last reset. */
  readonly failures: number;
  reset(): void;
}

export interface RetryPolicy {
  pacer(): RetryPacer;
}

/** The policy as a cockatiel backoff, capped lower where a caller must (etcd's watch stream reconnects). */
export function retryBackoff(
  cockatiel: CockatielModule,
  maxDelayMs = RETRY_MAX_MS,
): Cockatiel.IBackoff<unknown> {
  return new cockatiel.ExponentialBackoff({
    initialDelay: Math.min(RETRY_INITIAL_MS, maxDelayMs),
    maxDelay: maxDelayMs,
    exponent: 2,
    generator: cockatiel.halfJitterGenerator,
  }).next();
}

/**
 * Loads the policy. cockatiel costs tens of milliseconds to import, so only daemons, which retry, load it;
 * a `-onetime` run never does.
 */
export async function loadRetryPolicy(): Promise<RetryPolicy> {
  const cockatiel = await import('cockatiel');
  return { pacer: () => pacerOf(() => retryBackoff(cockatiel)) };
}

/** A pacer over any backoff sequence (tests pass a fixed one). */
export function pacerOf(first: () => Cockatiel.IBackoff<unknown>): RetryPacer {
  let state: Cockatiel.IBackoff<unknown> | undefined;
  let failures = 0;
  return {
    nextDelay() {
      state = state ? state.next(undefined) : first();
      failures += 1;
      return state.duration;
    },
    get failures() {
      return failures;
    },
    reset() {
      state = undefined;
      failures = 0;
    },
  };
}
