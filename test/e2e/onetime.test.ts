import { expect } from 'chai';
import { readdir, readFile, stat } from 'node:fs/promises';
import { cleanEnv, runConfd, Workspace } from './support/confd-process.js';

const DATA = `app:
  name: shop
  db:
    host: db.internal
    port: 5432
  upstreams:
    - 10.0.0.1:80
    - 10.0.0.2:80
`;

describe('confd -onetime (end to end)', () => {
  let ws: Workspace;

  beforeEach(async () => {
    ws = await Workspace.create();
    await ws.write('data.yaml', DATA);
    await ws.write(
      'templates/app.conf.hbs',
      'name={{getv "/name"}}\ndb={{getv "/db/host"}}:{{getv "/db/port"}}\n{{#each (getvs "/upstreams/*")}}server {{this}};\n{{/each}}',
    );
  });
  afterEach(() => ws.remove());

  const fileArgs = () => ['-onetime', '-backend', 'file', '-file', ws.path('data.yaml'), '-confdir', ws.root];

  async function resource(name: string, body: string): Promise<void> {
    await ws.write(`conf.d/${name}.toml`, `[template]\n${body}\n`);
  }

  it('renders a resource from the file backend with the resource prefix stripped', async () => {
    await resource(
      'app',
      `src = "app.conf.hbs"\ndest = "${ws.path('out/app.conf')}"\nprefix = "/app"\nkeys = ["/name", "/db", "/upstreams"]`,
    );
    const run = await runConfd(fileArgs());
    expect(run.code, run.stderr).to.equal(0);
    expect(await readFile(ws.path('out/app.conf'), 'utf8')).to.equal(
      'name=shop\ndb=db.internal:5432\nserver 10.0.0.1:80;\nserver 10.0.0.2:80;\n',
    );
    expect((await stat(ws.path('out/app.conf'))).mode & 0o777).to.equal(0o644);
  });

  it('joins the global -prefix and the resource prefix', async () => {
    await ws.write('data.yaml', `prod:\n${DATA.replace(/^/gm, '  ')}`);
    await resource(
      'app',
      `src = "app.conf.hbs"\ndest = "${ws.path('out/app.conf')}"\nprefix = "app"\nkeys = ["/name", "/db", "/upstreams"]`,
    );
    const run = await runConfd([...fileArgs(), '-prefix', '/prod']);
    expect(run.code, run.stderr).to.equal(0);
    expect(await readFile(ws.path('out/app.conf'), 'utf8')).to.match(/^name=shop\n/);
  });

  it('renders from the env backend with confd’s key mapping', async () => {
    await resource(
      'app',
      `src = "app.conf.hbs"\ndest = "${ws.path('out/app.conf')}"\nprefix = "/app"\nkeys = ["/name", "/db", "/upstreams"]`,
    );
    const env = cleanEnv({
      APP_NAME: 'envshop',
      APP_DB_HOST: 'envdb',
      APP_DB_PORT: '6543',
      APP_UPSTREAMS_0: '10.1.0.1:80',
    });
    const run = await runConfd(['-onetime', '-backend', 'env', '-confdir', ws.root], { env });
    expect(run.code, run.stderr).to.equal(0);
    expect(await readFile(ws.path('out/app.conf'), 'utf8')).to.equal(
      'name=envshop\ndb=envdb:6543\nserver 10.1.0.1:80;\n',
    );
  });

  it('fails a resource whose template needs a missing key, names template, line and key, and keeps the old file', async () => {
    await ws.write('templates/broken.hbs', 'first line\nvalue={{getv "/nope"}}\n');
    await ws.write('out/broken.conf', 'previous content\n');
    await resource('a-broken', `src = "broken.hbs"\ndest = "${ws.path('out/broken.conf')}"\nkeys = ["/app"]`);
    await resource(
      'b-app',
      `src = "app.conf.hbs"\ndest = "${ws.path('out/app.conf')}"\nprefix = "/app"\nkeys = ["/name", "/db", "/upstreams"]`,
    );
    const run = await runConfd(fileArgs());
    expect(run.code).to.equal(1);
    expect(run.stderr).to.include('broken.hbs');
    expect(run.stderr).to.match(/broken\.hbs:2\b/);
    expect(run.stderr).to.include('/nope');
    expect(run.stderr).to.match(/2 resources: 1 updated, 0 in sync, 1 failed/);
    expect(await readFile(ws.path('out/broken.conf'), 'utf8')).to.equal('previous content\n');
    // The healthy resource still rendered: one failure never stops the others.
    expect(await readFile(ws.path('out/app.conf'), 'utf8')).to.match(/^name=shop/);
  });

  it('reports invalid TOML with file, line and column and still renders the other resources', async () => {
    await ws.write('conf.d/bad.toml', '[template]\nsrc = "app.conf.hbs"\ndest = \n');
    await resource(
      'good',
      `src = "app.conf.hbs"\ndest = "${ws.path('out/app.conf')}"\nprefix = "/app"\nkeys = ["/name", "/db", "/upstreams"]`,
    );
    const run = await runConfd(fileArgs());
    expect(run.code).to.equal(1);
    expect(run.stderr).to.match(/bad\.toml.*(line )?3/);
    expect(await readFile(ws.path('out/app.conf'), 'utf8')).to.match(/^name=shop/);
  });

  it('leaves dest untouched and no stage file when check_cmd fails', async () => {
    await ws.write('out/app.conf', 'old\n');
    await resource(
      'app',
      `src = "app.conf.hbs"\ndest = "${ws.path('out/app.conf')}"\nprefix = "/app"\nkeys = ["/name", "/db", "/upstreams"]\ncheck_cmd = "grep -q nomatch {{.src}}"`,
    );
    const run = await runConfd(fileArgs());
    expect(run.code).to.equal(1);
    expect(run.stderr).to.include('grep -q nomatch');
    expect(await readFile(ws.path('out/app.conf'), 'utf8')).to.equal('old\n');
    expect(await readdir(ws.path('out'))).to.deep.equal(['app.conf']);
  });

  it('runs check_cmd on the staged file, then the reload command once for resources that share it', async () => {
    const log = ws.path('reload.log');
    for (const name of ['one', 'two']) {
      await resource(
        name,
        `src = "app.conf.hbs"\ndest = "${ws.path(`out/${name}.conf`)}"\nprefix = "/app"\nkeys = ["/name", "/db", "/upstreams"]\ncheck_cmd = "grep -q name=shop {{.src}}"\nreload_cmd = "echo reloaded >> ${log}"`,
      );
    }
    const run = await runConfd(fileArgs());
    expect(run.code, run.stderr).to.equal(0);
    expect(await readFile(log, 'utf8')).to.equal('reloaded\n');
  });

  it('fails the resource when reload_cmd fails, keeping the new file', async () => {
    await resource(
      'app',
      `src = "app.conf.hbs"\ndest = "${ws.path('out/app.conf')}"\nprefix = "/app"\nkeys = ["/name", "/db", "/upstreams"]\nreload_cmd = "exit 3"`,
    );
    const run = await runConfd(fileArgs());
    expect(run.code).to.equal(1);
    expect(await readFile(ws.path('out/app.conf'), 'utf8')).to.match(/^name=shop/);
  });

  it('-noop prints a unified diff and writes nothing', async () => {
    await ws.write('out/app.conf', 'name=old\n');
    await resource(
      'app',
      `src = "app.conf.hbs"\ndest = "${ws.path('out/app.conf')}"\nprefix = "/app"\nkeys = ["/name", "/db", "/upstreams"]`,
    );
    const run = await runConfd([...fileArgs(), '-noop']);
    expect(run.code, run.stderr).to.equal(0);
    expect(run.stdout).to.match(/^-name=old$/m);
    expect(run.stdout).to.match(/^\+name=shop$/m);
    expect(await readFile(ws.path('out/app.conf'), 'utf8')).to.equal('name=old\n');
    expect(await readdir(ws.path('out'))).to.deep.equal(['app.conf']);
  });

  it('-sync-only writes the file but runs neither check nor reload', async () => {
    const marker = ws.path('reloaded');
    await resource(
      'app',
      `src = "app.conf.hbs"\ndest = "${ws.path('out/app.conf')}"\nprefix = "/app"\nkeys = ["/name", "/db", "/upstreams"]\ncheck_cmd = "false"\nreload_cmd = "touch ${marker}"`,
    );
    const run = await runConfd([...fileArgs(), '-sync-only']);
    expect(run.code, run.stderr).to.equal(0);
    expect(await readFile(ws.path('out/app.conf'), 'utf8')).to.match(/^name=shop/);
    const exists = await stat(marker).then(
      () => true,
      () => false,
    );
    expect(exists).to.equal(false);
  });

  it('applies mode from the resource and re-syncs when only the mode differs', async () => {
    await resource(
      'app',
      `src = "app.conf.hbs"\ndest = "${ws.path('out/app.conf')}"\nprefix = "/app"\nkeys = ["/name", "/db", "/upstreams"]\nmode = "0600"`,
    );
    expect((await runConfd(fileArgs())).code).to.equal(0);
    expect((await stat(ws.path('out/app.conf'))).mode & 0o777).to.equal(0o600);
    const { chmod } = await import('node:fs/promises');
    await chmod(ws.path('out/app.conf'), 0o666);
    const run = await runConfd(fileArgs());
    expect(run.stderr).to.match(/1 updated/);
    expect((await stat(ws.path('out/app.conf'))).mode & 0o777).to.equal(0o600);
  });

  it('uses confd.toml from -confdir style config with flags winning over it', async () => {
    await resource(
      'app',
      `src = "app.conf.hbs"\ndest = "${ws.path('out/app.conf')}"\nprefix = "/app"\nkeys = ["/name", "/db", "/upstreams"]`,
    );
    await ws.write('other.yaml', DATA.replace('shop', 'flagshop'));
    const config = await ws.write(
      'confd.toml',
      `backend = "file"\nfile = ["${ws.path('data.yaml')}"]\nconfdir = "${ws.root}"\n`,
    );
    const fromFile = await runConfd(['-onetime', '-config-file', config]);
    expect(fromFile.code, fromFile.stderr).to.equal(0);
    expect(await readFile(ws.path('out/app.conf'), 'utf8')).to.match(/^name=shop\n/);
    const fromFlag = await runConfd(['-onetime', '-config-file', config, '-file', ws.path('other.yaml')]);
    expect(fromFlag.code, fromFlag.stderr).to.equal(0);
    expect(await readFile(ws.path('out/app.conf'), 'utf8')).to.match(/^name=flagshop\n/);
  });

  it('never touches an existing dest when the store file is missing', async () => {
    await ws.write('out/app.conf', 'keep me\n');
    await resource(
      'app',
      `src = "app.conf.hbs"\ndest = "${ws.path('out/app.conf')}"\nprefix = "/app"\nkeys = ["/name"]`,
    );
    const run = await runConfd([
      '-onetime',
      '-backend',
      'file',
      '-file',
      ws.path('missing.yaml'),
      '-confdir',
      ws.root,
    ]);
    expect(run.code).to.equal(1);
    expect(run.stderr).to.include('missing.yaml');
    expect(await readFile(ws.path('out/app.conf'), 'utf8')).to.equal('keep me\n');
  });
});
