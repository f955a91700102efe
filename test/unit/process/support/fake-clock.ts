import type { WatchClock } from '../../../../src/process/watch-clock.js';

/**
 * A WatchClock whose time only moves when the test says so. Moving it wakes, in time order, every sleeper
 * due by then; a sleep that is already due when asked for resolves at once. Tests then wait for the event
 * they expect (see EventRecorder), never for a number of turns of the event loop.
 */
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
      if (signal.aborted || ms <= 0) return resolve();
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

  /** Moves time forward by `ms` and wakes every sleeper due by then, earliest first. */
  advance(ms: number): void {
    this.time += ms;
    const due = this.sleepers.filter((s) => s.until <= this.time).sort((a, b) => a.until - b.until);
    for (const sleeper of due) sleeper.wake();
  }

  /** Sleepers waiting now (a loop that went to sleep). */
  get waiting(): number {
    return this.sleepers.length;
  }
}
