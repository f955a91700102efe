import { expect } from 'chai';
import { ChangeLog, changedKeys } from '../../../src/backends/file-changes.js';

const never = new AbortController().signal;

describe('file backend change log', () => {
  it('diffs two snapshots into created, changed and deleted keys', () => {
    expect(
      changedKeys({ '/a': '1', '/b': '2', '/c': '3' }, { '/a': '1', '/b': '20', '/d': '4' }),
    ).to.deep.equal(['/b', '/c', '/d']);
    expect(changedKeys({ '/a': '1' }, { '/a': '1' })).to.deep.equal([]);
  });

  it('answers with every change under the prefix after the index, buffered between waits', async () => {
    const log = new ChangeLog();
    const start = log.index;
    log.record(['/app/a']);
    log.record(['/other/x']);
    log.record(['/app/b']);
    expect(await log.wait('/app', start, never)).to.deep.equal({
      index: start + 3,
      changedKeys: ['/app/a', '/app/b'],
    });
    expect(await log.wait('/other', start + 1, never)).to.deep.equal({
      index: start + 3,
      changedKeys: ['/other/x'],
    });
  });

  it('ignores an empty change and keeps a wait open until its prefix changes', async () => {
    const log = new ChangeLog();
    const start = log.index;
    log.record([]);
    expect(log.index).to.equal(start);
    let result: unknown;
    void log.wait('/app', start, never).then((r) => (result = r));
    log.record(['/appx/a']);
    await Promise.resolve();
    expect(result).to.equal(undefined);
    log.record(['/app/a']);
    await Promise.resolve();
    expect(result).to.deep.equal({ index: start + 2, changedKeys: ['/app/a'] });
  });

  it('says "anything may have changed" for an unknown change, or when the caller fell too far behind', async () => {
    const log = new ChangeLog();
    const start = log.index;
    log.record(undefined);
    expect(await log.wait('/app', start, never)).to.deep.equal({ index: start + 1 });
    for (let i = 0; i < 2000; i++) log.record([`/app/${i}`]);
    expect(await log.wait('/app', start + 1, never)).to.deep.equal({ index: log.index });
    expect((await log.wait('/app', log.index - 1, never)).changedKeys).to.deep.equal(['/app/1999']);
  });

  it('rejects pending waits on failure and on abort', async () => {
    const log = new ChangeLog();
    const failing = log.wait('/', log.index, never);
    log.failWaiters(new Error('watch broke'));
    await failing.then(
      () => expect.fail('expected a rejection'),
      (err: Error) => expect(err.message).to.equal('watch broke'),
    );
    const controller = new AbortController();
    const aborted = log.wait('/', log.index, controller.signal);
    controller.abort();
    await aborted.then(
      () => expect.fail('expected a rejection'),
      (err: Error) => expect(err.name).to.equal('AbortError'),
    );
  });
});
