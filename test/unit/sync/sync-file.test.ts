import { expect } from 'chai';
import { chmod, chown, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CommandError, SyncError } from '../../../src/errors.js';
import type { SyncFsOps, SyncRequest } from '../../../src/sync/sync-file.js';
import { syncFile } from '../../../src/sync/sync-file.js';
import { RecordingLogger } from '../../support/loggers.js';
import { rejection } from '../../support/async.js';

describe('syncFile', () => {
  let dir: string;
  let dest: string;
  let logger: RecordingLogger;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'confd-sync-'));
    dest = join(dir, 'app.conf');
    logger = new RecordingLogger();
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const request = (overrides: Partial<SyncRequest> = {}): SyncRequest => ({
    dest,
    content: 'new\n',
    checkCmdTimeoutMs: 10_000,
    noop: false,
    syncOnly: false,
    keepStageFile: false,
    ...overrides,
  });

  async function stageFiles(inDir = dir): Promise<string[]> {
    return (await readdir(inDir)).filter((name) => name.endsWith('.confd-stage'));
  }

  async function existingDest(content = 'old\n', mode = 0o644) {
    await writeFile(dest, content);
    await chmod(dest, mode);
    return stat(dest);
  }

  it('writes nothing when content and mode already match', async () => {
    const before = await existingDest('same\n', 0o640);
    const outcome = await syncFile(request({ content: 'same\n', mode: 0o640 }), logger);
    const after = await stat(dest);
    expect(outcome).to.deep.equal({ status: 'in-sync' });
    expect(after.ino).to.equal(before.ino);
    expect(after.mtimeMs).to.equal(before.mtimeMs);
    expect(await stageFiles()).to.deep.equal([]);
  });

  it('replaces dest atomically (a new inode) when the content changes', async () => {
    const before = await existingDest();
    const outcome = await syncFile(request(), logger);
    const after = await stat(dest);
    expect(outcome).to.deep.equal({ status: 'updated' });
    expect(await readFile(dest, 'utf8')).to.equal('new\n');
    expect(after.ino).to.not.equal(before.ino);
    expect(await stageFiles()).to.deep.equal([]);
  });

  it('syncs a mode change alone', async () => {
    await existingDest('same\n', 0o644);
    const outcome = await syncFile(request({ content: 'same\n', mode: 0o600 }), logger);
    expect(outcome.status).to.equal('updated');
    expect((await stat(dest)).mode & 0o7777).to.equal(0o600);
    expect(await syncFile(request({ content: 'same\n', mode: 0o600 }), logger)).to.deep.equal({
      status: 'in-sync',
    });
  });

  it('keeps the existing mode when none is given', async () => {
    await existingDest('old\n', 0o600);
    await syncFile(request(), logger);
    expect((await stat(dest)).mode & 0o7777).to.equal(0o600);
  });

  it('gives a new file mode 0644 whatever the umask', async () => {
    const previous = process.umask(0o077);
    try {
      await syncFile(request(), logger);
    } finally {
      process.umask(previous);
    }
    expect((await stat(dest)).mode & 0o7777).to.equal(0o644);
    expect(await readFile(dest, 'utf8')).to.equal('new\n');
  });

  it('creates a missing destination directory', async () => {
    const deep = join(dir, 'a', 'b', 'c.conf');
    expect(await syncFile(request({ dest: deep }), logger)).to.deep.equal({ status: 'updated' });
    expect(await readFile(deep, 'utf8')).to.equal('new\n');
  });

  it('sets the owner when uid/gid are given', async () => {
    await existingDest();
    const promise = syncFile(request({ uid: 1, gid: 1 }), logger);
    if (process.geteuid?.() === 0) {
      await promise;
      const st = await stat(dest);
      expect([st.uid, st.gid]).to.deep.equal([1, 1]);
      expect(await syncFile(request({ uid: 1, gid: 1 }), logger)).to.deep.equal({ status: 'in-sync' });
    } else {
      const err = await rejection(promise);
      expect(err).to.be.instanceOf(SyncError);
      expect(err.message).to.include('root');
      expect(await readFile(dest, 'utf8')).to.equal('old\n');
    }
  });

  it('keeps the existing owner when uid/gid are not given (as root)', async () => {
    await existingDest();
    if (process.geteuid?.() === 0) await chown(dest, 2, 3);
    const before = await stat(dest);
    await syncFile(request(), logger);
    const after = await stat(dest);
    expect(after.ino).to.not.equal(before.ino);
    expect([after.uid, after.gid]).to.deep.equal([before.uid, before.gid]);
  });

  describe('check_cmd', () => {
    it('leaves dest untouched and removes the stage file when the check fails', async () => {
      const before = await existingDest();
      const err = await rejection(syncFile(request({ checkCmd: 'echo "bad config" >&2; exit 3' }), logger));
      expect(err).to.be.instanceOf(CommandError);
      expect((err as CommandError).exitCode).to.equal(3);
      expect(err.message).to.include('bad config');
      const after = await stat(dest);
      expect(await readFile(dest, 'utf8')).to.equal('old\n');
      expect([after.ino, after.mtimeMs]).to.deep.equal([before.ino, before.mtimeMs]);
      expect(await stageFiles()).to.deep.equal([]);
    });

    it('runs on the staged file via {{.src}}, with its final mode, next to dest', async () => {
      await existingDest();
      const seen = join(dir, '..', `${dir.split('/').pop()}-seen`);
      const checkCmd = `cat {{.src}} > ${seen}.content; echo {{ .src }} > ${seen}.path; stat -c %a {{.src}} > ${seen}.mode; test "{{.dest}}" = "${dest}"`;
      try {
        await syncFile(request({ mode: 0o640, checkCmd }), logger);
        expect(await readFile(`${seen}.content`, 'utf8')).to.equal('new\n');
        expect((await readFile(`${seen}.mode`, 'utf8')).trim()).to.equal('640');
        const stagedPath = (await readFile(`${seen}.path`, 'utf8')).trim();
        expect(stagedPath.startsWith(`${dir}/.app.conf.`)).to.equal(true);
        expect(stagedPath.endsWith('.confd-stage')).to.equal(true);
        expect(await stageFiles()).to.deep.equal([]);
      } finally {
        await Promise.all(['content', 'path', 'mode'].map((ext) => rm(`${seen}.${ext}`, { force: true })));
      }
    });

    it('is skipped with syncOnly', async () => {
      await existingDest();
      const outcome = await syncFile(request({ checkCmd: 'exit 1', syncOnly: true }), logger);
      expect(outcome.status).to.equal('updated');
      expect(await readFile(dest, 'utf8')).to.equal('new\n');
    });
  });

  describe('noop', () => {
    it('returns a unified diff and writes nothing', async () => {
      const before = await existingDest('line1\nold\n');
      const outcome = await syncFile(request({ content: 'line1\nnew\n', noop: true }), logger);
      expect(outcome.status).to.equal('would-update');
      const diff = outcome.status === 'would-update' ? outcome.diff : '';
      expect(diff)
        .to.include(`--- ${dest}`)
        .and.include(`+++ ${dest}`)
        .and.include('-old')
        .and.include('+new');
      const after = await stat(dest);
      expect([after.ino, after.mtimeMs]).to.deep.equal([before.ino, before.mtimeMs]);
      expect(await readFile(dest, 'utf8')).to.equal('line1\nold\n');
      expect(await stageFiles()).to.deep.equal([]);
    });

    it('notes a mode-only change in the diff', async () => {
      await existingDest('same\n', 0o600);
      const outcome = await syncFile(request({ content: 'same\n', mode: 0o644, noop: true }), logger);
      expect(outcome.status).to.equal('would-update');
      if (outcome.status === 'would-update') {
        expect(outcome.diff).to.include('mode 0600 -> 0644');
        // No empty patch header (---/+++ without hunks) for a metadata-only change.
        expect(outcome.diff).not.to.match(/^(---|\+\+\+) /m);
      }
      expect((await stat(dest)).mode & 0o7777).to.equal(0o600);
    });

    it('creates neither the file nor its directory', async () => {
      const deep = join(dir, 'missing', 'x.conf');
      const outcome = await syncFile(request({ dest: deep, noop: true }), logger);
      expect(outcome.status).to.equal('would-update');
      if (outcome.status === 'would-update') expect(outcome.diff).to.include('new file').and.include('+new');
      expect(await readdir(dir)).to.deep.equal([]);
    });

    it('reports in-sync when nothing would change', async () => {
      await existingDest('same\n');
      expect(await syncFile(request({ content: 'same\n', noop: true }), logger)).to.deep.equal({
        status: 'in-sync',
      });
    });
  });

  describe('keepStageFile', () => {
    it('keeps a copy of the stage file after a successful sync', async () => {
      await existingDest();
      await syncFile(request({ keepStageFile: true, mode: 0o640 }), logger);
      const kept = await stageFiles();
      expect(kept).to.have.length(1);
      expect(await readFile(join(dir, kept[0]!), 'utf8')).to.equal('new\n');
      expect(await readFile(dest, 'utf8')).to.equal('new\n');
    });

    it('keeps the stage file after a failed check', async () => {
      await existingDest();
      await rejection(syncFile(request({ keepStageFile: true, checkCmd: 'false' }), logger));
      const kept = await stageFiles();
      expect(kept).to.have.length(1);
      expect(await readFile(join(dir, kept[0]!), 'utf8')).to.equal('new\n');
      expect(await readFile(dest, 'utf8')).to.equal('old\n');
    });
  });

  describe('when rename cannot replace dest (bind mounts)', () => {
    const failingRename = (code: string): SyncFsOps => ({
      rename: () => Promise.reject(Object.assign(new Error(`${code}: simulated`), { code })),
    });

    for (const code of ['EXDEV', 'EBUSY']) {
      it(`writes in place on ${code}, keeping the inode and removing the stage file`, async () => {
        const before = await existingDest('old content that is longer\n', 0o644);
        const outcome = await syncFile(request({ mode: 0o600 }), logger, failingRename(code));
        const after = await stat(dest);
        expect(outcome.status).to.equal('updated');
        expect(await readFile(dest, 'utf8')).to.equal('new\n');
        expect(after.ino).to.equal(before.ino);
        expect(after.mode & 0o7777).to.equal(0o600);
        expect(await stageFiles()).to.deep.equal([]);
        expect(logger.messages('warn').join('\n')).to.include(code);
      });
    }

    it('fails on other rename errors, leaving dest untouched and no stage file', async () => {
      await existingDest();
      const err = await rejection(syncFile(request(), logger, failingRename('EACCES')));
      expect(err).to.be.instanceOf(SyncError);
      expect(err.message).to.include(dest);
      expect(await readFile(dest, 'utf8')).to.equal('old\n');
      expect(await stageFiles()).to.deep.equal([]);
    });
  });

  it('refuses a dest that is a directory', async () => {
    await mkdir(dest);
    const err = await rejection(syncFile(request(), logger));
    expect(err).to.be.instanceOf(SyncError);
    expect(err.message).to.include('not a regular file');
  });
});
