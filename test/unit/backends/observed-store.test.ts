import { expect } from 'chai';
import { observeStore } from '../../../src/backends/observed-store.js';
import type {
  KVPairs,
  PrefixWatch,
  RequestOptions,
  StoreClient,
} from '../../../src/backends/store-client.js';
import { abortReason } from '../../../src/backends/watch-event-buffer.js';
import { BackendError, RequestTimeoutError } from '../../../src/errors.js';
import { EventBus } from '../../../src/events/event-bus.js';
import type { StoreEvent } from '../../../src/events/events.js';
import { never, rejection } from '../../support/async.js';

type Behaviour = 'answer' | 'hang' | 'fail' | 'ignore-signal';

/**
 * A store whose requests answer, fail, or hang until their signal aborts (as a backend honouring the
 * signal does), or hang whatever the signal says (a library that cannot cancel). Records the signals.
 */
class ScriptedStore implements StoreClient {
  behaviour: Behaviour = 'answer';
  readonly signals: AbortSignal[] = [];
  /** Whether each read asked for the store itself (options.fresh), in order. */
  readonly fresh: boolean[] = [];
  closed = 0;

  getValues(keys: readonly string[], options: RequestOptions = {}): Promise<KVPairs> {
    this.fresh.push(options.fresh === true);
    return this.respond(options.signal, () => new Map(keys.map((key) => [key, 'value'])));
  }

  watch(prefix: string, options: RequestOptions = {}): Promise<PrefixWatch> {
    return this.respond(options.signal, () => ({
      prefix,
      index: 5,
      next: () => Promise.reject(new Error('not used')),
      release: () => undefined,
    }));
  }

  ping(options: RequestOptions = {}): Promise<void> {
    return this.respond(options.signal, () => undefined);
  }

  async close(): Promise<void> {
    this.closed += 1;
  }

  private respond<T>(signal: AbortSignal | undefined, answer: () => T): Promise<T> {
    if (signal) this.signals.push(signal);
    switch (this.behaviour) {
      case 'answer':
        return Promise.resolve(answer());
      case 'fail':
        return Promise.reject(new BackendError('test: connection refused', 'test', ['store:1']));
      case 'ignore-signal':
        return new Promise<T>(() => undefined);
      case 'hang':
        return new Promise<T>((_, reject) => {
          signal?.addEventListener('abort', () => reject(abortReason(signal)), { once: true });
        });
    }
  }
}

