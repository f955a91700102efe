import type { StoreClient } from '../backends/store-client.js';
import { BackendError } from '../errors.js';
import type { EventBus } from '../events/event-bus.js';
import type { RetryPolicy } from '../retry-policy.js';
import type { WatchClock } from './watch-clock.js';
import { systemClock } from './watch-clock.js';
import { monotonicMs } from '../monotonic-ms.js';

/**
 * Connects for a daemon (interval or watch mode): a store that is down when confd starts is retried with
 * the one retry policy until it answers or the daemon is asked to stop, so a host that boots before its
 * store still converges. Only unreachable stores are retried; anything else (unsupported backend, bad TLS
 * files, a -file that is missing) is a configuration fault and fails at once. Resolves undefined when
 * `signal` aborts first. Each attempt is a `store` event with op "connect".
 */
export async function connectWithRetry(
  connect: () => Promise<StoreClient>,
  options: {
    backend: string;
    events: EventBus;
    policy: RetryPolicy;
    signal: AbortSignal;
    clock?: WatchClock;
  },
): Promise<StoreClient | undefined> {
  const { backend, events, policy, signal } = options;
  const clock = options.clock ?? systemClock;
  const pacer = policy.pacer();
  while (!signal.aborted) {
    const started = monotonicMs();
    try {
      const store = await connect();
      events.emit({
        type: 'store',
        backend,
        op: 'connect',
        ok: true,
        durationMs: monotonicMs() - started,
      });
      return store;
    } catch (err) {
      if (!(err instanceof BackendError)) throw err;
      const retryInMs = pacer.nextDelay();
      events.emit({
        type: 'store',
        backend,
        op: 'connect',
        ok: false,
        durationMs: monotonicMs() - started,
        error: err,
        retryInMs,
      });
      await clock.sleep(retryInMs, signal);
    }
  }
  return undefined;
}
