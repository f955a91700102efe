import { expect } from 'chai';
import { changedKeys as changedKeysOf } from '../../../src/backends/changed-keys.js';

const changedKeys = (before: Record<string, string>, after: Record<string, string>): string[] =>
  changedKeysOf(new Map(Object.entries(before)), new Map(Object.entries(after)));

describe('changedKeys', () => {
  it('lists the keys created, changed and deleted between two listings, sorted', () => {
    expect(
      changedKeys({ '/c': '3', '/b': '2', '/a': '1' }, { '/d': '4', '/a': '1', '/b': '20' }),
    ).to.deep.equal(['/b', '/c', '/d']);
  });

  it('lists nothing for equal listings, and counts an empty value as a value', () => {
    expect(changedKeys({ '/a': '1', '/e': '' }, { '/e': '', '/a': '1' })).to.deep.equal([]);
    expect(changedKeys({ '/e': '' }, {})).to.deep.equal(['/e']);
    expect(changedKeys({}, { '/e': '' })).to.deep.equal(['/e']);
  });

  it('does not mistake keys named like Object.prototype members for existing ones', () => {
    expect(changedKeys({ constructor: 'x' }, {})).to.deep.equal(['constructor']);
    expect(changedKeys({}, { toString: 'x' })).to.deep.equal(['toString']);
  });
});
