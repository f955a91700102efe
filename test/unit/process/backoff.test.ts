import { expect } from 'chai';
import { backoffDelay, WATCH_BACKOFF } from '../../../src/process/backoff.js';

describe('backoffDelay', () => {
  it('doubles the step per attempt, with half of it random', () => {
    expect([0, 1, 2, 3].map((attempt) => backoffDelay(attempt, () => 0))).to.deep.equal([
      250, 500, 1000, 2000,
    ]);
    expect([0, 1, 2, 3].map((attempt) => backoffDelay(attempt, () => 0.999999))).to.satisfy(
      (delays: number[]) => delays.every((d, i) => d < 500 * 2 ** i && d > 500 * 2 ** i * 0.99),
    );
  });

  it('stays within [step/2, step) and never exceeds the 30 s cap, however long the outage', () => {
    for (const attempt of [0, 5, 6, 7, 20, 1000, Number.MAX_SAFE_INTEGER]) {
      for (const r of [0, 0.25, 0.5, 0.999999]) {
        const step = Math.min(WATCH_BACKOFF.capMs, WATCH_BACKOFF.baseMs * 2 ** Math.min(attempt, 32));
        const delay = backoffDelay(attempt, () => r);
        expect(delay).to.be.at.least(step / 2);
        expect(delay).to.be.below(step);
        expect(delay).to.be.at.most(30_000);
      }
    }
    expect(backoffDelay(1000, () => 0)).to.equal(15_000);
  });

  it('spreads retries with the random source', () => {
    expect(backoffDelay(3, () => 0.1)).to.not.equal(backoffDelay(3, () => 0.9));
  });
});
