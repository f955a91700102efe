import { expect } from 'chai';
import { existsSync } from 'node:fs';
import { readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { cleanEnv, eventually, runConfd, startConfd, Workspace } from './support/confd-process.js';
import { allGone } from '../support/processes.js';
import { endpointOf, get, metricsUntil, sample } from './support/endpoints.js';

const read = (path: string) => readFile(path, 'utf8').catch(() => '');

describe('operable daemon (end to end, file backend): endpoints, logs, live reload, shutdown', function () {
  this.timeout(60_000);
  let ws: Workspace;
  let daemon: ReturnType<typeof startConfd> | undefined;

  beforeEach(async () => {
    ws = await Workspace.create();
    await ws.write('data.yaml', 'app:\n  name: first\n  port: "80"\nweb:\n  host: w1\n');
    await ws.write('templates/app.hbs', 'name={{getv "/app/name"}} port={{getv "/app/port" "none"}}\n');
    await ws.write('templates/web.hbs', 'web={{getv "/web/host"}}\n');
    await ws.write('conf.d/app.toml', resource('app.hbs', 'out/app.conf', ['/app']));
  });

  afterEach(async () => {
    if (daemon && daemon.child.exitCode === null && daemon.child.signalCode === null) {
      daemon.child.kill('SIGKILL');
      await daemon.exited;
    }
    daemon = undefined;
    await ws.remove();
  });

  function resource(src: string, dest: string, keys: string[], extra = ''): string {
    return `[template]\nsrc = "${src}"\ndest = "${ws.path(dest)}"\nkeys = ${JSON.stringify(keys)}\n${extra}`;
  }

  function start(...extra: string[]) {
    daemon = startConfd(['-watch', ...ws.fileBackendArgs(), '-metrics-addr', '127.0.0.1:0', ...extra]);
    return daemon;
  }

  async function replaceData(text: string): Promise<void> {
    await writeFile(ws.path('data.yaml.tmp'), text);
    await rename(ws.path('data.yaml.tmp'), ws.path('data.yaml'));
  }

  it('says what it runs at start, serves /healthz, /readyz, /status and /metrics, and 404/405 otherwise', async () => {
    const d = start();
    const address = await endpointOf(d);
    await eventually(async () => (await get(address, '/readyz')).status === 200, 'ready');
    const log = d.output.stderr;
    expect(log).to.match(/INFO starting confd-ts -- version \d+\.\d+\.\d+/);
    expect(log).to.include('INFO log level set to: info');
    expect(log).to.include('INFO backend file');
    expect(log).to.include(`INFO loaded 1 template resources from ${ws.path('conf.d')}`);
    expect(log).to.include(`INFO metrics server started on ${address}`);

    expect(await get(address, '/healthz')).to.include({ status: 200, body: 'ok\n' });
    expect(JSON.parse((await get(address, '/readyz')).body)).to.deep.equal({ ready: true, reasons: [] });
    const status = JSON.parse((await get(address, '/status')).body) as {
      process: Record<string, unknown>;
      resources: Record<string, unknown>[];
    };
    expect(status.process).to.include({ backend: 'file', mode: 'watch' });
    expect(status.process.version).to.match(/^\d+\.\d+\.\d+/);
    expect(Number.isNaN(Date.parse(String(status.process.start_time)))).to.equal(false);
    expect(status.resources).to.have.length(1);
    const entry = status.resources[0]!;
    expect(entry).to.include({
      toml: ws.path('conf.d/app.toml'),
      dest: ws.path('out/app.conf'),
      last_error: null,
    });
    expect(entry.src).to.equal(ws.path('templates/app.hbs'));
    expect(entry.keys).to.deep.equal(['/app']);
    for (const field of ['last_attempt', 'last_success', 'last_change'])
      expect(String(entry[field]), field).to.match(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z$/);
    expect(entry.watch).to.deep.include({
      prefix: '/app',
      state: 'armed',
      index: 1,
      since: (entry.watch as { since: string }[])[0]?.since,
    });

    const metrics = await get(address, '/metrics');
    expect(metrics.type).to.include('text/plain');
    const dest = ws.path('out/app.conf');
    expect(sample(metrics.body, 'confd_template_syncs_total', { dest, result: 'updated' })).to.equal(1);
    expect(sample(metrics.body, 'confd_resources')).to.equal(1);
    expect(sample(metrics.body, 'confd_backend_up')).to.equal(1);
    expect(sample(metrics.body, 'confd_config_last_reload_successful')).to.equal(1);
    expect(sample(metrics.body, 'confd_last_sync_success_timestamp_seconds', { dest })).to.be.greaterThan(0);
    expect(sample(metrics.body, 'process_cpu_user_seconds_total')).to.be.a('number');

    await replaceData('app:\n  name: second\n  port: "81"\nweb:\n  host: w1\n');
    await metricsUntil(
      address,
      (t) => sample(t, 'confd_watch_events_total', { prefix: '/app' }) === 1,
      'a watch event',
    );
    await metricsUntil(
      address,
      (t) => sample(t, 'confd_template_syncs_total', { dest, result: 'updated' }) === 2,
      'the second sync',
    );

    expect((await get(address, '/nope')).status).to.equal(404);
    expect((await get(address, '/metrics', 'POST')).status).to.equal(405);
    const head = await get(address, '/status', 'HEAD');
    expect(head).to.include({ status: 200, body: '' });
  });

  it('counts a failed check as confd_template_failures_total{reason="check"}, and /readyz says which resource', async () => {
    await ws.write(
      'conf.d/app.toml',
      resource('app.hbs', 'out/app.conf', ['/app'], 'check_cmd = "exit 3"\n'),
    );
    const d = start();
    const address = await endpointOf(d);
    const dest = ws.path('out/app.conf');
    const text = await metricsUntil(
      address,
      (t) => (sample(t, 'confd_template_failures_total', { dest, reason: 'check' }) ?? 0) >= 1,
      'a check failure counted',
    );
    expect(sample(text, 'confd_template_syncs_total', { dest, result: 'failed' })).to.be.at.least(1);
    const ready = await get(address, '/readyz');
    expect(ready.status).to.equal(503);
    const body = JSON.parse(ready.body) as { ready: boolean; reasons: { resource: string; error: string }[] };
    expect(body.ready).to.equal(false);
    expect(body.reasons[0]?.resource).to.equal(ws.path('conf.d/app.toml'));
    expect(body.reasons[0]?.error).to.include('check command exited with code 3');
    const status = JSON.parse((await get(address, '/status')).body) as { resources: { check: unknown }[] };
    expect(status.resources[0]?.check).to.deep.include({ exit_code: 3 });
  });

  it('-log-format json: one object per line, with dest and resource on the lines about a resource', async () => {
    const d = start('-log-format', 'json');
    await eventually(async () => (await read(ws.path('out/app.conf'))) !== '', 'the first render');
    await eventually(() => d.output.stderr.includes('has been updated'), 'the update line');
    const lines = d.output.stderr.split('\n').filter((l) => l.trim() !== '');
    const entries = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    for (const entry of entries) {
      expect(entry)
        .to.have.property('time')
        .that.matches(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
      expect(entry).to.have.property('level').that.is.oneOf(['debug', 'info', 'warning', 'error']);
      expect(entry).to.have.property('msg').that.is.a('string');
    }
    const update = entries.find((e) => String(e.msg).includes('has been updated'));
    expect(update).to.include({ dest: ws.path('out/app.conf'), resource: ws.path('conf.d/app.toml') });
    expect(entries.find((e) => String(e.msg).startsWith('backend file'))).to.include({ backend: 'file' });
  });

  it('applies conf.d and template edits on disk, at most once per 2 s window, touching only what changed', async () => {
    await ws.write(
      'conf.d/web.toml',
      resource(
        'web.hbs',
        'out/web.conf',
        ['/web'],
        'reload_cmd = "echo web >> RELOADS"\n'.replace('RELOADS', ws.path('web-reloads')),
      ),
    );
    const d = start();
    const address = await endpointOf(d);
    await eventually(async () => (await read(ws.path('out/web.conf'))) === 'web=w1\n', 'web rendered');
    // A new resource, a changed template and a removed resource, dropped in one after the other.
    await ws.write('templates/extra.hbs', 'extra={{getv "/app/name"}}\n');
    await ws.write('conf.d/extra.toml', resource('extra.hbs', 'out/extra.conf', ['/app']));
    await ws.write('templates/app.hbs', 'NAME={{getv "/app/name"}}\n');
    await rm(ws.path('conf.d/web.toml'));
    await eventually(
      async () => (await read(ws.path('out/extra.conf'))) === 'extra=first\n',
      'the new resource',
    );
    await eventually(
      async () => (await read(ws.path('out/app.conf'))) === 'NAME=first\n',
      'the changed template',
    );
    await eventually(() => /configuration reloaded \(files\)/.test(d.output.stderr), 'the reload line');
    const text = await metricsUntil(address, (t) => sample(t, 'confd_resources') === 2, 'two resources');
    // Probably one reload for all three edits (they fall in one window); never one per file event.
    expect(sample(text, 'confd_config_reloads_total', { result: 'success' })).to.be.within(1, 3);
    const status = JSON.parse((await get(address, '/status')).body) as { resources: { toml: string }[] };
    expect(status.resources.map((r) => r.toml).sort()).to.deep.equal([
      ws.path('conf.d/app.toml'),
      ws.path('conf.d/extra.toml'),
    ]);
    // The removed resource's file stays as it was and is no longer rendered nor reloaded.
    await replaceData('app:\n  name: first\n  port: "80"\nweb:\n  host: w2\n');
    await replaceData('app:\n  name: third\n  port: "80"\nweb:\n  host: w3\n');
    await eventually(
      async () => (await read(ws.path('out/extra.conf'))) === 'extra=third\n',
      'a later change',
    );
    expect(await read(ws.path('out/web.conf'))).to.equal('web=w1\n');
    expect(await read(ws.path('web-reloads'))).to.equal('web\n');
  });

  it('rejects an invalid conf.d whole (file and line named, reload metric 0) and keeps the running set', async () => {
    const d = start();
    const address = await endpointOf(d);
    await eventually(async () => (await read(ws.path('out/app.conf'))) !== '', 'the first render');
    await ws.write('conf.d/web.toml', resource('web.hbs', 'out/web.conf', ['/web']));
    await ws.write('conf.d/broken.toml', '[template]\nsrc = "web.hbs"\ndest = \n');
    await eventually(() => /reload \(files\) rejected/.test(d.output.stderr), 'the rejection');
    expect(d.output.stderr).to.match(/broken\.toml:3/);
    const text = await metricsUntil(
      address,
      (t) => sample(t, 'confd_config_last_reload_successful') === 0,
      'reload failed',
    );
    expect(sample(text, 'confd_config_reloads_total', { result: 'failure' })).to.be.at.least(1);
    expect(sample(text, 'confd_resources')).to.equal(1);
    expect(existsSync(ws.path('out/web.conf'))).to.equal(false);
    await replaceData('app:\n  name: still-watched\n');
    await eventually(
      async () => (await read(ws.path('out/app.conf'))).startsWith('name=still-watched'),
      'old set',
    );
  });

  it('SIGHUP re-reads confd.toml: a new -file there swaps the store client and renders from it', async () => {
    await ws.write('other.yaml', 'app:\n  name: from-other-file\n');
    const config = await ws.write(
      'confd.toml',
      `backend = "file"\nfile = ["${ws.path('data.yaml')}"]\nwatch = true\n`,
    );
    daemon = startConfd(['-config-file', config, '-confdir', ws.root, '-metrics-addr', '127.0.0.1:0']);
    const d = daemon;
    await eventually(
      async () => (await read(ws.path('out/app.conf'))).startsWith('name=first'),
      'first render',
    );
    await writeFile(config, `backend = "file"\nfile = ["${ws.path('other.yaml')}"]\nwatch = true\n`);
    d.child.kill('SIGHUP');
    await eventually(
      async () => (await read(ws.path('out/app.conf'))).startsWith('name=from-other-file'),
      'new store',
    );
    expect(d.output.stderr).to.include('SIGHUP received: reloading the configuration');
    d.child.kill('SIGTERM');
    expect((await d.exited).code).to.equal(0);
  });

  it('SIGTERM: says how long it allows, kills a hanging check with its process group at -shutdown-timeout, leaves no stage file, exits 0', async () => {
    const pidFile = ws.path('grandchild.pid');
    const started = ws.path('started');
    const check = `sh -c 'echo $$ > ${pidFile}; exec sleep 1000' & touch ${started}; wait`;
    await ws.write(
      'conf.d/app.toml',
      resource('app.hbs', 'out/app.conf', ['/app'], `check_cmd = "${check}"\ncheck_cmd_timeout = "1h"\n`),
    );
    const d = start('-shutdown-timeout', '1s');
    await eventually(() => existsSync(started) && existsSync(pidFile), 'the check running');
    const grandchild = Number((await read(pidFile)).trim());
    d.child.kill('SIGTERM');
    const result = await d.exited;
    expect(result.code, result.stderr).to.equal(0);
    expect(result.stderr).to.match(
      /SIGTERM received: finishing the work in flight \(allowing 1s for a graceful shutdown\)/,
    );
    expect(result.stderr).to.include('shutdown timeout (1s) reached');
    await allGone([grandchild], 'the check’s grandchild');
    expect(
      (await readdir(ws.path('out')).catch(() => [])).filter((f) => f.includes('confd-stage')),
    ).to.deep.equal([]);
  });

  it('a second SIGTERM cuts the wait short but still kills the command group and removes the stage file', async () => {
    const pidFile = ws.path('grandchild.pid');
    const check = `sh -c 'echo $$ > ${pidFile}; exec sleep 1000' & wait`;
    await ws.write(
      'conf.d/app.toml',
      resource('app.hbs', 'out/app.conf', ['/app'], `check_cmd = "${check}"\ncheck_cmd_timeout = "1h"\n`),
    );
    const d = start('-shutdown-timeout', '1h');
    await eventually(() => existsSync(pidFile), 'the check running');
    const grandchild = Number((await read(pidFile)).trim());
    d.child.kill('SIGTERM');
    await eventually(() => d.output.stderr.includes('SIGTERM received'), 'the first signal seen');
    d.child.kill('SIGTERM');
    const result = await d.exited;
    expect(result.code, result.stderr).to.equal(0);
    expect(result.stderr).to.include('SIGTERM again: cutting the work in flight short');
    await allGone([grandchild], 'the check’s grandchild');
    expect(
      (await readdir(ws.path('out')).catch(() => [])).filter((f) => f.includes('confd-stage')),
    ).to.deep.equal([]);
  });

  it('-onetime: SIGHUP ends the run as a signal would (no reload), killing the check and removing the stage file', async () => {
    const started = ws.path('started');
    await ws.write(
      'conf.d/app.toml',
      resource('app.hbs', 'out/app.conf', ['/app'], `check_cmd = "touch ${started}; sleep 1000"\n`),
    );
    const d = startConfd(['-onetime', ...ws.fileBackendArgs(), '-shutdown-timeout', '1h'], {
      env: cleanEnv(),
    });
    daemon = d;
    await eventually(() => existsSync(started), 'the check running');
    d.child.kill('SIGHUP');
    await eventually(() => d.output.stderr.includes('SIGHUP received'), 'the signal seen');
    d.child.kill('SIGHUP');
    const result = await d.exited;
    expect(result.code).to.equal(129);
    expect(existsSync(ws.path('out/app.conf'))).to.equal(false);
    expect(
      (await readdir(ws.path('out')).catch(() => [])).filter((f) => f.includes('confd-stage')),
    ).to.deep.equal([]);
  });

  it('-metrics-addr that cannot be bound is a clear error, exit 1', async () => {
    const first = start();
    const address = await endpointOf(first);
    const second = await runConfd(['-watch', ...ws.fileBackendArgs(), '-metrics-addr', address]);
    expect(second.code).to.equal(1);
    expect(second.stderr).to.include(`-metrics-addr ${address}: cannot listen`);
  });
});
