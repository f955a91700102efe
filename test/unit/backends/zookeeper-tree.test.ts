import { expect } from 'chai';
import type { ZkNodeReader, ZkStat } from '../../../src/backends/zookeeper-session-types.js';
import { readNodes, ReadSteps } from '../../../src/backends/zookeeper-tree.js';

/**
 * A tree of `width` leaves under /k, read through a fake reader on a fake clock: every read's answer
 * arrives `roundTripMs` after the step that asked for it started (one round trip per step, as a batch
 * pipelined to a distant server). Records how many reads each step had in flight.
 */
function distantTree(width: number, roundTripMs: number) {
  let clock = 0;
  let inFlight = 0;
  const steps: number[] = [];
  const stat = (numChildren: number): ZkStat => ({ czxid: 1, mzxid: 1, pzxid: 1, numChildren });
  const answer = async <T>(value: T): Promise<T> => {
    inFlight += 1;
    // Every read of a step is asked for in the same turn; the step's end is the round trip.
    await Promise.resolve();
    if (inFlight > 0) {
      steps.push(inFlight);
      inFlight = 0;
      clock += roundTripMs;
    }
    return value;
  };
  const names = Array.from({ length: width }, (_, i) => `n${i}`);
  const reader: ZkNodeReader = {
    getData: (path) =>
      answer(path === '/k' ? { data: '', stat: stat(width) } : { data: path.slice(3), stat: stat(0) }),
    getChildren: (path) => answer(path === '/k' ? { children: names } : { children: [] }),
    exists: () => Promise.resolve(undefined),
  };
  return { reader, steps, now: () => clock };
}

describe('ZooKeeper subtree reads (readNodes, ReadSteps)', () => {
  it('reads a wide level 128 at a time from a near server, and every node of it', async () => {
    const { reader, steps, now } = distantTree(1_000, 1);
    const nodes = await readNodes(reader, '/k', undefined, new ReadSteps(now));
    expect(nodes.size).to.equal(1_001);
    expect(nodes.get('/k/n999')?.data).to.equal('n999');
    expect(Math.max(...steps.slice(2))).to.equal(128);
  });

  it('reads more at a time from a distant server, up to 1,024, in far fewer round trips', async () => {
    const { reader, steps, now } = distantTree(10_000, 20);
    const nodes = await readNodes(reader, '/k', undefined, new ReadSteps(now));
    expect(nodes.size).to.equal(10_001);
    // /k's data and its children (one step of two round trips: slow), then the leaves: 256, 512, then
    // 1,024 at a time.
    expect(steps.slice(2, 6)).to.deep.equal([256, 512, 1024, 1024]);
    // 14 round trips in all (2 for /k, 12 for its leaves), where 128 at a time took 81.
    expect(steps.length).to.equal(14);
  });

  it('comes back down to 128 once the steps are fast again', async () => {
    let clock = 0;
    const sizes: number[] = [];
    const steps = new ReadSteps(() => clock);
    for (const took of [20, 20, 20, 20, 1, 1, 1, 1]) {
      sizes.push(steps.size);
      await steps.step(() => Promise.resolve((clock += took)));
    }
    expect(sizes).to.deep.equal([128, 256, 512, 1024, 1024, 512, 256, 128]);
    expect(steps.size).to.equal(128);
  });
});
