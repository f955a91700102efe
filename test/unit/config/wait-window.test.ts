import { expect } from 'chai';
import { DurationTooLongError, MAX_DURATION_MS } from '../../../src/config/duration.js';
import { parseWaitWindow } from '../../../src/config/wait-window.js';

describe('parseWaitWindow', () => {
  it('reads min:max Go durations into milliseconds', () => {
    expect(parseWaitWindow('2s:10s')).to.deep.equal({ minMs: 2000, maxMs: 10000 });
    expect(parseWaitWindow('500ms:1m30s')).to.deep.equal({ minMs: 500, maxMs: 90000 });
    expect(parseWaitWindow('1:3')).to.deep.equal({ minMs: 1000, maxMs: 3000 });
  });

  it('takes a single duration as the minimum, with four times it as the maximum', () => {
    expect(parseWaitWindow('2s')).to.deep.equal({ minMs: 2000, maxMs: 8000 });
  });

  it('reads "0" as no wait at all', () => {
    expect(parseWaitWindow('0')).to.deep.equal({ minMs: 0, maxMs: 0 });
  });

  for (const bad of ['', 'soon', '2s:', ':2s', '1s:2s:3s', '-1s:2s', '2x:3s']) {
    it(`rejects "${bad}", saying what is accepted`, () => {
      expect(() => parseWaitWindow(bad)).to.throw(RangeError, /expected min:max durations/);
    });
  }

  it('rejects a maximum shorter than the minimum', () => {
    expect(() => parseWaitWindow('10s:2s')).to.throw(RangeError, /maximum is shorter than the minimum/);
  });

  for (const long of ['1000h', '1s:1000h', '1000h:2000h']) {
    it(`rejects "${long}": longer than a timer can wait`, () => {
      expect(() => parseWaitWindow(long)).to.throw(DurationTooLongError, /invalid duration "1000h"/);
    });
  }

  it('caps a derived maximum (4 x min) at the timer ceiling instead of overflowing it', () => {
    expect(parseWaitWindow('200h')).to.deep.equal({ minMs: 720_000_000, maxMs: MAX_DURATION_MS });
  });
});
