import { expect } from 'chai';
import { formatFileMode, parseFileMode } from '../../../src/resources/file-mode.js';

describe('parseFileMode', () => {
  it('reads octal strings with or without a leading 0 or 0o', () => {
    expect(parseFileMode('0644')).to.equal(0o644);
    expect(parseFileMode('644')).to.equal(0o644);
    expect(parseFileMode('0o2755')).to.equal(0o2755);
  });

  it('rejects non-octal and too-large modes', () => {
    for (const bad of ['', '0x1ff', '0648', '17777', 'rw-r--r--'])
      expect(() => parseFileMode(bad), bad).to.throw();
  });

  it('formats modes with a leading zero', () => {
    expect(formatFileMode(0o644)).to.equal('0644');
    expect(formatFileMode(0o4755)).to.equal('04755');
  });
});
