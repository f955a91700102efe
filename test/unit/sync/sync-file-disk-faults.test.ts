import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { SyncError } from '../../../src/errors.js';
import type { SyncFsOps, SyncRequest } from '../../../src/sync/sync-file.js';
import { syncFile } from '../../../src/sync/sync-file.js';
import { rejection } from '../../support/async.js';
import { RecordingLogger } from '../../support/loggers.js';
import { Tmpfs } from '../../support/tmpfs.js';

/** Real filesystems that fail: a tmpfs that runs out of space, then one that is read-only. Needs root. */
describe('syncFile on a failing filesystem (tmpfs, needs root)', () => {
  let fs: Tmpfs;
  let dest: string;
  let logger: RecordingLogger;
  // Distinct random bytes (as text), so "byte for byte" cannot pass by accident with repeated content.
  const oldContent = randomBytes(4096).toString('hex'); // 8 KiB
  const newContent = randomBytes(16384).toString('hex'); // 32 KiB

  before(async () => {
    fs = await Tmpfs.mount('64k');
  });
  after(async () => {
    await fs?.unmount();
  });
  beforeEach(async () => {
    await fs.remount('rw');
    for (const name of await readdir(fs.dir)) await rm(fs.path(name), { recursive: true, force: true });
    dest = fs.path('app.conf');
    await writeFile(dest, oldContent);
    logger = new RecordingLogger();
  });

  const request = (content = newContent): SyncRequest => ({
    dest,
    content,
    checkCmdTimeoutMs: 10_000,
    noop: false,
    syncOnly: false,
    keepStageFile: false,
  });

  async function expectOldDestAndNoStageFile(): Promise<void> {
    expect(await readFile(dest, 'utf8')).to.equal(oldContent);
    expect((await readdir(fs.dir)).filter((n) => n.endsWith('.confd-stage'))).to.deep.equal([]);
  }

  it('disk full: fails naming dest, keeps the old file byte for byte, leaves no stage file; succeeds once space is back', async () => {
    // 8 KiB free: the kernel takes the first 8 KiB of the 32 KiB stage write (a short count, no error).
    await fs.fill('filler', 8192);
    const err = await rejection(syncFile(request(), logger));
    expect(err).to.be.instanceOf(SyncError);
    expect((err as SyncError).dest).to.equal(dest);
    expect(err.message).to.include(dest).and.include('ENOSPC');
    await expectOldDestAndNoStageFile();

    await rm(fs.path('filler'));
    expect(await syncFile(request(), logger)).to.deep.include({ status: 'updated' });
    expect(await readFile(dest, 'utf8')).to.equal(newContent);
  });

  it('disk full with no space at all: same, the stage file never gets a byte', async () => {
    await fs.fill('filler', 0);
    const err = await rejection(syncFile(request(), logger));
    expect(err).to.be.instanceOf(SyncError);
    expect(err.message).to.include(dest);
    await expectOldDestAndNoStageFile();
    await rm(fs.path('filler'));
    expect((await syncFile(request(), logger)).status).to.equal('updated');
  });

  it('disk full while writing in place (bind-mounted dest): the old content is written back in full', async () => {
    const bindMounted: Partial<SyncFsOps> = {
      rename: () => Promise.reject(Object.assign(new Error('EBUSY: simulated'), { code: 'EBUSY' })),
    };
    // Room for the 32 KiB stage file is needed first; then the in-place write into dest runs out.
    await fs.fill('filler', 36 * 1024);
    const inode = (await stat(dest)).ino;
    const err = await rejection(syncFile(request(), logger, bindMounted));
    expect(err).to.be.instanceOf(SyncError);
    expect(err.message).to.include(dest).and.include('ENOSPC');
    expect(err.message).not.to.include('may be incomplete');
    expect((await stat(dest)).ino).to.equal(inode);
    await expectOldDestAndNoStageFile();

    await rm(fs.path('filler'));
    expect((await syncFile(request(), logger, bindMounted)).status).to.equal('updated');
    expect(await readFile(dest, 'utf8')).to.equal(newContent);
  });

  it('read-only filesystem: fails naming dest, keeps the old file; succeeds once writable again', async () => {
    await fs.remount('ro');
    const err = await rejection(syncFile(request(), logger));
    expect(err).to.be.instanceOf(SyncError);
    expect((err as SyncError).dest).to.equal(dest);
    expect(err.message).to.include(dest).and.include('EROFS');
    await expectOldDestAndNoStageFile();

    await fs.remount('rw');
    expect((await syncFile(request(), logger)).status).to.equal('updated');
    expect(await readFile(dest, 'utf8')).to.equal(newContent);
  });
});
