import { expect } from 'chai';
import { SharedWatches, type WatchSource } from '../../../src/backends/shared-watches.js';
import type { WatchResult } from '../../../src/backends/store-client.js';
import { WatchEventBuffer } from '../../../src/backends/watch-event-buffer.js';
import { BackendError } from '../../../src/errors.js';
import { never, rejection } from '../../support/async.js';

/** A source whose arming the test completes (or fails) by hand, recording what was done to it. */
class FakeSource implements WatchSource {
  readonly changes = new WatchEventBuffer(100);
  closedWith: BackendError[] = [];
  failure: Error | undefined;
  private armed!: { resolve: (index: number) => void; reject: (err: Error) => void };
  private readonly arming: Promise<number>;
  armCalls = 0;

  constructor(
    readonly prefix: string,
    autoArm: boolean,
  ) {
    this.arming = new Promise<number>((resolve, reject) => (this.armed = { resolve, reject }));
    this.arming.catch(() => undefined);
    if (autoArm) this.armed.resolve(100);
  }

  get failed(): boolean {
    return this.failure !== undefined;
  }

  arm(): Promise<number> {
    this.armCalls += 1;
    return this.arming;
  }

  finishArming(index = 100): void {
    this.armed.resolve(index);
  }

  failArming(err: Error): void {
    this.failure = err;
    this.armed.reject(err);
  }

  /** The store-side watch broke (connection lost): waiters are told, the source stays failed. */
  breakDown(err: BackendError): void {
    this.failure = err;
    this.changes.fail(err);
  }

  wait(afterIndex: number, _keys: readonly string[], signal: AbortSignal): Promise<WatchResult> {
    return this.changes.wait(afterIndex, signal);
  }

  close(err: BackendError): void {
    this.closedWith.push(err);
    this.failure ??= err;
    this.changes.fail(err);
  }
}

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

