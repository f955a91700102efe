import type * as Cockatiel from 'cockatiel';
import type { IOptions } from 'etcd3';

type CockatielModule = typeof Cockatiel;

/** How long an endpoint that failed is passed over before a request may try it again. */
export const ETCD_ENDPOINT_PAUSE_MS = 5000;

/**
 * etcd3's fault handling (its `faultHandling` option), bounded by the connect timeout. etcd3's default
 * retries a failed request 3 times, each with the full deadline, and opens an endpoint's circuit after 3
 * failures, after which requests fail at once with a bare "circuit breaker is open". Here a request tries
 * each endpoint at most once: with several endpoints, one that failed is passed over for
 * ETCD_ENDPOINT_PAUSE_MS and the request moves on to the next; with a single endpoint nothing is retried
 * or paused. The last connection failure is kept, so an error about paused endpoints can name its cause.
 */
export class EtcdFaultHandling {
  readonly options: NonNullable<IOptions['faultHandling']>;
  private lastFailure: Error | undefined;

  constructor(
    cockatiel: CockatielModule,
    isRecoverable: (err: Error) => boolean,
    endpointCount: number,
    watchBackoff: Cockatiel.IBackoff<unknown>,
  ) {
    const { circuitBreaker, ConsecutiveBreaker, handleWhen, noop, retry } = cockatiel;
    if (endpointCount <= 1) {
      this.options = { host: () => noop, global: noop, watchBackoff };
      return;
    }
    const failures = handleWhen(isRecoverable);
    this.options = {
      host: () => {
        const breaker = circuitBreaker(failures, {
          halfOpenAfter: ETCD_ENDPOINT_PAUSE_MS,
          breaker: new ConsecutiveBreaker(1),
        });
        breaker.onFailure(({ handled, reason }) => {
          if (handled && 'error' in reason) this.lastFailure = reason.error;
        });
        return breaker;
      },
      // An endpoint that failed has its circuit open, so each retry lands on another endpoint.
      global: retry(failures, { maxAttempts: endpointCount - 1 }),
      watchBackoff,
    };
  }

  /** The most recent connection failure of any endpoint; undefined when none failed yet. */
  lastConnectionFailure(): Error | undefined {
    return this.lastFailure;
  }
}
