import { expect } from 'chai';
import { WatchEventBuffer } from '../../../src/backends/watch-event-buffer.js';

const never = (): AbortSignal => new AbortController().signal;
const all = (): boolean => true;

describe('WatchEventBuffer', () => {
  it('answers at once with every change after the index, several sharing one index included', async () => {
    const buffer = new WatchEventBuffer(10);
    buffer.record([
      { index: 11, key: '/a' },
      { index: 12, key: '/b' },
      { index: 12, key: '/c' },
    ]);
    expect(await buffer.wait(10, all, never())).to.deep.equal({ index: 12, changedKeys: ['/a', '/b', '/c'] });
    expect(await buffer.wait(11, all, never())).to.deep.equal({ index: 12, changedKeys: ['/b', '/c'] });
  });

  it('waits for a relevant change, skipping others, and reports the newest index', async () => {
    const buffer = new WatchEventBuffer(1);
    const waiting = buffer.wait(1, (key) => key.startsWith('/mine'), never());
    buffer.record([{ index: 2, key: '/other' }]);
    buffer.record([{ index: 3, key: '/mine/x' }]);
    expect(await waiting).to.deep.equal({ index: 3, changedKeys: ['/mine/x'] });
  });

  it('reports each key once however often it changed', async () => {
    const buffer = new WatchEventBuffer(0);
    for (let i = 1; i <= 5; i++) buffer.record([{ index: i, key: '/k' }]);
    expect(await buffer.wait(0, all, never())).to.deep.equal({ index: 5, changedKeys: ['/k'] });
  });

  it('answers "re-read everything" for a resync marker and for an index older than what it holds', async () => {
    const buffer = new WatchEventBuffer(20);
    expect(await buffer.wait(5, all, never())).to.deep.equal({ index: 20 });
    buffer.record([{ index: 21, key: '/a' }]);
    buffer.record([{ index: 30, key: undefined }]);
    expect(await buffer.wait(20, all, never())).to.deep.equal({ index: 30 });
    buffer.record([{ index: 31, key: '/b' }]);
    expect(await buffer.wait(30, all, never())).to.deep.equal({ index: 31, changedKeys: ['/b'] });
  });

  it('drops its oldest half past its capacity and sends callers that far behind to a full re-read', async () => {
    const buffer = new WatchEventBuffer(0, 4);
    for (let i = 1; i <= 5; i++) buffer.record([{ index: i, key: `/k${i}` }]);
    expect(await buffer.wait(0, all, never())).to.deep.equal({ index: 5 });
    expect(await buffer.wait(3, all, never())).to.deep.equal({ index: 5, changedKeys: ['/k4', '/k5'] });
  });

  it('ignores an index going back', async () => {
    const buffer = new WatchEventBuffer(0);
    buffer.record([{ index: 5, key: '/new' }]);
    buffer.record([{ index: 3, key: '/old' }]);
    expect(await buffer.wait(0, all, never())).to.deep.equal({ index: 5, changedKeys: ['/new'] });
  });

  it('rejects an aborted wait with the AbortError and leaves the other waits alone', async () => {
    const buffer = new WatchEventBuffer(0);
    const controller = new AbortController();
    const aborted = buffer.wait(0, all, controller.signal);
    const staying = buffer.wait(0, all, never());
    controller.abort();
    expect(((await aborted.catch((e: unknown) => e)) as Error).name).to.equal('AbortError');
    buffer.record([{ index: 1, key: '/k' }]);
    expect(await staying).to.deep.equal({ index: 1, changedKeys: ['/k'] });
  });

  it('rejects current and later waits with the failure', async () => {
    const buffer = new WatchEventBuffer(0);
    const waiting = buffer.wait(0, all, never()).catch((e: unknown) => e);
    const failure = new Error('connection lost');
    buffer.fail(failure);
    expect(await waiting).to.equal(failure);
    expect(await buffer.wait(0, all, never()).catch((e: unknown) => e)).to.equal(failure);
  });
});