describe('SharedWatches', () => {
  let opened: FakeSource[];
  let autoArm: boolean;
  let watches: SharedWatches<FakeSource>;

  beforeEach(() => {
    opened = [];
    autoArm = true;
    watches = new SharedWatches(
      (prefix) => {
        const source = new FakeSource(prefix, autoArm);
        opened.push(source);
        return source;
      },
      { backend: 'test', endpoints: ['store:1'] },
    );
  });

  describe('sharing', () => {
    it('gives every holder of a prefix the one source, however the prefix is spelled', async () => {
      const a = await watches.acquire('/app');
      const b = await watches.acquire('/app/');
      const c = await watches.acquire('app//');
      expect(opened.map((s) => s.prefix)).to.deep.equal(['/app']);
      expect([a.prefix, b.prefix, c.prefix]).to.deep.equal(['/app', '/app', '/app']);
      expect([a.index, b.index, c.index]).to.deep.equal([100, 100, 100]);
      expect(watches.size).to.equal(1);
      // One change reaches every holder.
      const waiting = [a, b, c].map((w) => w.next(w.index, [], { signal: never() }));
      opened[0]?.changes.record([{ index: 101, key: '/app/k' }]);
      for (const result of await Promise.all(waiting)) {
        expect(result).to.deep.equal({ index: 101, changedKeys: ['/app/k'] });
      }
    });

    it('opens one source per prefix', async () => {
      await watches.acquire('/app');
      await watches.acquire('/other');
      await watches.acquire('/app/db');
      expect(opened.map((s) => s.prefix)).to.deep.equal(['/app', '/other', '/app/db']);
      expect(watches.size).to.equal(3);
      expect(watches.sources()).to.deep.equal(opened);
    });

    it('lets holders arriving while the source arms share that arming', async () => {
      autoArm = false;
      const first = watches.acquire('/app');
      const second = watches.acquire('/app');
      expect(await settled(first)).to.equal(false);
      opened[0]?.finishArming(42);
      expect((await first).index).to.equal(42);
      expect((await second).index).to.equal(42);
      expect(opened).to.have.length(1);
    });
  });

  describe('release', () => {
    it('ends the store-side watch with its last holder only', async () => {
      const a = await watches.acquire('/app');
      const b = await watches.acquire('/app');
      a.release();
      expect(opened[0]?.closedWith).to.deep.equal([]);
      expect(watches.size).to.equal(1);
      b.release();
      expect(opened[0]?.closedWith).to.have.length(1);
      expect(opened[0]?.closedWith[0]).to.be.instanceOf(BackendError);
      expect(opened[0]?.closedWith[0]?.message).to.contain('/app').and.to.contain('released');
      expect(watches.size).to.equal(0);
    });

    it('is idempotent: releasing one holder twice does not release another', async () => {
      const a = await watches.acquire('/app');
      const b = await watches.acquire('/app');
      a.release();
      a.release();
      expect(opened[0]?.closedWith).to.deep.equal([]);
      const waiting = b.next(b.index, [], { signal: never() });
      opened[0]?.changes.record([{ index: 101, key: '/app/x' }]);
      expect((await waiting).changedKeys).to.deep.equal(['/app/x']);
      b.release();
      b.release();
      expect(opened[0]?.closedWith).to.have.length(1);
    });

    it('rejects the waits of a released holder with a BackendError, and its later calls', async () => {
      const a = await watches.acquire('/app');
      const b = await watches.acquire('/app');
      a.release();
      const err = await rejection(a.next(a.index, [], { signal: never() }));
      expect(err).to.be.instanceOf(BackendError);
      expect(err.message).to.contain('released');
      // The other holder is not affected.
      const waiting = b.next(b.index, [], { signal: never() });
      opened[0]?.changes.record([{ index: 101, key: '/app/x' }]);
      expect((await waiting).index).to.equal(101);
    });

    it('rejects a wait in progress when the last holder releases', async () => {
      const a = await watches.acquire('/app');
      const waiting = rejection(a.next(a.index, [], { signal: never() }));
      a.release();
      expect(await waiting).to.be.instanceOf(BackendError);
    });

    it('opens a new source for a prefix armed again after its last holder released it', async () => {
      const a = await watches.acquire('/app');
      a.release();
      const b = await watches.acquire('/app');
      expect(opened).to.have.length(2);
      expect(opened[1]?.closedWith).to.deep.equal([]);
      expect(b.index).to.equal(100);
    });
  });

  describe('after a failure', () => {
    it('gives the next holder a fresh source, while holders of the failed one are told', async () => {
      const a = await watches.acquire('/app');
      const waiting = rejection(a.next(a.index, [], { signal: never() }));
      const lost = new BackendError('test: connection lost', 'test');
      opened[0]?.breakDown(lost);
      expect(await waiting).to.equal(lost);
      // A failed source stays failed: a later wait on it rejects as well.
      expect(await rejection(a.next(a.index, [], { signal: never() }))).to.equal(lost);
      expect(watches.sources()).to.deep.equal([]);

      const b = await watches.acquire('/app');
      expect(opened).to.have.length(2);
      expect(opened[1]?.armCalls).to.equal(1);
      const fresh = b.next(b.index, [], { signal: never() });
      opened[1]?.changes.record([{ index: 101, key: '/app/k' }]);
      expect((await fresh).changedKeys).to.deep.equal(['/app/k']);

      // Releasing the failed holder closes the failed source, not the fresh one.
      a.release();
      expect(opened[0]?.closedWith).to.have.length(1);
      expect(opened[1]?.closedWith).to.deep.equal([]);
      expect(watches.size).to.equal(1);
      b.release();
      expect(opened[1]?.closedWith).to.have.length(1);
      expect(watches.size).to.equal(0);
    });

    it('holds nothing when arming fails: the source is closed and the next acquire opens another', async () => {
      autoArm = false;
      const first = watches.acquire('/app');
      const refused = new BackendError('test: permission denied', 'test');
      opened[0]?.failArming(refused);
      expect(await rejection(first)).to.equal(refused);
      expect(opened[0]?.closedWith).to.have.length(1);
      expect(watches.size).to.equal(0);
      autoArm = true;
      const second = await watches.acquire('/app');
      expect(opened).to.have.length(2);
      expect(second.index).to.equal(100);
    });
  });

  describe('aborting', () => {
    it('rejects at once with the reason for a signal aborted before the call, opening nothing', async () => {
      const reason = new Error('stopping');
      const err = await rejection(watches.acquire('/app', AbortSignal.abort(reason)));
      expect(err).to.equal(reason);
      expect(opened).to.deep.equal([]);
    });

    it('stops waiting for an arming that hangs, holds nothing, and leaves the other holders their watch', async () => {
      autoArm = false;
      const controller = new AbortController();
      const abandoned = watches.acquire('/app', controller.signal);
      const staying = watches.acquire('/app');
      controller.abort();
      const err = await rejection(abandoned);
      expect(err.name).to.equal('AbortError');
      // The other holder still waits for the same arming, and the source is not closed under it.
      expect(opened[0]?.closedWith).to.deep.equal([]);
      opened[0]?.finishArming(7);
      const watch = await staying;
      expect(watch.index).to.equal(7);
      watch.release();
      expect(opened[0]?.closedWith).to.have.length(1);
      expect(opened).to.have.length(1);
    });

    it('closes the source of a prefix whose only holder gave up arming', async () => {
      autoArm = false;
      const controller = new AbortController();
      const abandoned = watches.acquire('/app', controller.signal);
      controller.abort(new Error('shutdown'));
      expect((await rejection(abandoned)).message).to.equal('shutdown');
      expect(opened[0]?.closedWith).to.have.length(1);
      expect(watches.size).to.equal(0);
    });

    it("rejects a holder's wait with the reason of its own signal", async () => {
      const watch = await watches.acquire('/app');
      const controller = new AbortController();
      const waiting = watch.next(watch.index, [], { signal: controller.signal });
      controller.abort(new Error('enough'));
      expect((await rejection(waiting)).message).to.equal('enough');
      expect((await rejection(watch.next(watch.index, [], { signal: controller.signal }))).message).to.equal(
        'enough',
      );
      // The watch itself is fine.
      const next = watch.next(watch.index, [], { signal: never() });
      opened[0]?.changes.record([{ index: 101, key: '/app/k' }]);
      expect((await next).index).to.equal(101);
    });
  });

  describe('closeAll', () => {
    it('closes every source with the error, waits for them, and refuses later acquires with it', async () => {
      const a = await watches.acquire('/app');
      await watches.acquire('/other');
      const waiting = rejection(a.next(a.index, [], { signal: never() }));
      const closed = new BackendError('test: client is closed', 'test');
      await watches.closeAll(closed);
      expect(opened.map((s) => s.closedWith)).to.deep.equal([[closed], [closed]]);
      expect(await waiting).to.equal(closed);
      expect(watches.size).to.equal(0);
      expect(await rejection(watches.acquire('/app'))).to.equal(closed);
      expect(opened).to.have.length(2);
      // Releasing a holder afterwards closes nothing twice.
      a.release();
      expect(opened[0]?.closedWith).to.have.length(1);
    });

    it('resolves only once an asynchronous close has finished', async () => {
      let finish!: () => void;
      const slow = new SharedWatches<WatchSource>(
        () => ({
          failed: false,
          arm: async () => 1,
          wait: () => new Promise<WatchResult>(() => undefined),
          close: () => new Promise<void>((resolve) => (finish = resolve)),
        }),
        { backend: 'test', endpoints: [] },
      );
      await slow.acquire('/app');
      const closing = slow.closeAll(new BackendError('test: closed', 'test'));
      expect(await settled(closing)).to.equal(false);
      finish();
      await closing;
    });
  });
});
