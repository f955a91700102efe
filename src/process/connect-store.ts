import type { StoreClient } from '../backends/store-client.js';
import { BackendError, errorMessage } from '../errors.js';
import type { Logger } from '../logging/logger.js';
import { backoffDelay } from './backoff.js';
import type { WatchClock } from './watch-clock.js';
import { systemClock } from './watch-clock.js';

/**
 * Connects for a daemon (interval or watch mode): a store that is down when confd starts is retried with
 * capped, jittered backoff until it answers or the daemon is asked to stop, so a host that boots before its
 * store still converges. Only unreachable stores are retried; anything else (unsupported backend, bad TLS
 * files, a -file that is missing) is a configuration fault and fails at once. Resolves undefined when
 * `signal` aborts first.
 */
export async function connectWithRetry(
  connect: () => Promise<StoreClient>,
  logger: Logger,
  signal: AbortSignal,
  options: { clock?: WatchClock; random?: () => number } = {},
): Promise<StoreClient | undefined> {
  const clock = options.clock ?? systemClock;
  for (let attempt = 0; !signal.aborted; attempt++) {
    try {
      return await connect();
    } catch (err) {
      if (!(err instanceof BackendError)) throw err;
      const delayMs = backoffDelay(attempt, options.random);
      logger.error(`${errorMessage(err)}; retrying in ${(delayMs / 1000).toFixed(1)} s`);
      await clock.sleep(delayMs, signal);
    }
  }
  return undefined;
}
