import { expect } from 'chai';
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
});
