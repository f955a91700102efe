import { expect } from 'chai';
import {
  abortReason,
  countedChanges,
  nextChangeIndex,
  untilAborted,
  WatchEventBuffer,
} from '../../../src/backends/watch-event-buffer.js';
import type { WatchResult } from '../../../src/backends/store-client.js';
import { never, rejection } from '../../support/async.js';

/** Whether `promise` has settled once everything already queued has run. */
async function settled(promise: Promise<unknown>): Promise<boolean> {
  let done = false;
  promise.then(
    () => (done = true),
    () => (done = true),
  );
  await new Promise((resolve) => setImmediate(resolve));
  return done;
}

describe('WatchEventBuffer', () => {
  describe('changes by index', () => {
    it('answers at once with every change after the index, several sharing one index included', async () => {
      const buffer = new WatchEventBuffer(10);
      buffer.record([
        { index: 11, key: '/a' },
        { index: 12, key: '/c' },
        { index: 12, key: '/b' },
      ]);
      expect(await buffer.wait(10, never())).to.deep.equal({ index: 12, changedKeys: ['/a', '/b', '/c'] });
      expect(await buffer.wait(11, never())).to.deep.equal({ index: 12, changedKeys: ['/b', '/c'] });
    });

    it('reports each key once however often it changed', async () => {
      const buffer = new WatchEventBuffer(0);
      for (let i = 1; i <= 5; i++) buffer.record([{ index: i, key: '/k' }]);
      expect(await buffer.wait(0, never())).to.deep.equal({ index: 5, changedKeys: ['/k'] });
    });

    it('waits for the next change when the caller is up to date, and resolves every waiter with it', async () => {
      const buffer = new WatchEventBuffer(3);
      const first = buffer.wait(3, never());
      const second = buffer.wait(3, never());
      expect(await settled(first)).to.equal(false);
      buffer.record([{ index: 4, key: '/k' }]);
      expect(await first).to.deep.equal({ index: 4, changedKeys: ['/k'] });
      expect(await second).to.deep.equal({ index: 4, changedKeys: ['/k'] });
    });

    it('waits on an index above the latest (the store moved on elsewhere) for changes past it', async () => {
      const buffer = new WatchEventBuffer(10);
      const waiting = buffer.wait(15, never());
      buffer.record([{ index: 14, key: '/before' }]);
      expect(await settled(waiting)).to.equal(false);
      buffer.record([{ index: 16, key: '/after' }]);
      expect(await waiting).to.deep.equal({ index: 16, changedKeys: ['/after'] });
    });

    it('ignores an index going back', async () => {
      const buffer = new WatchEventBuffer(0);
      buffer.record([{ index: 5, key: '/new' }]);
      buffer.record([{ index: 3, key: '/old' }]);
      expect(await buffer.wait(0, never())).to.deep.equal({ index: 5, changedKeys: ['/new'] });
    });
  });

  describe('relevance', () => {
    it('waits for a relevant change, skipping others, and reports the newest index', async () => {
      const buffer = new WatchEventBuffer(1);
      const waiting = buffer.wait(1, never(), (key) => key.startsWith('/mine'));
      buffer.record([{ index: 2, key: '/other' }]);
      expect(await settled(waiting)).to.equal(false);
      buffer.record([{ index: 3, key: '/mine/x' }]);
      expect(await waiting).to.deep.equal({ index: 3, changedKeys: ['/mine/x'] });
    });

    it('reports every key without a filter', async () => {
      const buffer = new WatchEventBuffer(0);
      buffer.record([
        { index: 1, key: '/x' },
        { index: 1, key: '/y' },
      ]);
      expect(await buffer.wait(0, never())).to.deep.equal({ index: 1, changedKeys: ['/x', '/y'] });
    });
  });

  describe('"re-read everything"', () => {
    it('answers it for a resync marker and for an index older than what it holds', async () => {
      const buffer = new WatchEventBuffer(20);
      expect(await buffer.wait(5, never())).to.deep.equal({ index: 20 });
      buffer.record([{ index: 21, key: '/a' }]);
      buffer.record([{ index: 30, key: undefined }]);
      expect(await buffer.wait(20, never(), () => false)).to.deep.equal({ index: 30 });
      buffer.record([{ index: 31, key: '/b' }]);
      expect(await buffer.wait(30, never())).to.deep.equal({ index: 31, changedKeys: ['/b'] });
    });

    it('drops its oldest half past its capacity and sends callers that far behind to a full re-read', async () => {
      const buffer = new WatchEventBuffer(0, 4);
      for (let i = 1; i <= 5; i++) buffer.record([{ index: i, key: `/k${i}` }]);
      expect(await buffer.wait(0, never())).to.deep.equal({ index: 5 });
      expect(await buffer.wait(3, never())).to.deep.equal({ index: 5, changedKeys: ['/k4', '/k5'] });
    });

    it('answers it to a waiter the trim left behind', async () => {
      const buffer = new WatchEventBuffer(0, 2);
      const waiting = buffer.wait(0, never(), (key) => key === '/wanted');
      buffer.record([
        { index: 1, key: '/a' },
        { index: 2, key: '/b' },
        { index: 3, key: '/c' },
      ]);
      expect(await waiting).to.deep.equal({ index: 3 });
    });
  });

  describe('failure and recovery', () => {
    it('rejects current waits and later waits with nothing to report, until it recovers', async () => {
      const buffer = new WatchEventBuffer(0);
      const waiting = rejection(buffer.wait(0, never()));
      const failure = new Error('connection lost');
      buffer.fail(failure);
      expect(await waiting).to.equal(failure);
      expect(await rejection(buffer.wait(0, never()))).to.equal(failure);
      buffer.recover();
      const next = buffer.wait(0, never());
      expect(await settled(next)).to.equal(false);
      buffer.record([{ index: 1, key: '/k' }]);
      expect(await next).to.deep.equal({ index: 1, changedKeys: ['/k'] });
    });

    it('still reports changes a caller has not seen, recorded before or after the failure', async () => {
      const buffer = new WatchEventBuffer(0);
      buffer.record([{ index: 1, key: '/before' }]);
      const failure = new Error('query failed');
      buffer.fail(failure);
      expect(await buffer.wait(0, never())).to.deep.equal({ index: 1, changedKeys: ['/before'] });
      expect(await buffer.wait(-5, never())).to.deep.equal({ index: 1 });
      buffer.record([{ index: 2, key: undefined }]);
      expect(await buffer.wait(1, never())).to.deep.equal({ index: 2 });
      expect(await rejection(buffer.wait(2, never()))).to.equal(failure);
    });

    it('rejects a waiter whose changes were all irrelevant', async () => {
      const buffer = new WatchEventBuffer(0);
      const waiting = rejection(buffer.wait(0, never(), () => false));
      buffer.record([{ index: 1, key: '/other' }]);
      const failure = new Error('closed');
      buffer.fail(failure);
      expect(await waiting).to.equal(failure);
    });
  });

  describe('abort', () => {
    it('rejects an aborted wait with an AbortError and leaves the other waits alone', async () => {
      const buffer = new WatchEventBuffer(0);
      const controller = new AbortController();
      const aborted = rejection(buffer.wait(0, controller.signal));
      const staying = buffer.wait(0, never());
      controller.abort();
      expect(((await aborted) as Error).name).to.equal('AbortError');
      buffer.record([{ index: 1, key: '/k' }]);
      expect(await staying).to.deep.equal({ index: 1, changedKeys: ['/k'] });
    });

    it('rejects a wait on an already aborted signal with its reason, even with changes ready', async () => {
      const buffer = new WatchEventBuffer(0);
      buffer.record([{ index: 1, key: '/k' }]);
      const reason = new Error('stop');
      expect(await rejection(buffer.wait(0, AbortSignal.abort(reason)))).to.equal(reason);
    });
  });
});

