import type { ConfdEvent, ConfdEventType } from './events.js';

type Listener<E extends ConfdEvent = ConfdEvent> = (event: E) => void;

/**
 * The one event stream. Delivery is synchronous and in order, so a subscriber sees events as they happen
 * (a metric is incremented before the next line is logged). A subscriber that throws is a bug in that
 * subscriber: it is reported once through `onListenerError` and never stops delivery to the others or
 * the emitter.
 */
export class EventBus {
  private readonly listeners = new Set<Listener>();

  constructor(private readonly onListenerError: (err: unknown) => void = () => undefined) {}

  emit(event: ConfdEvent): void {
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch (err) {
        this.onListenerError(err);
      }
    }
  }

  /** Every event; returns the unsubscribe function. */
  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Events of one type. */
  on<T extends ConfdEventType>(type: T, listener: Listener<Extract<ConfdEvent, { type: T }>>): () => void {
    return this.subscribe((event) => {
      if (event.type === type) listener(event as Extract<ConfdEvent, { type: T }>);
    });
  }
}
