import { expect } from 'chai';
import { PerformanceObserver, constants, performance } from 'node:perf_hooks';
import type { PerformanceEntry } from 'node:perf_hooks';
import { allowFullCollections, collectGarbage } from '../../src/collect-garbage.js';

/**
 * The kinds of the garbage collections V8 started while `run` ran (perf_hooks 'gc' entries). Only those
 * that began inside the synchronous call count: V8 also collects on its own, at moments of its choosing.
 */
async function collectionsDuring(run: () => void): Promise<number[]> {
  const entries: PerformanceEntry[] = [];
  const observer = new PerformanceObserver((list) => entries.push(...list.getEntries()));
  observer.observe({ entryTypes: ['gc'] });
  try {
    const from = performance.now();
    run();
    const to = performance.now();
    // Entries are delivered after the collection, on a later turn of the loop.
    await new Promise((resolve) => setTimeout(resolve, 20));
    return entries
      .filter((e) => e.startTime >= from && e.startTime <= to)
      .map((e) => (e as PerformanceEntry & { detail?: { kind: number } }).detail?.kind ?? -1);
  } finally {
    observer.disconnect();
  }
}

describe('collectGarbage', () => {
  // One process, so one order: nothing allows collections before this file (only a run's V8 tuning does).
  it('does nothing until the run allows it', async () => {
    expect(await collectionsDuring(collectGarbage)).to.deep.equal([]);
  });

  it('runs a full (major) collection once allowed, and again when asked again', async () => {
    allowFullCollections();
    for (let i = 0; i < 2; i++) {
      expect(await collectionsDuring(collectGarbage)).to.include(constants.NODE_PERFORMANCE_GC_MAJOR);
    }
  });

  it('frees what only a WeakRef holds', async () => {
    const ref = new WeakRef({ big: new Array<number>(200_000).fill(2) });
    // A WeakRef keeps its target alive until the current job ends.
    await new Promise((resolve) => setImmediate(resolve));
    collectGarbage();
    expect(ref.deref()).to.equal(undefined);
  });
});
