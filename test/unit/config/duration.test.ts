import { expect } from 'chai';
import {
  DurationTooLongError,
  MAX_DURATION_MS,
  checkTimerRange,
  parseDuration,
} from '../../../src/config/duration.js';

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

  describe('the timer ceiling (setTimeout fires anything above 2^31-1 ms after 1 ms)', () => {
    it('accepts exactly 2147483647 ms, however it is written', () => {
      expect(MAX_DURATION_MS).to.equal(2 ** 31 - 1);
      expect(parseDuration('2147483647ms')).to.equal(MAX_DURATION_MS);
      expect(parseDuration('596h31m23.647s')).to.equal(MAX_DURATION_MS);
      expect(parseDuration('2147483.647')).to.equal(MAX_DURATION_MS);
    });

    for (const long of ['2147483648ms', '1000h', '596h31m24s', '2200000', '9'.repeat(400)]) {
      it(`rejects ${long.length > 20 ? 'a 400-digit number' : long}, naming it and the limit`, () => {
        let thrown: unknown;
        try {
          parseDuration(long);
        } catch (err) {
          thrown = err;
        }
        expect(thrown).to.be.instanceOf(DurationTooLongError).and.instanceOf(RangeError);
        const err = thrown as DurationTooLongError;
        expect(err.input).to.equal(long);
        expect(err.message).to.equal(`invalid duration "${long}": ${err.reason}`);
        expect(err.reason).to.include('2147483647 ms').and.include('24.8 days');
      });
    }

    it('checks values computed elsewhere (TOML seconds) against the same limit', () => {
      expect(checkTimerRange(MAX_DURATION_MS, 'x')).to.equal(MAX_DURATION_MS);
      expect(() => checkTimerRange(2_200_000_000, '2200000')).to.throw(
        DurationTooLongError,
        /invalid duration "2200000"/,
      );
    });
  });
});
