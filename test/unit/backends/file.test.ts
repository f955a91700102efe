import { expect } from 'chai';
import { mkdir, mkdtemp, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient, FileStoreClient } from '../../../src/backends/file.js';
import { goFloatText } from '../../../src/backends/flatten.js';
import type { PrefixWatch, WatchResult } from '../../../src/backends/store-client.js';
import { BackendError, UsageError } from '../../../src/errors.js';
import { backendOptions } from '../../support/backend-options.js';
import { recordingLogger } from '../../support/loggers.js';
import { eventually, never, rejection } from '../../support/async.js';

describe('file backend', () => {
  let dir: string;
  const clients: FileStoreClient[] = [];

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'confd-ts-file-'));
  });

  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
    await rm(dir, { recursive: true, force: true });
  });

  async function write(name: string, text: string): Promise<string> {
    const path = join(dir, name);
    await mkdir(join(path, '..'), { recursive: true });
    await writeFile(path, text);
    return path;
  }

  function client(files: string[], filter = '*', logger = recordingLogger()): FileStoreClient {
    const c = new FileStoreClient(files, filter, logger);
    clients.push(c);
    return c;
  }

  describe('getValues', () => {
    it('flattens nested YAML maps into path keys', async () => {
      const file = await write('data.yaml', 'app:\n  db:\n    host: db.local\n    user: confd\nkey: value\n');
      expect(Object.fromEntries(await client([file]).getValues(['/']))).to.deep.equal({
        '/app/db/host': 'db.local',
        '/app/db/user': 'confd',
        '/key': 'value',
      });
    });

    it('reads JSON files the same way', async () => {
      const file = await write(
        'data.json',
        '{"app": {"db": {"host": "db.local", "port": 5432}, "on": true}}',
      );
      expect(Object.fromEntries(await client([file]).getValues(['/app']))).to.deep.equal({
        '/app/db/host': 'db.local',
        '/app/db/port': '5432',
        '/app/on': 'true',
      });
    });

    it('gives list items their index as key segment, including maps inside lists', async () => {
      const file = await write(
        'list.yaml',
        'hosts:\n  - a.local\n  - b.local\nusers:\n  - name: ann\n    id: 1\n  - [x, z]\n',
      );
      expect(Object.fromEntries(await client([file]).getValues(['/']))).to.deep.equal({
        '/hosts/0': 'a.local',
        '/hosts/1': 'b.local',
        '/users/0/name': 'ann',
        '/users/0/id': '1',
        '/users/1/0': 'x',
        '/users/1/1': 'z',
      });
    });

    it('prints numbers and booleans as confd (Go) does, reads YAML 1.1 like yaml.v2, drops nulls', async () => {
      const file = await write(
        'scalars.yaml',
        [
          'int: 42',
          'negative: -7',
          'float: 1.50',
          'exp: 1e3',
          'tiny: 1.5e-7',
          'huge: 1e21',
          'inf: .inf',
          'octal: 0755',
          'hex: 0x1F',
          'big: 12345678901234567890',
          'yes: yes',
          'off: off',
          'bool: false',
          'date: 2001-12-14',
          'clock: 1:20',
          'quoted: "0755"',
          'nothing: null',
          'empty:',
          'y: key y stays a string',
        ].join('\n'),
      );
      expect(Object.fromEntries(await client([file]).getValues(['/']))).to.deep.equal({
        '/int': '42',
        '/negative': '-7',
        '/float': '1.5',
        '/exp': '1000',
        '/tiny': '0.00000015',
        '/huge': '1000000000000000000000',
        '/inf': '+Inf',
        '/octal': '493',
        '/hex': '31',
        '/big': '12345678901234567890',
        '/yes': 'true',
        '/off': 'false',
        '/bool': 'false',
        '/date': '2001-12-14',
        '/clock': '1:20',
        '/quoted': '0755',
        '/y': 'key y stays a string',
      });
    });

    it('follows YAML anchors and merge keys', async () => {
      const file = await write(
        'anchors.yaml',
        'base: &b\n  port: 80\n  host: a\nsite:\n  <<: *b\n  host: b\n',
      );
      expect(Object.fromEntries(await client([file]).getValues(['/site']))).to.deep.equal({
        '/site/port': '80',
        '/site/host': 'b',
      });
    });

    it('returns only keys equal to or under the requested keys, on path boundaries', async () => {
      const file = await write(
        'b.yaml',
        'app:\n  db: plain\n  dbx:\n    host: other\n  db2: two\nother: x\n',
      );
      const nested = await write('n.yaml', 'app:\n  db:\n    host: h\n');
      expect(Object.fromEntries(await client([file]).getValues(['/app/db']))).to.deep.equal({
        '/app/db': 'plain',
      });
      expect(Object.fromEntries(await client([nested]).getValues(['/app/db/']))).to.deep.equal({
        '/app/db/host': 'h',
      });
      expect(Object.fromEntries(await client([file]).getValues(['/app/db', '/other']))).to.deep.equal({
        '/app/db': 'plain',
        '/other': 'x',
      });
      expect(Object.fromEntries(await client([file]).getValues(['/missing']))).to.deep.equal({});
    });

    it('lets a repeated key override the earlier one, as yaml.v2 does', async () => {
      const file = await write('dup.yaml', 'a: 1\nb: x\na: 2\n');
      expect(Object.fromEntries(await client([file]).getValues(['/']))).to.deep.equal({
        '/a': '2',
        '/b': 'x',
      });
    });

    it('lets later files override earlier ones', async () => {
      const first = await write('1.yaml', 'db:\n  host: one\n  port: 1\n');
      const second = await write('2.yaml', 'db:\n  host: two\n');
      expect(Object.fromEntries(await client([first, second]).getValues(['/db']))).to.deep.equal({
        '/db/host': 'two',
        '/db/port': '1',
      });
    });

    it('walks directories recursively in name order, keeping file names that match -filter', async () => {
      await write('conf/a.yaml', 'a: 1\nshared: from-a\n');
      await write('conf/sub/b.yml', 'b: 2\n');
      await write('conf/sub/deeper/c.yaml', 'c: 3\nshared: from-c\n');
      await write('conf/notes.txt', 'not: yaml at all: [');
      await write('conf/.hidden.yaml', 'hidden: 4\n');
      const conf = join(dir, 'conf');
      expect(Object.fromEntries(await client([conf], '*.yaml').getValues(['/']))).to.deep.equal({
        '/a': '1',
        '/c': '3',
        '/hidden': '4',
        '/shared': 'from-c',
      });
      expect(Object.fromEntries(await client([conf], '*.y*ml').getValues(['/b']))).to.deep.equal({
        '/b': '2',
      });
      // The default filter '*' takes every file, so the broken .txt fails the read.
      const err = await rejection(client([conf]).getValues(['/']));
      expect(err).to.be.instanceOf(BackendError);
      expect(err.message).to.contain('notes.txt');
    });

    it('reads files behind symbolic links but does not follow linked directories', async () => {
      const real = await write('real/data.yaml', 'linked: yes\n');
      await write('other/deep.yaml', 'deep: 1\n');
      await mkdir(join(dir, 'conf'));
      await symlink(real, join(dir, 'conf', 'data.yaml'));
      await symlink(join(dir, 'other'), join(dir, 'conf', 'other'));
      expect(Object.fromEntries(await client([join(dir, 'conf')]).getValues(['/']))).to.deep.equal({
        '/linked': 'true',
      });
    });

    it('re-reads the files on every call', async () => {
      const file = await write('live.yaml', 'v: 1\n');
      const c = client([file]);
      expect(Object.fromEntries(await c.getValues(['/v']))).to.deep.equal({ '/v': '1' });
      await writeFile(file, 'v: 2\n');
      expect(Object.fromEntries(await c.getValues(['/v']))).to.deep.equal({ '/v': '2' });
    });

    it('reads only the first YAML document of a file, with a warning', async () => {
      const file = await write('multi.yaml', 'a: 1\n---\nb: 2\n');
      const logger = recordingLogger();
      expect(Object.fromEntries(await client([file], '*', logger).getValues(['/']))).to.deep.equal({
        '/a': '1',
      });
      expect(logger.messages('warn').join('\n')).to.contain('only the first');
    });

    it('treats an empty file as no keys', async () => {
      const file = await write('empty.yaml', '# nothing yet\n');
      expect(Object.fromEntries(await client([file]).getValues(['/']))).to.deep.equal({});
    });

    it('fails with a BackendError naming a missing file', async () => {
      const missing = join(dir, 'missing.yaml');
      const err = await rejection(client([missing]).getValues(['/']));
      expect(err).to.be.instanceOf(BackendError);
      expect(err.message).to.contain(missing).and.to.contain('no such file or directory');
      expect((err as BackendError).backend).to.equal('file');
    });

    it('fails with a BackendError naming the file and line of a YAML syntax error', async () => {
      const file = await write('bad.yaml', 'ok: 1\nlist:\n  - a\n  b: [\n');
      const err = await rejection(client([file]).getValues(['/']));
      expect(err).to.be.instanceOf(BackendError);
      expect(err.message).to.match(new RegExp(`${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:4:\\d+: `));
    });

    it('fails with the file and line of a JSON syntax error', async () => {
      const file = await write('bad.json', '{\n  "a": 1,\n  "b": [1, 2\n}\n');
      const err = await rejection(client([file]).getValues(['/']));
      expect(err).to.be.instanceOf(BackendError);
      expect(err.message).to.match(/bad\.json:\d+:\d+: /);
    });

    it('rejects a file whose top level is not a mapping', async () => {
      const file = await write('list.yaml', '- a\n- b\n');
      const err = await rejection(client([file]).getValues(['/']));
      expect(err).to.be.instanceOf(BackendError);
      expect(err.message).to.contain('list.yaml').and.to.contain('mapping');
    });
  });

  describe('createClient', () => {
    it('builds a client from -file and -filter', async () => {
      await write('d/x.yaml', 'x: 1\n');
      await write('d/x.json', '{"y": 2}');
      const c = await createClient(
        backendOptions({ backend: 'file', files: [join(dir, 'd')], filter: '*.json' }),
        recordingLogger(),
      );
      clients.push(c);
      expect(Object.fromEntries(await c.getValues(['/']))).to.deep.equal({ '/y': '2' });
    });

    it('requires at least one -file', async () => {
      const err = await rejection(
        createClient(backendOptions({ backend: 'file', files: [] }), recordingLogger()),
      );
      expect(err).to.be.instanceOf(UsageError);
      expect((err as UsageError).flag).to.equal('-file');
    });
  });

  describe('watch', () => {
    /** Arms `prefix` on `c`; released by the client's close. */
    const arm = (c: FileStoreClient, prefix = '/'): Promise<PrefixWatch> => c.watch(prefix);
    /** The next change after `index` concerning `keys` (default: the whole prefix). */
    const next = (
      w: PrefixWatch,
      index = w.index,
      keys: readonly string[] = [w.prefix],
      signal = never(),
    ): Promise<WatchResult> => w.next(index, keys, { signal });

    /** Writes through a temporary file and a rename, as editors and config managers do. */
    async function replace(file: string, text: string): Promise<void> {
      await writeFile(`${file}.tmp`, text);
      await rename(`${file}.tmp`, file);
    }

    /** File system watches this process holds (fs.watch handles). */
    const fsWatchers = (): number =>
      process.getActiveResourcesInfo().filter((name) => name === 'FSEventWrap').length;

    it('arms with an index, shared by every holder of the prefix', async () => {
      const file = await write('w.yaml', 'a: 1\n');
      const c = client([file]);
      const first = await arm(c);
      expect(first.index).to.be.greaterThan(0);
      expect(first.prefix).to.equal('/');
      const second = await arm(c, '/');
      expect(second.index).to.equal(first.index);
    });

    it('reports the keys a write created, changed and deleted, with a higher index', async () => {
      const file = await write('w.yaml', 'a: 1\nb: 2\nc: 3\n');
      const c = client([file]);
      const w = await arm(c);
      const changed = next(w);
      await writeFile(file, 'a: 1\nb: 20\nd: 4\n');
      const result = await changed;
      expect(result.index).to.be.greaterThan(w.index);
      expect(result.changedKeys).to.deep.equal(['/b', '/c', '/d']);
    });

    it('only wakes a prefix, or a holder, whose keys changed', async () => {
      const file = await write('w.yaml', 'app:\n  x: 1\n  y: 1\nother:\n  y: 1\n');
      const c = client([file]);
      const app = await arm(c, '/app');
      const other = await arm(c, '/other');
      const appWoken = track(next(app));
      const appYWoken = track(next(app, app.index, ['/app/y']));
      const otherWoken = next(other);
      await writeFile(file, 'app:\n  x: 1\n  y: 1\nother:\n  y: 2\n');
      expect((await otherWoken).changedKeys).to.deep.equal(['/other/y']);
      await new Promise((resolve) => setImmediate(resolve));
      expect(appWoken.settled()).to.equal(false);
      await writeFile(file, 'app:\n  x: 2\n  y: 1\nother:\n  y: 2\n');
      expect((await appWoken.promise).changedKeys).to.deep.equal(['/app/x']);
      expect(appYWoken.settled()).to.equal(false);
      await writeFile(file, 'app:\n  x: 2\n  y: 2\nother:\n  y: 2\n');
      expect((await appYWoken.promise).changedKeys).to.deep.equal(['/app/y']);
    });

    it('keeps following a file that editors replace by rename, again and again', async () => {
      const file = await write('w.yaml', 'a: 1\n');
      const c = client([file]);
      const w = await arm(c);
      let index = w.index;
      for (const value of [2, 3]) {
        const changed = next(w, index);
        await replace(file, `a: ${value}\n`);
        const result = await changed;
        expect(result.index).to.be.greaterThan(index);
        expect(result.changedKeys).to.deep.equal(['/a']);
        index = result.index;
        expect(Object.fromEntries(await c.getValues(['/a']))).to.deep.equal({ '/a': String(value) });
      }
    });

    it('does not lose a change made between two waits', async () => {
      const file = await write('w.yaml', 'a: 1\n');
      const c = client([file]);
      const w = await arm(c);
      // Another prefix of the same client sees the write once it has been read: nobody waited on `w` then.
      const probe = await arm(c, '/a');
      const probed = next(probe);
      await writeFile(file, 'a: 2\n');
      await probed;
      const result = await next(w);
      expect(result.index).to.be.greaterThan(w.index);
      expect(result.changedKeys).to.deep.equal(['/a']);
    });

    it('picks up a file that is deleted and created again later, and wakes nobody meanwhile', async () => {
      const file = await write('w.yaml', 'a: 1\n');
      const logger = recordingLogger();
      const c = client([file], '*', logger);
      const w = await arm(c);
      const changed = track(next(w));
      await rm(file);
      // The read that fails is reported once, and nobody is woken by it.
      await eventually(() => logger.messages('warn').some((line) => line.includes('w.yaml')), 'the warning');
      expect(changed.settled()).to.equal(false);
      await writeFile(file, 'a: 5\n');
      expect((await changed.promise).changedKeys).to.deep.equal(['/a']);
    });

    it('reports no deletion for a file emptied mid-rewrite, and only what changed once it is written', async () => {
      const file = await write('w.yaml', 'a: 1\nb: 1\n');
      const logger = recordingLogger();
      const c = client([file], '*', logger);
      const w = await arm(c);
      const changed = track(next(w));
      await writeFile(file, '');
      await eventually(
        () => logger.messages('warn').some((line) => line.includes('using its last good content')),
        'the last good content to stand in',
      );
      expect(changed.settled()).to.equal(false);
      expect(Object.fromEntries(await c.getValues(['/']))).to.deep.equal({ '/a': '1', '/b': '1' });
      await writeFile(file, 'a: 1\nb: 2\n');
      expect((await changed.promise).changedKeys).to.deep.equal(['/b']);
    });

    it('arms on a file not readable yet, then says "anything may have changed" once it reads', async () => {
      const file = await write('w.yaml', 'a: [1\n');
      const logger = recordingLogger();
      const c = client([file], '*', logger);
      const w = await arm(c);
      expect(logger.messages('warn').join('\n')).to.contain('w.yaml');
      const changed = next(w);
      await writeFile(file, 'a: 1\n');
      const result = await changed;
      expect(result.index).to.be.greaterThan(w.index);
      expect(result.changedKeys).to.equal(undefined);
    });

    it('sees new files in a watched directory', async () => {
      await write('conf/a.yaml', 'a: 1\n');
      const c = client([join(dir, 'conf')]);
      const w = await arm(c);
      const changed = next(w);
      await write('conf/sub/b.yaml', 'b: 2\n');
      expect((await changed).changedKeys).to.deep.equal(['/b']);
    });

    it('ignores other files in the directory of a watched file', async () => {
      const file = await write('w.yaml', 'a: 1\n');
      const c = client([file]);
      const w = await arm(c);
      const changed = track(next(w));
      // A client watching the unrelated file shows when its event has been delivered.
      const probe = await arm(client([await write('unrelated.yaml', 'x: 1\n')]));
      const probed = next(probe);
      await writeFile(join(dir, 'unrelated.yaml'), 'x: 2\n');
      await probed;
      expect(changed.settled()).to.equal(false);
      await writeFile(file, 'a: 2\n');
      expect((await changed.promise).index).to.be.greaterThan(w.index);
    });

    it("rejects a wait with its signal's reason, and keeps the watch for the next wait", async () => {
      const file = await write('w.yaml', 'a: 1\n');
      const c = client([file]);
      const w = await arm(c);
      const controller = new AbortController();
      const waiting = next(w, w.index, ['/'], controller.signal);
      controller.abort();
      expect((await rejection(waiting)).name).to.equal('AbortError');
      const changed = next(w);
      await writeFile(file, 'a: 2\n');
      expect((await changed).changedKeys).to.deep.equal(['/a']);
    });

    it('fails the watch for good when a watched directory goes away; a fresh watch works once it is back', async () => {
      const file = await write('gone/w.yaml', 'a: 1\n');
      const c = client([file]);
      const w = await arm(c);
      const waiting = rejection(next(w));
      await rm(join(dir, 'gone'), { recursive: true });
      expect(await waiting).to.be.instanceOf(BackendError);
      // Failed for good: a later wait on it rejects too, and arming anew fails while the directory is gone.
      expect(await rejection(next(w))).to.be.instanceOf(BackendError);
      w.release();
      expect(await rejection(arm(c))).to.be.instanceOf(BackendError);
      await write('gone/w.yaml', 'a: 2\n');
      const fresh = await arm(c);
      expect(Object.fromEntries(await c.getValues(['/']))).to.deep.equal({ '/a': '2' });
      // An index of the failed watch means nothing to the fresh one: re-read everything.
      expect((await next(fresh, w.index)).changedKeys).to.equal(undefined);
      const changed = next(fresh);
      await writeFile(file, 'a: 3\n');
      expect((await changed).changedKeys).to.deep.equal(['/a']);
    });

    it('fails with a BackendError when a path cannot be watched', async () => {
      const err = await rejection(arm(client([join(dir, 'no-such-dir', 'w.yaml')])));
      expect(err).to.be.instanceOf(BackendError);
      expect(err.message).to.contain('no-such-dir');
    });

    it('stops watching the file system when the last holder releases, and watches again on the next arm', async () => {
      const before = fsWatchers();
      const file = await write('w.yaml', 'a: 1\n');
      const c = client([file]);
      const a = await arm(c, '/a');
      const b = await arm(c, '/b');
      expect(fsWatchers()).to.be.greaterThan(before);
      a.release();
      expect(await rejection(next(a))).to.be.instanceOf(BackendError);
      // Still watched for the other holder.
      const changed = next(b);
      await writeFile(file, 'a: 1\nb: 1\n');
      expect((await changed).changedKeys).to.deep.equal(['/b']);
      b.release();
      await eventually(() => fsWatchers() === before, 'the file system watches to be closed');
      const again = await arm(c);
      expect(fsWatchers()).to.be.greaterThan(before);
      const later = next(again);
      await writeFile(file, 'a: 2\nb: 1\n');
      expect((await later).changedKeys).to.deep.equal(['/a']);
    });

    it('on close, rejects waits with a BackendError, closes its file system watches and refuses new ones', async () => {
      const before = fsWatchers();
      const file = await write('w.yaml', 'a: 1\n');
      const c = client([file]);
      const w = await arm(c);
      const waiting = rejection(next(w));
      await c.close();
      expect(await waiting).to.be.instanceOf(BackendError);
      expect(await rejection(arm(c))).to.be.instanceOf(BackendError);
      await eventually(() => fsWatchers() === before, 'the file system watches to be closed');
    });
  });
});

/** Tracks whether a promise has settled yet. */
function track<T>(promise: Promise<T>): { promise: Promise<T>; settled: () => boolean } {
  let done = false;
  promise.then(
    () => (done = true),
    () => (done = true),
  );
  return { promise, settled: () => done };
}

describe('goFloatText', () => {
  it("prints floats like strconv.FormatFloat(f, 'f', -1, 64)", () => {
    expect(goFloatText(1)).to.equal('1');
    expect(goFloatText(-0.25)).to.equal('-0.25');
    expect(goFloatText(1.5e-7)).to.equal('0.00000015');
    expect(goFloatText(-1.25e22)).to.equal('-12500000000000000000000');
    expect(goFloatText(Number.NaN)).to.equal('NaN');
    expect(goFloatText(-Infinity)).to.equal('-Inf');
  });
});
