import { expect } from 'chai';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { collectGarbage } from '../../src/collect-garbage.js';

describe('collectGarbage', () => {
  it('runs a full collection: an object only a WeakRef holds is gone afterwards', async () => {
    // Old-space objects (a large array goes straight there) are only freed by a full collection; nothing
    // but the WeakRef holds this one.
    const ref = new WeakRef(new Array<number>(200_000).fill(1));
    // A WeakRef keeps its target alive until the current job ends.
    await nextTurn();
    collectGarbage();
    expect(ref.deref()).to.equal(undefined);
  });

  it('can run again', async () => {
    const ref = new WeakRef({ big: new Array<number>(200_000).fill(2) });
    await nextTurn();
    collectGarbage();
    expect(ref.deref()).to.equal(undefined);
  });
});
