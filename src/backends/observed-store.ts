import { BackendError, RequestTimeoutError } from '../errors.js';
import type { EventBus } from '../events/event-bus.js';
import type { StoreOp } from '../events/events.js';
import type { KVPairs, PrefixWatch, RequestOptions, StoreClient } from './store-client.js';
import { untilAborted } from './watch-event-buffer.js';
import { monotonicMs } from '../monotonic-ms.js';

export interface ObservedStoreOptions {
  backend: string;
  /** Endpoints as they may be shown (no credentials), for timeout errors. */
  endpoints: readonly string[];
  /** Every request's deadline, whoever makes it. */
  requestTimeoutMs: number;
  events: EventBus;
}

/**
 * The store layer's one wrapper: every request gets its deadline (-request-timeout) here, whatever the
 * caller passes, and every request's result and duration goes into the event stream (metrics, status and
 * logs subscribe). A request that runs out of time rejects with a RequestTimeoutError naming the store,
 * even where the backend's library cannot cancel it.
 */
export function observeStore(store: StoreClient, options: ObservedStoreOptions): StoreClient {
  const { backend, endpoints, requestTimeoutMs, events } = options;

  async function request<T>(
    op: StoreOp,
    doing: string,
    callerSignal: AbortSignal | undefined,
    call: (signal: AbortSignal) => Promise<T>,
    /** Undoes the result of a request that answered after its caller stopped waiting. */
    discardLate?: (late: T) => void,
  ): Promise<T> {
    callerSignal?.throwIfAborted();
    // One controller per request, its timer and listener removed when it settles: long-lived caller
    // signals (the daemon's stop signal) must not collect a listener per request.
    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort(new RequestTimeoutError(backend, endpoints, doing, requestTimeoutMs));
    }, requestTimeoutMs);
    const onAbort = (): void => controller.abort(callerSignal?.reason);
    callerSignal?.addEventListener('abort', onAbort, { once: true });
    const started = monotonicMs();
    let pending: Promise<T> | undefined;
    try {
      // Raced against the deadline: a backend whose library cannot cancel must not hold the caller.
      pending = call(controller.signal);
      const result = await untilAborted(pending, controller.signal);
      events.emit({ type: 'store', backend, op, ok: true, durationMs: monotonicMs() - started });
      return result;
    } catch (err) {
      const failure: unknown = timedOut && !callerSignal?.aborted ? (controller.signal.reason as Error) : err;
      // The caller's own abort (shutdown) says nothing about the store.
      if (!callerSignal?.aborted) {
        const error = failure instanceof Error ? failure : new BackendError(String(failure), backend);
        events.emit({
          type: 'store',
          backend,
          op,
          ok: false,
          durationMs: monotonicMs() - started,
          error,
        });
      }
      if (discardLate && pending) pending.then(discardLate, () => undefined);
      throw failure;
    } finally {
      clearTimeout(timer);
      callerSignal?.removeEventListener('abort', onAbort);
    }
  }

  return {
    getValues(keys: readonly string[], opts: RequestOptions = {}): Promise<KVPairs> {
      return request('read', `reading ${describeKeys(keys)}`, opts.signal, (signal) =>
        store.getValues(keys, { signal, ...(opts.fresh ? { fresh: true } : {}) }),
      );
    },
    watch(prefix: string, opts: RequestOptions = {}): Promise<PrefixWatch> {
      return request(
        'watch',
        `arming a watch on ${prefix}`,
        opts.signal,
        (signal) => store.watch(prefix, { signal }),
        (late) => late.release(),
      );
    },
    ping(opts: RequestOptions = {}): Promise<void> {
      return request('ping', 'checking the store', opts.signal, (signal) => store.ping({ signal }));
    },
    close: () => store.close(),
  };
}

function describeKeys(keys: readonly string[]): string {
  const shown = keys.slice(0, 3).join(', ');
  return keys.length > 3 ? `${shown} and ${keys.length - 3} more` : shown || 'nothing';
}
