import type { WaitWindow } from '../config/wait-window.js';
import type { RetryPacer, RetryPolicy } from '../retry-policy.js';
import { DebounceQueue } from './debounce.js';
import type { WatchClock } from './watch-clock.js';

/**
 * When each resource is rendered next, by resource identity. Changes mark resources with their debounce
 * window; a failed resource backs off on its own pacer (the one retry policy), and until its retry is due
 * no change renders it again, so a failing check_cmd does not run on every change of a busy prefix. A
 * success resets its pacer.
 *
 * `run` takes the due resources, one batch at a time (batches never overlap, so a change seen while a
 * batch runs is rendered by the next one and the files never end on stale values).
 */
export class Scheduler {
  private readonly queue = new DebounceQueue<string>();
  private readonly pacers = new Map<string, RetryPacer>();
  /** Resources backing off after a failure: not rendered before this time. */
  private readonly retryAt = new Map<string, number>();
  /** Cuts the loop's sleep short when something new is marked (or on stop). */
  private wake = new AbortController();

  constructor(
    private readonly clock: WatchClock,
    private readonly policy: RetryPolicy,
    private readonly stop: AbortSignal,
  ) {
    stop.addEventListener('abort', () => this.wake.abort(), { once: true });
  }

  mark(id: string, window: WaitWindow): void {
    this.queue.mark(id, window, this.clock.now(), this.retryAt.get(id));
    this.wake.abort();
  }

  /** The resource failed: returns the delay before its retry, which is scheduled. */
  failed(id: string): number {
    let pacer = this.pacers.get(id);
    if (!pacer) {
      pacer = this.policy.pacer();
      this.pacers.set(id, pacer);
    }
    const delay = pacer.nextDelay();
    const at = this.clock.now() + delay;
    this.retryAt.set(id, at);
    this.queue.mark(id, { minMs: delay, maxMs: delay }, this.clock.now(), at);
    this.wake.abort();
    return delay;
  }

  succeeded(id: string): void {
    this.pacers.get(id)?.reset();
    this.retryAt.delete(id);
  }

  /** A resource whose definition changed starts over: no backoff left from its old self. */
  reset(id: string): void {
    this.pacers.delete(id);
    this.retryAt.delete(id);
  }

  /** A resource that is gone. */
  forget(id: string): void {
    this.reset(id);
    this.queue.delete(id);
  }

  get pending(): number {
    return this.queue.size;
  }

  /** Renders due resources until `stop` aborts; resolves after the batch in flight, if any, ends. */
  async run(render: (ids: string[]) => Promise<void>): Promise<void> {
    while (!this.stop.aborted) {
      const now = this.clock.now();
      const dueAt = this.queue.nextDueAt();
      if (dueAt !== undefined && dueAt <= now) {
        await render(this.queue.takeDue(now));
        continue;
      }
      this.wake = new AbortController();
      if (this.stop.aborted) break;
      await this.clock.sleep(dueAt === undefined ? Infinity : dueAt - now, this.wake.signal);
    }
  }
}
