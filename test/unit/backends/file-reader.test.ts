import { writeFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { FileDataReader } from '../../../src/backends/file-reader.js';
import { BackendError } from '../../../src/errors.js';
import { RecordingLogger } from '../../support/loggers.js';
import { rejection } from '../../support/async.js';

/** Not YAML yet: an unclosed flow sequence, cut off where the writer's next line begins. */
const HALF_WRITTEN = 'db:\n  hosts: [a, b\n---\nrest: 1\n';

/** A logger that also runs `onDebug` for every debug line, as it is logged. */
class HookedLogger extends RecordingLogger {
  onDebug: (message: string) => void = () => undefined;
  override readonly debug = (message: string): void => {
    this.entries.push({ level: 'debug', message });
    this.onDebug(message);
  };
}

describe('FileDataReader', () => {
  let dir: string;
  let file: string;
  let logger: HookedLogger;
  let reader: FileDataReader;

  /** The reader says at debug level when it reads a file again: each retry after a failed attempt. */
  const retries = (): number =>
    logger.messages('debug').filter((line) => line.includes('reading it again')).length;
  const standIns = (): string[] =>
    logger.messages('warn').filter((line) => line.includes('using its last good content'));

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'confd-ts-file-reader-'));
    file = join(dir, 'data.yaml');
    logger = new HookedLogger();
    reader = new FileDataReader([file], '*', logger);
  });

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reads a file whole', async () => {
    await writeFile(file, 'db:\n  host: a\n  port: 1\n');
    expect(Object.fromEntries(await reader.readAll())).to.deep.equal({ '/db/host': 'a', '/db/port': '1' });
  });

  describe('a file caught mid-rewrite', () => {
    beforeEach(async () => {
      await writeFile(file, 'db:\n  host: good\n');
      expect(Object.fromEntries(await reader.readAll())).to.deep.equal({ '/db/host': 'good' });
    });

    it('half written: reads it again a few times, then its last good values stand in, with one warning', async () => {
      await writeFile(file, HALF_WRITTEN);
      expect(Object.fromEntries(await reader.readAll())).to.deep.equal({ '/db/host': 'good' });
      // Read three times in all before standing in.
      expect(retries()).to.equal(2);
      expect(standIns()).to.have.length(1);
      expect(standIns()[0]).to.contain(file).and.to.contain('data.yaml:');
      // Still broken at the next read: the same values, and no second warning for the same episode.
      expect(Object.fromEntries(await reader.readAll())).to.deep.equal({ '/db/host': 'good' });
      expect(retries()).to.equal(4);
      expect(standIns()).to.have.length(1);
    });

    it('emptied: its last good values stand in instead of "no keys"', async () => {
      await writeFile(file, '');
      expect(Object.fromEntries(await reader.readAll())).to.deep.equal({ '/db/host': 'good' });
      expect(standIns()).to.have.length(1);
      expect(standIns()[0]).to.contain(`${file} is empty`);
    });

    it('picks up the new content when the rewrite finishes during the re-reads', async () => {
      await writeFile(file, HALF_WRITTEN);
      // The writer finishes right after the first attempt saw its half-written file.
      logger.onDebug = (message) => {
        if (message.includes('reading it again')) writeFileSync(file, 'db:\n  host: rewritten\n');
      };
      expect(Object.fromEntries(await reader.readAll())).to.deep.equal({ '/db/host': 'rewritten' });
      expect(retries()).to.equal(1);
      expect(standIns()).to.deep.equal([]);
    });

    it('reads a fixed file again, says so, and warns anew when it breaks again', async () => {
      await writeFile(file, HALF_WRITTEN);
      await reader.readAll();
      await writeFile(file, 'db:\n  host: fixed\n');
      expect(Object.fromEntries(await reader.readAll())).to.deep.equal({ '/db/host': 'fixed' });
      expect(logger.messages('info').filter((line) => line.includes('reads correctly again'))).to.deep.equal([
        `file backend: ${file} reads correctly again`,
      ]);
      // The fixed content is the new last good one.
      await writeFile(file, '');
      expect(Object.fromEntries(await reader.readAll())).to.deep.equal({ '/db/host': 'fixed' });
      expect(standIns()).to.have.length(2);
    });

    it('stops re-reading when the signal aborts', async () => {
      await writeFile(file, HALF_WRITTEN);
      const controller = new AbortController();
      logger.onDebug = (message) => {
        if (message.includes('reading it again')) controller.abort(new Error('stopping'));
      };
      expect((await rejection(reader.readAll(controller.signal))).message).to.equal('stopping');
      expect(retries()).to.equal(1);
      expect(standIns()).to.deep.equal([]);
    });
  });

  it('fails a file that was never read successfully: there is nothing to stand in for it', async () => {
    await writeFile(file, HALF_WRITTEN);
    const err = await rejection(reader.readAll());
    expect(err).to.be.instanceOf(BackendError);
    expect(err.message).to.contain(`${file}:3:1: `);
    // Read once: with nothing to stand in, a retry would only delay the failure.
    expect(retries()).to.equal(0);
    expect(standIns()).to.deep.equal([]);
    // Once it is complete it reads, and from then on it has a last good content.
    await writeFile(file, 'db:\n  host: first\n');
    expect(Object.fromEntries(await reader.readAll())).to.deep.equal({ '/db/host': 'first' });
  });

  it('takes an empty file at the first read, or after an empty mapping, as no keys', async () => {
    await writeFile(file, '');
    expect(Object.fromEntries(await reader.readAll())).to.deep.equal({});
    await writeFile(file, '{}\n');
    expect(Object.fromEntries(await reader.readAll())).to.deep.equal({});
    await writeFile(file, '');
    expect(Object.fromEntries(await reader.readAll())).to.deep.equal({});
    expect(standIns()).to.deep.equal([]);
  });

  it('keeps the last good values per file: one broken file does not hide the others', async () => {
    const other = join(dir, 'other.yaml');
    await writeFile(file, 'a: 1\n');
    await writeFile(other, 'b: 1\n');
    const both = new FileDataReader([file, other], '*', logger);
    expect(Object.fromEntries(await both.readAll())).to.deep.equal({ '/a': '1', '/b': '1' });
    await writeFile(file, '');
    await writeFile(other, 'b: 2\n');
    expect(Object.fromEntries(await both.readAll())).to.deep.equal({ '/a': '1', '/b': '2' });
    expect(standIns()).to.have.length(1);
    expect(standIns()[0]).to.contain(file).and.not.to.contain(other);
  });
});
