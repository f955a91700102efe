import { expect } from 'chai';
import type { Stats } from 'node:fs';
import { fstatSync, statSync } from 'node:fs';
import { chmod, chown, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CommandError, SyncError } from '../../../src/errors.js';
import type { SyncFsOps, SyncRequest } from '../../../src/sync/sync-file.js';
import { syncFile } from '../../../src/sync/sync-file.js';
import type { WriteFn } from '../../../src/sync/write-descriptor.js';
import { writeOnce } from '../../../src/sync/write-descriptor.js';
import { eventually, rejection } from '../../support/async.js';
import { RecordingLogger } from '../../support/loggers.js';
import { allGone, killAll, readPids } from '../../support/processes.js';

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

  async function expectUntouched(before: Stats): Promise<void> {
    const after = await stat(dest);
    expect(await readFile(dest, 'utf8')).to.equal('old\n');
    expect([after.ino, after.mtimeMs]).to.deep.equal([before.ino, before.mtimeMs]);
    expect(await stageFiles()).to.deep.equal([]);
  }

  /**
   * A write seam that records, for each file, its mode, owner and size at the moment of its first write
   * (the first byte of content), and otherwise writes at most `chunk` bytes per call.
   */
  function observingWrites(chunk = Number.MAX_SAFE_INTEGER) {
    const firstWrites: { path: string; mode: number; uid: number; gid: number; size: number }[] = [];
    const seen = new Set<number>();
    const write: WriteFn = async (fd, buffer, offset, length, position) => {
      const st = fstatSync(fd);
      if (!seen.has(st.ino)) {
        seen.add(st.ino);
        const path = (await readdir(dir))
          .map((name) => join(dir, name))
          .find((p) => statSync(p).ino === st.ino);
        firstWrites.push({
          path: path ?? '?',
          mode: st.mode & 0o7777,
          uid: st.uid,
          gid: st.gid,
          size: st.size,
        });
      }
      return writeOnce(fd, buffer, offset, Math.min(length, chunk), position);
    };
    return { firstWrites, ops: { write } };
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
    expect(outcome).to.deep.include({ status: 'updated' });
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

  it('makes the missing directories of a new dest, and leaves no stage file in them', async () => {
    const nested = join(dir, 'a', 'b', 'app.conf');
    expect((await syncFile(request({ dest: nested }), logger)).status).to.equal('updated');
    expect(await readFile(nested, 'utf8')).to.equal('new\n');
    expect(await stageFiles(join(dir, 'a', 'b'))).to.deep.equal([]);
  });

  it('names dest and the cause when a regular file stands where its directory would be (ENOTDIR)', async () => {
    await writeFile(join(dir, 'file'), 'x');
    const err = await rejection(syncFile(request({ dest: join(dir, 'file', 'sub', 'app.conf') }), logger));
    expect(err).to.be.instanceOf(SyncError);
    expect((err as Error).message)
      .to.include(join(dir, 'file', 'sub', 'app.conf'))
      .and.include('ENOTDIR');
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
    expect(await syncFile(request({ dest: deep }), logger)).to.deep.include({ status: 'updated' });
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
      const checkCmd = 'echo "bad config" >&2; cat {{.src}}; exit 3';
      const err = await rejection(syncFile(request({ content: 'password=hunter2\n', checkCmd }), logger));
      expect(err).to.be.instanceOf(CommandError);
      const commandErr = err as CommandError;
      expect(commandErr.exitCode).to.equal(3);
      expect(commandErr.durationMs).to.be.a('number');
      // The message names the command as configured; its output (here: the rendered secret) is kept apart.
      expect(err.message).to.equal(`check command exited with code 3: ${checkCmd}`);
      expect(commandErr.output).to.include('bad config').and.include('hunter2');
      const after = await stat(dest);
      expect(await readFile(dest, 'utf8')).to.equal('old\n');
      expect([after.ino, after.mtimeMs]).to.deep.equal([before.ino, before.mtimeMs]);
      expect(await stageFiles()).to.deep.equal([]);
    });

    it("reports the check's exit code and duration in the outcome", async () => {
      await existingDest();
      const outcome = await syncFile(request({ checkCmd: 'test -s {{.src}}' }), logger);
      expect(outcome.status).to.equal('updated');
      const checkResult = outcome.status === 'updated' ? outcome.checkResult : undefined;
      expect(checkResult?.exitCode).to.equal(0);
      expect(checkResult?.durationMs).to.be.a('number').and.at.least(0);
    });

    it('fails with "not found" for a check command that does not exist, leaving dest untouched', async () => {
      await existingDest();
      const err = await rejection(syncFile(request({ checkCmd: 'confd-no-such-checker {{.src}}' }), logger));
      expect(err).to.be.instanceOf(CommandError);
      expect((err as CommandError).exitCode).to.equal(127);
      expect(err.message).to.include('not found');
      expect(await readFile(dest, 'utf8')).to.equal('old\n');
      expect(await stageFiles()).to.deep.equal([]);
    });

    it('kills a hanging check at its timeout with its whole process group, leaving dest untouched', async () => {
      await existingDest();
      const pidFile = join(dir, '..', `${dir.split('/').pop()}-pids`);
      const checkCmd = `sh -c 'trap "" TERM; echo $$ >> ${pidFile}; sleep 30' & echo $$ >> ${pidFile}; wait`;
      try {
        const err = await rejection(syncFile(request({ checkCmd, checkCmdTimeoutMs: 1500 }), logger));
        expect(err).to.be.instanceOf(CommandError);
        expect((err as CommandError).timedOut).to.equal(true);
        expect(err.message).to.include('timed out');
        await eventually(async () => (await readPids(pidFile).catch(() => [])).length === 2, 'both pids');
        await allGone(await readPids(pidFile), 'the check and its SIGTERM-ignoring child to be gone');
        expect(await readFile(dest, 'utf8')).to.equal('old\n');
        expect(await stageFiles()).to.deep.equal([]);
      } finally {
        killAll(await readPids(pidFile).catch(() => []));
        await rm(pidFile, { force: true });
      }
    });

    it('is cancelled by the request signal (shutdown): group killed, dest untouched, no stage file', async () => {
      await existingDest();
      const marker = join(dir, '..', `${dir.split('/').pop()}-started`);
      const abort = new AbortController();
      const checkCmd = `echo $$ > ${marker}; sleep 30`;
      try {
        const promise = syncFile(request({ checkCmd, signal: abort.signal }), logger);
        await eventually(
          async () => (await readPids(marker).catch(() => [])).length === 1,
          'the check to start',
        );
        abort.abort();
        const err = await rejection(promise);
        expect(err).to.be.instanceOf(CommandError);
        expect((err as CommandError).cancelled).to.equal(true);
        await allGone(await readPids(marker), 'the check to be gone');
        expect(await readFile(dest, 'utf8')).to.equal('old\n');
        expect(await stageFiles()).to.deep.equal([]);
      } finally {
        killAll(await readPids(marker).catch(() => []));
        await rm(marker, { force: true });
      }
    });

    it('runs on the staged file via {{.src}}, with its final mode and owner, next to dest', async () => {
      await existingDest();
      const asRoot = process.geteuid?.() === 0;
      const owner = asRoot ? { uid: 1, gid: 2 } : {};
      const seen = join(dir, '..', `${dir.split('/').pop()}-seen`);
      const checkCmd = `cat {{.src}} > ${seen}.content; echo {{ .src }} > ${seen}.path; stat -c '%a %u %g' {{.src}} > ${seen}.mode; test "{{.dest}}" = "${dest}"`;
      try {
        await syncFile(request({ mode: 0o640, checkCmd, ...owner }), logger);
        expect(await readFile(`${seen}.content`, 'utf8')).to.equal('new\n');
        const expectedOwner = asRoot ? '1 2' : `${process.getuid?.()} ${process.getgid?.()}`;
        expect((await readFile(`${seen}.mode`, 'utf8')).trim()).to.equal(`640 ${expectedOwner}`);
        const stagedPath = (await readFile(`${seen}.path`, 'utf8')).trim();
        expect(stagedPath).to.match(new RegExp(`^${dir}/\\.app\\.conf\\.[0-9a-f]{12}\\.confd-stage$`));
        expect(await stageFiles()).to.deep.equal([]);
      } finally {
        await Promise.all(['content', 'path', 'mode'].map((ext) => rm(`${seen}.${ext}`, { force: true })));
      }
    });

    it('is skipped with syncOnly', async () => {
      await existingDest();
      const outcome = await syncFile(request({ checkCmd: 'exit 1', syncOnly: true }), logger);
      expect(outcome).to.deep.include({ status: 'updated' });
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
    it('keeps a copy of the stage file after a successful sync, with the final mode and owner', async () => {
      await existingDest();
      const asRoot = process.geteuid?.() === 0;
      const observed = observingWrites();
      await syncFile(
        request({ keepStageFile: true, mode: 0o640, ...(asRoot ? { uid: 1, gid: 2 } : {}) }),
        logger,
        observed.ops,
      );
      const kept = await stageFiles();
      expect(kept).to.have.length(1);
      const keptPath = join(dir, kept[0]!);
      expect(await readFile(keptPath, 'utf8')).to.equal('new\n');
      expect(await readFile(dest, 'utf8')).to.equal('new\n');
      const st = await stat(keptPath);
      expect(st.mode & 0o7777).to.equal(0o640);
      if (asRoot) expect([st.uid, st.gid]).to.deep.equal([1, 2]);
      // Two files were written (the stage file, then the copy): both had mode and owner before content.
      expect(observed.firstWrites.map((w) => w.path)).to.have.length(2);
      for (const w of observed.firstWrites) {
        expect(w.mode, w.path).to.equal(0o640);
        if (asRoot) expect([w.uid, w.gid], w.path).to.deep.equal([1, 2]);
        expect(w.size, w.path).to.equal(0);
      }
    });

    it('keeps the stage file after a failed check', async () => {
      await existingDest();
      await rejection(syncFile(request({ keepStageFile: true, checkCmd: 'false' }), logger));
      const kept = await stageFiles();
      expect(kept).to.have.length(1);
      expect(await readFile(join(dir, kept[0]!), 'utf8')).to.equal('new\n');
      expect(await readFile(dest, 'utf8')).to.equal('old\n');
    });

    it('never keeps a stage file that could not be written in full', async () => {
      await existingDest();
      const err = await rejection(
        syncFile(request({ keepStageFile: true }), logger, { write: async () => 0 }),
      );
      expect(err).to.be.instanceOf(SyncError);
      expect(await stageFiles()).to.deep.equal([]);
      expect(await readFile(dest, 'utf8')).to.equal('old\n');
    });
  });

  describe('short writes', () => {
    const content = 'line one\nline two\nline three\n';

    it('writes the rest after a short count', async () => {
      await existingDest();
      let calls = 0;
      const shortOnce: WriteFn = (fd, buffer, offset, length, position) =>
        writeOnce(fd, buffer, offset, calls++ === 0 ? Math.min(length, 5) : length, position);
      expect(await syncFile(request({ content }), logger, { write: shortOnce })).to.deep.include({
        status: 'updated',
      });
      expect(await readFile(dest, 'utf8')).to.equal(content);
      expect(calls).to.be.greaterThan(1);
    });

    it('writes everything when every call is short', async () => {
      await existingDest();
      const calls: number[] = [];
      const threeAtATime: WriteFn = (fd, buffer, offset, length, position) => {
        calls.push(offset);
        return writeOnce(fd, buffer, offset, Math.min(length, 3), position);
      };
      await syncFile(request({ content }), logger, { write: threeAtATime });
      expect(await readFile(dest, 'utf8')).to.equal(content);
      expect(calls).to.have.length(Math.ceil(content.length / 3));
    });

    it('fails naming dest, dest untouched and no stage file, when a write makes no progress', async () => {
      const before = await existingDest();
      let calls = 0;
      const stalls: WriteFn = (fd, buffer, offset, length, position) =>
        calls++ === 0 ? writeOnce(fd, buffer, offset, 4, position) : Promise.resolve(0);
      const err = await rejection(syncFile(request({ content }), logger, { write: stalls }));
      expect(err).to.be.instanceOf(SyncError);
      expect((err as SyncError).dest).to.equal(dest);
      expect(err.message).to.include(dest).and.include(`4 of ${content.length} bytes`);
      await expectUntouched(before);
    });

    it('fails the size check, dest untouched, when a write claims more than it wrote', async () => {
      const before = await existingDest();
      const liar: WriteFn = async (fd, buffer, offset, length, position) => {
        await writeOnce(fd, buffer, offset, Math.ceil(length / 2), position);
        return length;
      };
      const err = await rejection(syncFile(request({ content }), logger, { write: liar }));
      expect(err).to.be.instanceOf(SyncError);
      expect((err as SyncError).dest).to.equal(dest);
      expect(err.message)
        .to.include(dest)
        .and.include(
          `holds ${Math.ceil(content.length / 2)} bytes after writing, expected ${content.length}`,
        );
      await expectUntouched(before);
    });

    it('gives the stage file its final mode and owner before the first byte', async () => {
      await existingDest();
      const asRoot = process.geteuid?.() === 0;
      const observed = observingWrites();
      await syncFile(request({ mode: 0o604, ...(asRoot ? { uid: 3, gid: 4 } : {}) }), logger, observed.ops);
      expect(observed.firstWrites).to.have.length(1);
      const [first] = observed.firstWrites;
      expect(first!.path).to.match(/\.confd-stage$/);
      expect(first!.mode).to.equal(0o604);
      expect(first!.size).to.equal(0);
      if (asRoot) expect([first!.uid, first!.gid]).to.deep.equal([3, 4]);
    });
  });

  describe('when rename cannot replace dest (bind mounts)', () => {
    const failingRename = (code: string): Partial<SyncFsOps> => ({
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

    it('writes in place in full despite short counts, with mode and owner set while dest is empty', async () => {
      await existingDest('old\n', 0o644);
      const asRoot = process.geteuid?.() === 0;
      const content = 'a longer new content\n'.repeat(20);
      const observed = observingWrites(7);
      await syncFile(request({ content, mode: 0o640, ...(asRoot ? { uid: 5, gid: 6 } : {}) }), logger, {
        ...failingRename('EBUSY'),
        write: observed.ops.write,
      });
      expect(await readFile(dest, 'utf8')).to.equal(content);
      const inPlace = observed.firstWrites.find((w) => w.path === dest);
      expect(inPlace, 'a write into dest').to.not.equal(undefined);
      expect(inPlace!.size).to.equal(0);
      expect(inPlace!.mode).to.equal(0o640);
      if (asRoot) expect([inPlace!.uid, inPlace!.gid]).to.deep.equal([5, 6]);
    });

    it('restores the previous content in full (despite short counts) when writing in place fails', async () => {
      const old = 'the previous content, all of it\n'.repeat(10);
      await existingDest(old, 0o644);
      const newContent = 'x'.repeat(1000);
      // The new content fails after its first chunk (a disk filling up); the restore sees short counts.
      const write: WriteFn = async (fd, buffer, offset, length, position) => {
        if (buffer.toString() === newContent && fstatSync(fd).ino === (await stat(dest)).ino) {
          if (offset > 0)
            throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
          return writeOnce(fd, buffer, offset, 100, position);
        }
        return writeOnce(fd, buffer, offset, Math.min(length, 9), position);
      };
      const err = await rejection(
        syncFile(request({ content: newContent, mode: 0o600 }), logger, { ...failingRename('EXDEV'), write }),
      );
      expect(err).to.be.instanceOf(SyncError);
      expect(err.message).to.include(dest).and.include('ENOSPC');
      expect(await readFile(dest, 'utf8')).to.equal(old);
      expect((await stat(dest)).mode & 0o7777).to.equal(0o644);
      expect(await stageFiles()).to.deep.equal([]);
    });

    it('says dest may be incomplete when even the restore fails', async () => {
      await existingDest('old\n', 0o644);
      const write: WriteFn = async (fd, buffer, offset, length, position) =>
        fstatSync(fd).ino === (await stat(dest)).ino ? 0 : writeOnce(fd, buffer, offset, length, position);
      const err = await rejection(syncFile(request(), logger, { ...failingRename('EBUSY'), write }));
      expect(err).to.be.instanceOf(SyncError);
      expect(err.message)
        .to.include('restoring the previous content failed too')
        .and.include(`${dest} may be incomplete`);
    });

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