describe('counted indexes', () => {
  it('numbers changes above every index handed out before, one index per batch', () => {
    const start = nextChangeIndex();
    const changes = countedChanges(['/a', '/b']);
    expect(changes.map((c) => c.key)).to.deep.equal(['/a', '/b']);
    expect(changes[0]?.index).to.be.greaterThan(start);
    expect(changes[1]?.index).to.equal(changes[0]?.index);
    expect(countedChanges(undefined)).to.deep.equal([{ index: nextChangeIndex() - 1, key: undefined }]);
  });

  it('records nothing and takes no index for an empty batch', () => {
    const buffer = new WatchEventBuffer(nextChangeIndex());
    const start = buffer.latest;
    buffer.record(countedChanges([]));
    expect(buffer.latest).to.equal(start);
    expect(nextChangeIndex()).to.equal(start + 1);
  });

  it('tells a caller with an index from an earlier buffer to re-read everything', async () => {
    const earlier = new WatchEventBuffer(nextChangeIndex());
    earlier.record(countedChanges(['/k']));
    const handedOut: WatchResult = await earlier.wait(earlier.latest - 1, never());
    const later = new WatchEventBuffer(nextChangeIndex());
    later.record(countedChanges(['/k']));
    expect(await later.wait(handedOut.index, never())).to.deep.equal({ index: later.latest });
  });
});

describe('untilAborted', () => {
  it('settles as the promise does while the signal is not aborted', async () => {
    expect(await untilAborted(Promise.resolve(7), never())).to.equal(7);
    const failure = new Error('failed');
    expect(await rejection(untilAborted(Promise.reject(failure), never()))).to.equal(failure);
  });

  it('rejects with the abort reason as soon as the signal aborts, without waiting for the promise', async () => {
    const controller = new AbortController();
    const waiting = rejection(untilAborted(new Promise(() => undefined), controller.signal));
    controller.abort();
    expect(((await waiting) as Error).name).to.equal('AbortError');
    const reason = new Error('stop');
    expect(await rejection(untilAborted(Promise.resolve(1), AbortSignal.abort(reason)))).to.equal(reason);
  });

  it('leaves no failure of the work unhandled when the signal was aborted before the call', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown): void => void unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      let fail: (err: Error) => void = () => undefined;
      const work = new Promise<never>((_, reject) => (fail = reject));
      const reason = new Error('stop');
      expect(await rejection(untilAborted(work, AbortSignal.abort(reason)))).to.equal(reason);
      fail(new Error('the work failed later'));
      await new Promise((resolve) => setImmediate(resolve));
      expect(unhandled).to.deep.equal([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  it('falls back to a DOMException AbortError when the signal carries no reason', () => {
    const signal = { reason: undefined } as unknown as AbortSignal;
    const reason = abortReason(signal);
    expect(reason).to.be.instanceOf(DOMException);
    expect((reason as DOMException).name).to.equal('AbortError');
  });
});