describe('observeStore', () => {
  let store: ScriptedStore;
  let events: StoreEvent[];
  let observed: StoreClient;
  const requestTimeoutMs = 50;

  beforeEach(() => {
    store = new ScriptedStore();
    events = [];
    const bus = new EventBus();
    bus.on('store', (event) => events.push(event));
    observed = observeStore(store, {
      backend: 'test',
      endpoints: ['store:1'],
      requestTimeoutMs,
      events: bus,
    });
  });

  describe('deadline', () => {
    it('rejects a read that runs out of time with a RequestTimeoutError naming the store and the keys', async () => {
      store.behaviour = 'hang';
      const err = await rejection(observed.getValues(['/app/db', '/app/web']));
      expect(err).to.be.instanceOf(RequestTimeoutError);
      const timeout = err as RequestTimeoutError;
      expect(timeout.backend).to.equal('test');
      expect(timeout.endpoints).to.deep.equal(['store:1']);
      expect(timeout.timeoutMs).to.equal(requestTimeoutMs);
      expect(timeout.message)
        .to.contain('test:')
        .and.to.contain('/app/db, /app/web')
        .and.to.contain('-request-timeout');
      // The backend was told to stop, through the signal it was given.
      expect(store.signals[0]?.aborted).to.equal(true);
    });

    it('names the timeout even when the backend cannot cancel and never answers', async () => {
      store.behaviour = 'ignore-signal';
      const err = await rejection(observed.watch('/app'));
      expect(err).to.be.instanceOf(RequestTimeoutError);
      expect(err.message).to.contain('arming a watch on /app');
    });

    it('releases a watch the backend hands over after its deadline, so no store-side watch is left held', async () => {
      let handOver!: (watch: PrefixWatch) => void;
      let released = 0;
      store.watch = () => new Promise<PrefixWatch>((resolve) => (handOver = resolve));
      expect(await rejection(observed.watch('/app'))).to.be.instanceOf(RequestTimeoutError);
      handOver({
        prefix: '/app',
        index: 1,
        next: () => Promise.reject(new Error('not used')),
        release: () => (released += 1),
      });
      await new Promise((resolve) => setImmediate(resolve));
      expect(released).to.equal(1);
    });

    it('turns a backend that throws at once into a rejection and a store failure event', async () => {
      store.getValues = () => {
        throw new BackendError('test: client closed', 'test');
      };
      const err = await rejection(observed.getValues(['/k']));
      expect(err.message).to.equal('test: client closed');
      expect(events).to.have.length(1);
      expect(events[0]).to.include({ op: 'read', ok: false });
    });

    it('shortens long key lists in the message', async () => {
      store.behaviour = 'hang';
      const err = await rejection(observed.getValues(['/a', '/b', '/c', '/d', '/e']));
      expect(err.message).to.contain('/a, /b, /c and 2 more');
    });

    it('gives every request its own deadline, whatever signal the caller passes', async () => {
      store.behaviour = 'hang';
      // A long-lived caller signal (the daemon's stop signal) never aborts: the deadline still applies.
      const err = await rejection(observed.getValues(['/k'], { signal: never() }));
      expect(err).to.be.instanceOf(RequestTimeoutError);
    });

    it("passes a read's fresh option on: the safety-net resync must reach the store, not a watch's copy", async () => {
      await observed.getValues(['/k'], { fresh: true });
      await observed.getValues(['/k']);
      expect(store.fresh).to.deep.equal([true, false]);
    });

    it('passes the answer of a request that finishes in time', async () => {
      expect(Object.fromEntries(await observed.getValues(['/k']))).to.deep.equal({ '/k': 'value' });
      expect((await observed.watch('/app')).index).to.equal(5);
      expect(store.signals.every((signal) => !signal.aborted)).to.equal(true);
    });
  });

  describe("the caller's abort", () => {
    it('rejects with the caller reason, not a timeout, and emits no store failure', async () => {
      store.behaviour = 'hang';
      const controller = new AbortController();
      const reading = observed.getValues(['/k'], { signal: controller.signal });
      const stopping = new Error('shutting down');
      controller.abort(stopping);
      expect(await rejection(reading)).to.equal(stopping);
      expect(store.signals[0]?.aborted).to.equal(true);
      expect(events).to.deep.equal([]);
    });

    it('rejects at once for a signal aborted before the call, without asking the store', async () => {
      const reason = new Error('already stopped');
      expect(await rejection(observed.watch('/app', { signal: AbortSignal.abort(reason) }))).to.equal(reason);
      expect(store.signals).to.deep.equal([]);
      expect(events).to.deep.equal([]);
    });

    it('leaves no listener on a long-lived caller signal once the request settled', async () => {
      const controller = new AbortController();
      let added = 0;
      let removed = 0;
      const signal = controller.signal;
      const add = signal.addEventListener.bind(signal);
      const remove = signal.removeEventListener.bind(signal);
      signal.addEventListener = ((...args: Parameters<typeof add>) => {
        added += 1;
        add(...args);
      }) as typeof add;
      signal.removeEventListener = ((...args: Parameters<typeof remove>) => {
        removed += 1;
        remove(...args);
      }) as typeof remove;
      for (let i = 0; i < 5; i++) await observed.getValues(['/k'], { signal });
      store.behaviour = 'fail';
      await rejection(observed.getValues(['/k'], { signal }));
      expect(added).to.equal(6);
      expect(removed).to.equal(added);
    });
  });

  describe('events', () => {
    it('emits one event per request with its op, outcome and duration', async () => {
      await observed.getValues(['/k']);
      await observed.watch('/app');
      expect(events.map(({ type, backend, op, ok }) => ({ type, backend, op, ok }))).to.deep.equal([
        { type: 'store', backend: 'test', op: 'read', ok: true },
        { type: 'store', backend: 'test', op: 'watch', ok: true },
      ]);
      for (const event of events) {
        expect(event.durationMs).to.be.a('number').and.to.be.at.least(0);
        expect(event.error).to.equal(undefined);
      }
    });

    it('emits a failure with the store error', async () => {
      store.behaviour = 'fail';
      const err = await rejection(observed.getValues(['/k']));
      expect(events).to.have.length(1);
      expect(events[0]).to.include({ type: 'store', backend: 'test', op: 'read', ok: false });
      expect(events[0]?.error).to.equal(err);
      expect(err.message).to.equal('test: connection refused');
    });

    it('emits a failure with the RequestTimeoutError when a request runs out of time', async () => {
      store.behaviour = 'hang';
      const err = await rejection(observed.watch('/app'));
      expect(events).to.have.length(1);
      expect(events[0]).to.include({ op: 'watch', ok: false });
      expect(events[0]?.error).to.equal(err).and.to.be.instanceOf(RequestTimeoutError);
      expect(events[0]?.durationMs).to.be.at.least(requestTimeoutMs - 5);
    });
  });

  it('gives a ping the same deadline and reports it as op "ping"', async () => {
    store.behaviour = 'hang';
    const err = await rejection(observed.ping());
    expect(err).to.be.instanceOf(RequestTimeoutError);
    expect((err as RequestTimeoutError).message).to.contain('checking the store');
    expect(events.map((e) => [e.op, e.ok])).to.deep.equal([['ping', false]]);
  });

  it('closes the store it wraps', async () => {
    await observed.close();
    expect(store.closed).to.equal(1);
  });
});
