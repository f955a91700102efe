import type { EventBus } from '../../../../src/events/event-bus.js';
import type { ConfdEvent, ConfdEventType } from '../../../../src/events/events.js';

type Of<T extends ConfdEventType> = Extract<ConfdEvent, { type: T }>;

/**
 * Keeps every event of a bus, so a test can wait for the one it expects: take a mark, act, then wait for
 * the first matching event from the mark on (including one that came before the wait started).
 */
export class EventRecorder {
  readonly events: ConfdEvent[] = [];
  private readonly waiters = new Set<() => void>();

  constructor(bus: EventBus) {
    bus.subscribe((event) => {
      this.events.push(event);
      for (const wake of [...this.waiters]) wake();
    });
  }

  mark(): number {
    return this.events.length;
  }

  of<T extends ConfdEventType>(type: T, from = 0): Of<T>[] {
    return this.events.slice(from).filter((e): e is Of<T> => e.type === type);
  }

  /** The first event of `type` at or after `from` that `match` accepts. */
  wait<T extends ConfdEventType>(
    type: T,
    from: number,
    match: (event: Of<T>) => boolean = () => true,
  ): Promise<Of<T>> {
    return new Promise((resolve) => {
      const check = (): boolean => {
        const found = this.of(type, from).find(match);
        if (!found) return false;
        this.waiters.delete(wake);
        resolve(found);
        return true;
      };
      const wake = (): void => void check();
      if (!check()) this.waiters.add(wake);
    });
  }

  /** Resolves once `condition` holds, checked now and after every event. */
  until(condition: () => boolean): Promise<void> {
    return new Promise((resolve) => {
      const wake = (): void => {
        if (!condition()) return;
        this.waiters.delete(wake);
        resolve();
      };
      this.waiters.add(wake);
      wake();
    });
  }

  /** The first `count` batch events from `from` on, once there are that many. */
  async batches(from: number, count = 1): Promise<Of<'batch'>[]> {
    await this.until(() => this.of('batch', from).length >= count);
    return this.of('batch', from).slice(0, count);
  }
}
