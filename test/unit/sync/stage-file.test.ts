import { expect } from 'chai';
import { lstat, mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { isStageFileName, removeStaleStageFiles, stagePathFor } from '../../../src/sync/stage-file.js';
import { RecordingLogger } from '../../support/loggers.js';

describe('stage files', () => {
  let dir: string;
  let logger: RecordingLogger;
  const hex = 'a1b2c3d4e5f6';

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'confd-stage-'));
    logger = new RecordingLogger();
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('names a stage file .<basename>.<12 hex>.confd-stage beside dest, and recognises its own names', () => {
    const dest = join(dir, 'app.conf');
    const stage = stagePathFor(dest);
    expect(dirname(stage)).to.equal(dir);
    expect(basename(stage)).to.match(/^\.app\.conf\.[0-9a-f]{12}\.confd-stage$/);
    expect(isStageFileName(basename(stage), 'app.conf')).to.equal(true);
    expect(stagePathFor(dest)).to.not.equal(stage);
  });

  describe('removeStaleStageFiles', () => {
    it('removes the stage files of the given dests and logs each at info', async () => {
      const a = join(dir, 'app.conf');
      const b = join(dir, 'sub', 'b.conf');
      await mkdir(join(dir, 'sub'));
      const stale = [
        join(dir, `.app.conf.${hex}.confd-stage`),
        join(dir, '.app.conf.000000000000.confd-stage'),
      ];
      const staleB = join(dir, 'sub', `.b.conf.${hex}.confd-stage`);
      for (const path of [...stale, staleB]) await writeFile(path, 'partial');
      await writeFile(a, 'dest itself');

      const removed = await removeStaleStageFiles([a, b, a], logger);
      expect(removed.sort()).to.deep.equal([...stale, staleB].sort());
      expect(await readdir(dir)).to.deep.equal(['app.conf', 'sub']);
      expect(await readdir(join(dir, 'sub'))).to.deep.equal([]);
      expect(await readFile(a, 'utf8')).to.equal('dest itself');
      const info = logger.messages('info');
      expect(info).to.have.length(3);
      for (const path of removed) expect(info.join('\n')).to.include(path);
    });

    it('leaves every look-alike alone', async () => {
      const dest = join(dir, 'app.conf');
      const lookAlikes = [
        `.other.conf.${hex}.confd-stage`, // another dest's
        `.app.conf.${hex.slice(1)}.confd-stage`, // 11 hex digits
        `.app.conf.${hex}0.confd-stage`, // 13 hex digits
        `.app.conf.${hex.toUpperCase()}.confd-stage`, // not our hex
        `.app.conf.${hex.slice(0, 11)}g.confd-stage`, // not hex at all
        `.app.conf.${hex}.confd-stage.bak`, // other suffix
        `.app.conf.${hex}.confd-stagex`,
        `.app.conf.${hex}.stage`,
        `app.conf.${hex}.confd-stage`, // no leading dot
        `.app.conf.x.${hex}.confd-stage`, // a dest named app.conf.x
        `.app.${hex}.confd-stage`, // a dest named app
        `..app.conf.${hex}.confd-stage`,
        'app.conf',
        '.app.conf',
      ];
      for (const name of lookAlikes) await writeFile(join(dir, name), 'keep me');
      expect(await removeStaleStageFiles([dest], logger)).to.deep.equal([]);
      expect((await readdir(dir)).sort()).to.deep.equal([...lookAlikes].sort());
      expect(logger.messages('info')).to.deep.equal([]);
    });

    it('does not treat the basename as a pattern', async () => {
      const dest = join(dir, 'a+b(c).conf');
      const other = join(dir, `.aab(c).conf.${hex}.confd-stage`);
      const own = join(dir, `.a+b(c).conf.${hex}.confd-stage`);
      await writeFile(other, 'keep');
      await writeFile(own, 'stale');
      expect(await removeStaleStageFiles([dest], logger)).to.deep.equal([own]);
      expect(await readdir(dir)).to.deep.equal([basename(other)]);
    });

    it('leaves a directory named like a stage file, and its content, alone', async () => {
      const named = join(dir, `.app.conf.${hex}.confd-stage`);
      await mkdir(named);
      await writeFile(join(named, 'inside'), 'keep');
      expect(await removeStaleStageFiles([join(dir, 'app.conf')], logger)).to.deep.equal([]);
      expect(await readFile(join(named, 'inside'), 'utf8')).to.equal('keep');
    });

    it('removes a symlink named like a stage file, never what it points to', async () => {
      const outside = await mkdtemp(join(tmpdir(), 'confd-stage-target-'));
      try {
        const targetFile = join(outside, 'precious');
        await writeFile(targetFile, 'precious');
        const targetDir = join(outside, 'dir');
        await mkdir(targetDir);
        await writeFile(join(targetDir, 'inside'), 'precious too');
        const toFile = join(dir, `.app.conf.${hex}.confd-stage`);
        const toDir = join(dir, '.app.conf.ffffffffffff.confd-stage');
        const dangling = join(dir, '.app.conf.eeeeeeeeeeee.confd-stage');
        await symlink(targetFile, toFile);
        await symlink(targetDir, toDir);
        await symlink(join(outside, 'nothing'), dangling);

        const removed = await removeStaleStageFiles([join(dir, 'app.conf')], logger);
        expect(removed.sort()).to.deep.equal([toFile, toDir, dangling].sort());
        expect(await readdir(dir)).to.deep.equal([]);
        expect(await readFile(targetFile, 'utf8')).to.equal('precious');
        expect(await readFile(join(targetDir, 'inside'), 'utf8')).to.equal('precious too');
        expect((await lstat(targetDir)).isDirectory()).to.equal(true);
      } finally {
        await rm(outside, { recursive: true, force: true });
      }
    });

    it('is quiet about a dest directory that does not exist yet', async () => {
      expect(await removeStaleStageFiles([join(dir, 'missing', 'app.conf')], logger)).to.deep.equal([]);
      expect(logger.lines).to.deep.equal([]);
    });
  });
});
