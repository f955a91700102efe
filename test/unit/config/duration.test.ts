import { expect } from 'chai';
import { parseDuration } from '../../../src/config/duration.js';

describe('parseDuration', () => {
  for (const [text, ms] of [
    ['2s', 2000],
    ['500ms', 500],
    ['5m', 300_000],
    ['1h30m', 5_400_000],
    ['1.5s', 1500],
    ['.5s', 500],
    ['250us', 0.25],
    ['250µs', 0.25],
    ['1m30s500ms', 90_500],
    ['0', 0],
  ] as const) {
    it(`reads ${text} as ${ms} ms`, () => {
      expect(parseDuration(text)).to.equal(ms);
    });
  }

  it('reads a plain number as seconds by default', () => {
    expect(parseDuration('5')).to.equal(5000);
    expect(parseDuration('0.25')).to.equal(250);
  });

  it('rejects a plain number when plainSeconds is false, except Go’s unitless 0', () => {
    expect(() => parseDuration('5', { plainSeconds: false })).to.throw(RangeError, /invalid duration "5"/);
    expect(parseDuration('0', { plainSeconds: false })).to.equal(0);
  });

  for (const bad of ['', 'abc', '5x', 's', '5s garbage', '-5s', '1h 30m', '5sm']) {
    it(`rejects ${JSON.stringify(bad)} with a message naming the input and the accepted forms`, () => {
      expect(() => parseDuration(bad)).to.throw(
        RangeError,
        new RegExp(`invalid duration "${bad}".*500ms, 5s`),
      );
    });
  }
});
