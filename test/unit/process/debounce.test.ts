import { expect } from 'chai';
import { DebounceQueue } from '../../../src/process/debounce.js';

const WAIT = { minMs: 2000, maxMs: 10000 };
const NOW = { minMs: 0, maxMs: 0 };

describe('DebounceQueue', () => {
  it('is empty until something is marked', () => {
    const q = new DebounceQueue<string>();
    expect(q.nextDueAt()).to.equal(undefined);
    expect(q.takeDue(1e9)).to.deep.equal([]);
  });

  it('makes an item due at once without a window', () => {
    const q = new DebounceQueue<string>();
    q.mark('a', NOW, 500);
    expect(q.nextDueAt()).to.equal(500);
    expect(q.takeDue(500)).to.deep.equal(['a']);
    expect(q.size).to.equal(0);
  });

  it('pushes the due time to min after the latest mark', () => {
    const q = new DebounceQueue<string>();
    q.mark('a', WAIT, 0);
    expect(q.nextDueAt()).to.equal(2000);
    q.mark('a', WAIT, 1500);
    expect(q.nextDueAt()).to.equal(3500);
    expect(q.takeDue(3499)).to.deep.equal([]);
    expect(q.takeDue(3500)).to.deep.equal(['a']);
  });

  it('never lets an item wait longer than max after its first mark', () => {
    const q = new DebounceQueue<string>();
    for (let t = 0; t <= 9500; t += 500) q.mark('a', WAIT, t);
    expect(q.nextDueAt()).to.equal(10000);
  });

  it('starts a new burst once an item was taken', () => {
    const q = new DebounceQueue<string>();
    q.mark('a', WAIT, 0);
    q.takeDue(2000);
    q.mark('a', WAIT, 9000);
    expect(q.nextDueAt()).to.equal(11000);
  });

  it('keeps the earliest deadline when windows differ, so an immediate mark is never held back', () => {
    const q = new DebounceQueue<string>();
    q.mark('a', WAIT, 0);
    q.mark('a', NOW, 100);
    expect(q.nextDueAt()).to.equal(100);
    q.mark('a', WAIT, 200);
    expect(q.nextDueAt()).to.equal(100);
  });

  it('takes only the due items, in the order they were first marked', () => {
    const q = new DebounceQueue<string>();
    q.mark('slow', WAIT, 0);
    q.mark('b', NOW, 10);
    q.mark('a', NOW, 20);
    q.mark('b', NOW, 30);
    expect(q.nextDueAt()).to.equal(10);
    expect(q.takeDue(30)).to.deep.equal(['b', 'a']);
    expect(q.nextDueAt()).to.equal(2000);
    expect(q.takeDue(2000)).to.deep.equal(['slow']);
  });
});
