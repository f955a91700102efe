import type { WaitWindow } from '../config/wait-window.js';

/**
 * Which dirty items are due for rendering, and when. Pure: the caller passes the time, so the rules are
 * tested without timers. A burst of marks on an item collapses into one entry that is due `minMs` after the
 * latest mark, but never later than `maxMs` after the first one; a window of zero makes it due at once.
 * Different windows on one item take the earliest deadline, so an immediate mark (a resync) is never held
 * back by a longer window. `notBefore` holds an item back whatever its window (a failed resource backing
 * off is not rendered again by every change that comes along).
 */
export class DebounceQueue<K> {
  private readonly pending = new Map<K, { dueAt: number; deadline: number }>();

  mark(key: K, window: WaitWindow, now: number, notBefore = -Infinity): void {
    const deadline = Math.min(this.pending.get(key)?.deadline ?? Infinity, now + window.maxMs);
    this.pending.set(key, { deadline, dueAt: Math.max(Math.min(now + window.minMs, deadline), notBefore) });
  }

  /** Drops an item (a resource that was removed). */
  delete(key: K): void {
    this.pending.delete(key);
  }

  /** When the earliest item falls due; undefined when nothing is pending. */
  nextDueAt(): number | undefined {
    let earliest: number | undefined;
    for (const { dueAt } of this.pending.values())
      if (earliest === undefined || dueAt < earliest) earliest = dueAt;
    return earliest;
  }

  /** Removes and returns every item due at `now`, in the order they were first marked. */
  takeDue(now: number): K[] {
    const due: K[] = [];
    for (const [key, { dueAt }] of this.pending) {
      if (dueAt <= now) {
        due.push(key);
        this.pending.delete(key);
      }
    }
    return due;
  }

  get size(): number {
    return this.pending.size;
  }
}
