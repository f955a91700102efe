import { expect } from 'chai';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { ConfigError } from '../../../src/errors.js';
import { loadResources, prefixedKeys } from '../../../src/resources/load-resources.js';
import { RecordingLogger } from '../../support/loggers.js';

describe('loadResources', () => {
  let confdir: string;
  let logger: RecordingLogger;

  beforeEach(async () => {
    confdir = await mkdtemp(join(tmpdir(), 'confd-resources-'));
    await mkdir(join(confdir, 'conf.d'));
    logger = new RecordingLogger();
  });
  afterEach(async () => {
    await rm(confdir, { recursive: true, force: true });
  });

  async function resourceFile(rel: string, body: string): Promise<string> {
    const file = join(confdir, 'conf.d', rel);
    await mkdir(dirname(file), { recursive: true });
    await writeFile(file, body);
    return file;
  }

  const minimal = (name: string, extra = '') =>
    `[template]\nsrc = "${name}.tmpl"\ndest = "/tmp/${name}.conf"\nkeys = ["/x"]\n${extra}`;

  async function loadOne(extra: string, prefix = '') {
    await resourceFile('r.toml', minimal('r', extra));
    return loadResources({ confdir, prefix }, logger);
  }

  async function loadFailure(body: string): Promise<ConfigError> {
    const file = await resourceFile('bad.toml', body);
    const { resources, failures } = await loadResources({ confdir, prefix: '' }, logger);
    expect(resources).to.have.length(0);
    expect(failures).to.have.length(1);
    const failure = failures[0] as ConfigError;
    expect(failure).to.be.instanceOf(ConfigError);
    expect(failure.file).to.equal(file);
    expect(failure.message).to.include(file);
    return failure;
  }

  describe('finding files', () => {
    it('loads every *.toml under conf.d recursively, sorted by relative path', async () => {
      await resourceFile('b.toml', minimal('b'));
      await resourceFile('sub/c.toml', minimal('c'));
      await resourceFile('a.toml', minimal('a'));
      await resourceFile('a/z.toml', minimal('z'));
      await resourceFile('notes.txt', 'not a resource');
      await mkdir(join(confdir, 'conf.d', 'dir.toml'));

      const { resources, failures } = await loadResources({ confdir, prefix: '' }, logger);

      expect(failures).to.deep.equal([]);
      expect(resources.map((r) => r.file)).to.deep.equal(
        ['a.toml', 'a/z.toml', 'b.toml', 'sub/c.toml'].map((rel) => join(confdir, 'conf.d', rel)),
      );
    });

    it('follows symlinked resource files', async () => {
      const target = join(confdir, 'elsewhere.toml');
      await writeFile(target, minimal('linked'));
      await symlink(target, join(confdir, 'conf.d', 'linked.toml'));
      // A link to a directory is no resource; a dangling link is that resource's failure.
      await mkdir(join(confdir, 'a-dir'));
      await symlink(join(confdir, 'a-dir'), join(confdir, 'conf.d', 'dir-link.toml'));
      await symlink(join(confdir, 'missing.toml'), join(confdir, 'conf.d', 'dangling.toml'));
      const { resources, failures } = await loadResources({ confdir, prefix: '' }, logger);
      expect(resources.map((r) => r.dest)).to.deep.equal(['/tmp/linked.conf']);
      expect(failures.map((f) => (f as ConfigError).file)).to.deep.equal([
        join(confdir, 'conf.d', 'dangling.toml'),
      ]);
    });

    it('throws a ConfigError saying conf.d does not exist', async () => {
      await rm(join(confdir, 'conf.d'), { recursive: true });
      let caught: unknown;
      try {
        await loadResources({ confdir, prefix: '' }, logger);
      } catch (err) {
        caught = err;
      }
      expect(caught).to.be.instanceOf(ConfigError);
      expect((caught as Error).message)
        .to.include(join(confdir, 'conf.d'))
        .and.include('does not exist');
    });

    it('fails only the bad file; the others still load', async () => {
      await resourceFile('a.toml', minimal('a'));
      await resourceFile('b.toml', '[template\nsrc = "x"');
      await resourceFile('c.toml', minimal('c'));
      const { resources, failures } = await loadResources({ confdir, prefix: '' }, logger);
      expect(resources.map((r) => r.dest)).to.deep.equal(['/tmp/a.conf', '/tmp/c.conf']);
      expect(failures.map((f) => f.file)).to.deep.equal([join(confdir, 'conf.d', 'b.toml')]);
    });
  });

  describe('paths, prefixes and keys', () => {
    it('resolves src under templates/ and keeps dest absolute', async () => {
      await resourceFile(
        'r.toml',
        '[template]\nsrc = "nginx/site.tmpl"\ndest = "/etc/nginx/../nginx/site.conf"\n',
      );
      const { resources } = await loadResources({ confdir, prefix: '' }, logger);
      expect(resources[0]?.src).to.equal(join(confdir, 'templates', 'nginx', 'site.tmpl'));
      expect(resources[0]?.dest).to.equal('/etc/nginx/site.conf');
      expect(resources[0]?.keys).to.deep.equal([]);
    });

    it('joins the global and resource prefixes and cleans keys', async () => {
      await resourceFile(
        'r.toml',
        '[template]\nsrc = "a"\ndest = "/a"\nprefix = "app/"\nkeys = ["db//host", "/port/", "x/../y"]\n',
      );
      const { resources } = await loadResources({ confdir, prefix: '/global' }, logger);
      const resource = resources[0];
      expect(resource?.prefix).to.equal('/global/app');
      expect(resource?.keys).to.deep.equal(['/db/host', '/port', '/y']);
      expect(prefixedKeys(resource!)).to.deep.equal([
        '/global/app/db/host',
        '/global/app/port',
        '/global/app/y',
      ]);
    });

    it('uses "/" as the prefix when neither is set', async () => {
      const { resources } = await loadOne('');
      expect(resources[0]?.prefix).to.equal('/');
      expect(prefixedKeys(resources[0]!)).to.deep.equal(['/x']);
    });

    it('uses the global prefix alone when the resource has none', async () => {
      const { resources } = await loadOne('', '/production/');
      expect(resources[0]?.prefix).to.equal('/production');
    });

    for (const src of ['../../etc/passwd', '..', 'a/../../b.tmpl', '/../../etc/shadow', 'x/../../..']) {
      it(`refuses src = "${src}", which climbs out of templates/, naming file, line and key`, async () => {
        const failure = await loadFailure(`[template]\nsrc = "${src}"\ndest = "/a"\n`);
        expect(failure.line).to.equal(2);
        expect(failure.message).to.include('bad.toml:2:').and.include('"src"');
        expect(failure.message).to.include(join(confdir, 'templates'));
      });
    }

    it('refuses a src naming the templates directory itself', async () => {
      const failure = await loadFailure('[template]\nsrc = "sub/.."\ndest = "/a"\n');
      expect(failure.message).to.include('"src"').and.include('templates directory itself');
    });

    it('keeps confd’s join: ".." that stays inside, and an absolute src, land under templates/', async () => {
      await resourceFile('a.toml', '[template]\nsrc = "a/../b.tmpl"\ndest = "/a"\n');
      await resourceFile('b.toml', '[template]\nsrc = "/etc/app.tmpl"\ndest = "/b"\n');
      const { resources, failures } = await loadResources({ confdir, prefix: '' }, logger);
      expect(failures).to.deep.equal([]);
      expect(resources.map((r) => r.src)).to.deep.equal([
        join(confdir, 'templates', 'b.tmpl'),
        join(confdir, 'templates', 'etc', 'app.tmpl'),
      ]);
    });

    it('rejects a missing src, naming the file and key', async () => {
      const failure = await loadFailure('[template]\ndest = "/a"\n');
      expect(failure.message).to.include('"src"').and.include('required');
    });

    it('rejects a missing dest, naming the file and key', async () => {
      const failure = await loadFailure('[template]\nsrc = "a"\n');
      expect(failure.message).to.include('"dest"').and.include('required');
    });

    it('resolves a relative dest against the working directory, as confd does', async () => {
      await resourceFile('r.toml', '[template]\nsrc = "a"\ndest = "out/a.conf"\n');
      const { resources, failures } = await loadResources({ confdir, prefix: '' }, logger);
      expect(failures).to.deep.equal([]);
      expect(resources[0]?.dest).to.equal(join(process.cwd(), 'out', 'a.conf'));
    });

    it('rejects a file without a [template] table', async () => {
      const failure = await loadFailure('[templates]\nsrc = "a"\ndest = "/a"\n');
      expect(failure.message).to.include('no [template] table');
    });

    it('reports TOML syntax errors with line and column', async () => {
      const failure = await loadFailure('[template]\nsrc = "a"\ndest = /a\n');
      expect(failure.line).to.equal(3);
      expect(failure.column).to.be.a('number');
      expect(failure.message).to.include(`bad.toml:3:${failure.column}`).and.include('invalid TOML');
    });
  });

  describe('types', () => {
    it('reads mode as an octal string', async () => {
      for (const [written, expected] of [
        ['"0644"', 0o644],
        ['"755"', 0o755],
        ['"0o600"', 0o600],
        ['"4755"', 0o4755],
      ] as const) {
        await resourceFile('r.toml', minimal('r', `mode = ${written}\n`));
        const { resources, failures } = await loadResources({ confdir, prefix: '' }, logger);
        expect(failures, written).to.deep.equal([]);
        expect(resources[0]?.mode, written).to.equal(expected);
      }
    });

    it('leaves mode undefined when not given', async () => {
      const { resources } = await loadOne('');
      expect(resources[0]).to.not.have.property('mode');
    });

    it('reads engine = "go" / "handlebars" (any case); without it the engine is left to the name', async () => {
      expect((await loadOne('engine = "handlebars"\n')).resources[0]?.engine).to.equal('handlebars');
      expect((await loadOne('engine = "Go"\n')).resources[0]?.engine).to.equal('go');
      expect((await loadOne('')).resources[0]).to.not.have.property('engine');
    });

    it('rejects an unknown engine, naming file, key and line', async () => {
      const failure = await loadFailure('[template]\nsrc = "a"\ndest = "/a"\nengine = "jinja"\n');
      expect(failure.line).to.equal(4);
      expect(failure.message).to.include('bad.toml:4:').and.include('"engine" must be "go" or "handlebars"');
    });

    it('rejects an unquoted mode = 0644 with file, line and column and says to quote it', async () => {
      const failure = await loadFailure('[template]\nsrc = "a"\nmode = 0644\ndest = "/a"\n');
      expect(failure.line).to.equal(3);
      expect(failure.column).to.be.a('number');
      expect(failure.message).to.include(`bad.toml:3:`).and.include('mode = "0644"').and.include('quoted');
    });

    it('rejects a numeric mode = 644 with file, line and column', async () => {
      const failure = await loadFailure('[template]\nsrc = "a"\ndest = "/a"\n  mode   = 644\n');
      expect(failure.line).to.equal(4);
      expect(failure.column).to.equal(12);
      expect(failure.message).to.include('bad.toml:4:12').and.include('mode = "644"');
    });

    it('rejects a mode string with non-octal digits', async () => {
      const failure = await loadFailure(minimal('r', 'mode = "0985"\n'));
      expect(failure.message).to.include('"mode"').and.include('octal');
      expect(failure.line).to.equal(5);
    });

    it('rejects wrong value types, naming the key and its line', async () => {
      const failure = await loadFailure('[template]\nsrc = "a"\ndest = "/a"\nkeys = "/single"\n');
      expect(failure.message).to.include('"keys"').and.include('array of strings');
      expect(failure.line).to.equal(4);

      const uid = await loadFailure('[template]\nsrc = "a"\ndest = "/a"\nuid = "0"\n');
      expect(uid.message).to.include('"uid"').and.include('integer');

      const cmd = await loadFailure('[template]\nsrc = "a"\ndest = "/a"\ncheck_cmd = ["true"]\n');
      expect(cmd.message).to.include('"check_cmd"').and.include('string');
    });

    it('reads commands and uid/gid', async () => {
      const { resources, failures } = await loadOne(
        'check_cmd = "nginx -t -c {{.src}}"\nreload_cmd = "nginx -s reload"\nuid = 33\ngid = 44\n',
      );
      expect(failures).to.deep.equal([]);
      expect(resources[0]).to.include({
        checkCmd: 'nginx -t -c {{.src}}',
        reloadCmd: 'nginx -s reload',
        uid: 33,
        gid: 44,
      });
    });

    it('accepts keys in any case, as confd did', async () => {
      await resourceFile('r.toml', '[template]\nSrc = "a"\nDest = "/a"\nKeys = ["/k"]\n');
      const { resources, failures } = await loadResources({ confdir, prefix: '' }, logger);
      expect(failures).to.deep.equal([]);
      expect(resources[0]?.keys).to.deep.equal(['/k']);
    });
  });

  describe('unknown keys', () => {
    it('warns about a typo, naming file and key, and still loads the resource', async () => {
      const { resources, failures } = await loadOne('ower = "root"\n');
      expect(failures).to.deep.equal([]);
      expect(resources).to.have.length(1);
      const warnings = logger.messages('warn');
      expect(warnings).to.have.length(1);
      expect(warnings[0])
        .to.include(join(confdir, 'conf.d', 'r.toml'))
        .and.include('"ower"')
        .and.include('"owner"');
    });
  });

  describe('owner and group', () => {
    it('resolves names via /etc/passwd and /etc/group', async () => {
      const { resources, failures } = await loadOne('owner = "root"\ngroup = "root"\n');
      expect(failures).to.deep.equal([]);
      expect(resources[0]).to.include({ uid: 0, gid: 0 });
    });

    it('reads the given account files', async () => {
      const passwd = join(confdir, 'passwd');
      const group = join(confdir, 'group');
      await writeFile(passwd, 'root:x:0:0::/root:/bin/sh\nweb:x:1234:1234::/srv:/bin/false\n');
      await writeFile(group, 'root:x:0:\nwebgrp:x:4321:web\n');
      await resourceFile('r.toml', minimal('r', 'owner = "web"\ngroup = "webgrp"\n'));
      const { resources, failures } = await loadResources(
        { confdir, prefix: '', accounts: { passwd, group } },
        logger,
      );
      expect(failures).to.deep.equal([]);
      expect(resources[0]).to.include({ uid: 1234, gid: 4321 });
    });

    it('falls back to getent for names the files do not list', async () => {
      const passwd = join(confdir, 'empty-passwd');
      const group = join(confdir, 'empty-group');
      await writeFile(passwd, '');
      await writeFile(group, '');
      await resourceFile('r.toml', minimal('r', 'owner = "root"\ngroup = "root"\n'));
      const { resources, failures } = await loadResources(
        { confdir, prefix: '', accounts: { passwd, group } },
        logger,
      );
      expect(failures).to.deep.equal([]);
      expect(resources[0]).to.include({ uid: 0, gid: 0 });
    });

    it('rejects an unknown user, naming file and key', async () => {
      const failure = await loadFailure(minimal('r', 'owner = "no-such-user-confd"\n'));
      expect(failure.message).to.include('"owner"').and.include('no-such-user-confd');
    });

    it('rejects an unknown group, naming file and key', async () => {
      const failure = await loadFailure(minimal('r', 'group = "no-such-group-confd"\n'));
      expect(failure.message).to.include('"group"').and.include('no-such-group-confd');
    });

    it('rejects uid and owner together', async () => {
      const failure = await loadFailure(minimal('r', 'uid = 0\nowner = "root"\n'));
      expect(failure.message).to.include('"owner"').and.include('uid');
    });
  });

  describe('command timeouts', () => {
    it('defaults to 30s for check and 60s for reload', async () => {
      const { resources } = await loadOne('');
      expect(resources[0]).to.include({ checkCmdTimeoutMs: 30_000, reloadCmdTimeoutMs: 60_000 });
    });

    it('accepts duration strings and integer seconds', async () => {
      const { resources, failures } = await loadOne('check_cmd_timeout = "45s"\nreload_cmd_timeout = "2m"\n');
      expect(failures).to.deep.equal([]);
      expect(resources[0]).to.include({ checkCmdTimeoutMs: 45_000, reloadCmdTimeoutMs: 120_000 });

      const seconds = await loadOne('check_cmd_timeout = 10\nreload_cmd_timeout = "1m30s"\n');
      expect(seconds.resources[0]).to.include({ checkCmdTimeoutMs: 10_000, reloadCmdTimeoutMs: 90_000 });
    });

    it('rejects an unparseable or non-positive timeout, naming the key', async () => {
      const bad = await loadFailure(minimal('r', 'check_cmd_timeout = "soon"\n'));
      expect(bad.message).to.include('"check_cmd_timeout"').and.include('soon');
      expect(bad.line).to.equal(5);

      const zero = await loadFailure(minimal('r', 'reload_cmd_timeout = 0\n'));
      expect(zero.message).to.include('"reload_cmd_timeout"').and.include('greater than zero');
    });

    // Node fires a timer above 2^31-1 ms after 1 ms, which would kill every command at once.
    for (const [line, shown] of [
      ['check_cmd_timeout = "1000h"', '"1000h"'],
      ['reload_cmd_timeout = 2200000', '"2200000"'],
      ['wait = "1s:1000h"', '"1000h"'],
    ] as const) {
      it(`rejects ${line}: longer than a timer can wait`, async () => {
        const err = await loadFailure(minimal('r', `${line}\n`));
        expect(err.line).to.equal(5);
        expect(err.message)
          .to.include(`"${line.split(' ')[0]}"`)
          .and.include(`invalid duration ${shown}: longer than 2147483647 ms (about 24.8 days)`);
      });
    }

    it('accepts a timeout of exactly 2147483647 ms', async () => {
      const { resources, failures } = await loadOne('check_cmd_timeout = "2147483647ms"\n');
      expect(failures).to.deep.equal([]);
      expect(resources[0]).to.include({ checkCmdTimeoutMs: 2_147_483_647 });
    });
  });
});
