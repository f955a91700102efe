import { monotonicMs } from '../monotonic-ms.js';

/** Time as the watch processor sees it, injectable so tests drive debounce and backoff without waiting. */
export interface WatchClock {
  /** Milliseconds on a monotonic scale (only differences matter). */
  now(): number;
  /** Resolves after `ms` (Infinity: only on abort), or as soon as `signal` aborts. Never rejects. */
  sleep(ms: number, signal: AbortSignal): Promise<void>;
}

/** setTimeout's ceiling (about 24.8 days): a longer timer would fire at once. Sleeping less is harmless here. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export const systemClock: WatchClock = {
  now: monotonicMs,
  sleep: (ms, signal) =>
    new Promise<void>((resolve) => {
      if (signal.aborted) {
        resolve();
        return;
      }
      const done = (): void => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        resolve();
      };
      const timer = Number.isFinite(ms)
        ? setTimeout(done, Math.min(Math.max(0, ms), MAX_TIMER_MS))
        : undefined;
      signal.addEventListener('abort', done, { once: true });
    }),
};
