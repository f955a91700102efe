import type { WatchClock } from '../../../../src/process/watch-clock.js';

/** Lets pending promise callbacks and immediates run, so the processor reacts before the next step. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve));
}

/** A WatchClock whose time only moves when the test says so. */
export class FakeClock implements WatchClock {
  private time = 0;
  private sleepers: { until: number; wake: () => void }[] = [];
  /** Every duration asked of sleep(), in order. */
  readonly sleeps: number[] = [];

  now(): number {
    return this.time;
  }

  sleep(ms: number, signal: AbortSignal): Promise<void> {
    this.sleeps.push(ms);
    return new Promise<void>((resolve) => {
      if (signal.aborted) return resolve();
      const sleeper = {
        until: this.time + ms,
        wake: () => {
          this.sleepers = this.sleepers.filter((s) => s !== sleeper);
          signal.removeEventListener('abort', sleeper.wake);
          resolve();
        },
      };
      this.sleepers.push(sleeper);
      signal.addEventListener('abort', sleeper.wake, { once: true });
    });
  }

  /** Moves time forward by `ms`, waking sleepers in time order and letting each wake-up play out. */
  async advance(ms: number): Promise<void> {
    // Whatever is already under way (a change being reported) happens before time moves.
    await settle();
    const target = this.time + ms;
    for (;;) {
      const next = this.sleepers.filter((s) => s.until <= target).sort((a, b) => a.until - b.until)[0];
      if (!next) break;
      this.time = Math.max(this.time, next.until);
      next.wake();
      await settle();
    }
    this.time = target;
    await settle();
  }
}
