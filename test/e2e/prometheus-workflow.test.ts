import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { expect } from 'chai';
import { Etcd3 } from 'etcd3';
import { useStore } from '../integration/support/stores.js';
import {
  prometheusApi,
  prometheusRuntimeInfo,
  usePrometheus,
  writePrometheusConfig,
  type RunningPrometheus,
} from '../integration/support/prometheus.js';
import { eventually, repoRoot, startConfd, Workspace } from './support/confd-process.js';

const read = (path: string): Promise<string> => readFile(path, 'utf8').catch(() => '');

interface Targets {
  activeTargets: { scrapePool: string; scrapeUrl: string }[];
}

/**
 * The headline use end to end: scrape targets in a real etcd become the prometheus.yml of a real
 * Prometheus, checked by promtool, reloaded natively, verified, rolled back, guarded and backed up.
 */
describe('the Prometheus workflow (end to end, real etcd and a real Prometheus)', function () {
  this.timeout(120_000);
  let etcd: string;
  let admin: Etcd3;
  let prometheus: RunningPrometheus;
  let ws: Workspace;
  let daemon: ReturnType<typeof startConfd> | undefined;
  let P: string;

  before(async function () {
    this.timeout(300_000);
    ({ endpoint: etcd } = await useStore('etcd'));
    admin = new Etcd3({ hosts: `http://${etcd}` });
    prometheus = await usePrometheus();
  });
  after(() => admin?.close());

  beforeEach(async () => {
    P = `/confd-e2e-prom-${randomBytes(4).toString('hex')}`;
    await admin.put(`${P}/global/scrape_interval`).value('15s');
    await admin.put(`${P}/jobs/self/targets/0`).value(prometheus.endpoint);
    // Prometheus starts each scenario from a config of its own, unrelated to confd's.
    await writePrometheusConfig(prometheus, 'global:\n  scrape_interval: 1m\n');
    await fetch(`${prometheus.url}/-/reload`, { method: 'POST' });
    ws = await Workspace.create();
    await ws.write(
      'templates/prometheus.yml.hbs',
      await readFile(`${repoRoot}/templates/prometheus.yml.hbs`, 'utf8'),
    );
  });

  afterEach(async () => {
    if (daemon && daemon.child.exitCode === null && daemon.child.signalCode === null) {
      daemon.child.kill('SIGKILL');
      await daemon.exited;
    }
    daemon = undefined;
    await ws.remove();
    await admin.delete().prefix(P);
  });

  /** The bundled example's resource, pointed at this Prometheus and this prefix. */
  async function resource(options: { check?: boolean } = {}): Promise<void> {
    await ws.write(
      'conf.d/prometheus.toml',
      [
        '[template]',
        'src = "prometheus.yml.hbs"',
        `dest = "${prometheus.configFile}"`,
        `prefix = "${P}"`,
        'keys = ["/global", "/jobs"]',
        ...(options.check === false ? [] : ['check_cmd = "promtool check config {{.src}}"']),
        'backup = 3',
        'rollback = true',
        '[template.guard]',
        'refuse_empty = true',
        'required_keys = ["/jobs"]',
        '[template.reload]',
        `http = "POST ${prometheus.url}/-/reload"`,
        '[template.verify]',
        `http = "GET ${prometheus.url}/api/v1/status/runtimeinfo"`,
        'json_field = "data.reloadConfigSuccess"',
        '',
      ].join('\n'),
    );
  }

  function start() {
    daemon = startConfd([
      '-watch',
      '-interval',
      '86400',
      '-backend',
      'etcd',
      '-node',
      etcd,
      '-confdir',
      ws.root,
    ]);
    return daemon;
  }

  const pools = async (): Promise<string[]> =>
    [
      ...new Set(
        (await prometheusApi<Targets>(prometheus, 'targets')).activeTargets.map((t) => t.scrapePool),
      ),
    ].sort();

  /** Prometheus's own view of its last reload, from its metrics. */
  const lastReloadSuccessful = async (): Promise<number> => {
    const text = await (await fetch(`${prometheus.url}/metrics`)).text();
    return Number(/^prometheus_config_last_reload_successful (\S+)$/m.exec(text)?.[1]);
  };

  async function started(): Promise<void> {
    start();
    await eventually(async () => (await pools()).includes('self'), 'Prometheus scraping the first job');
  }

  it('1. a new target key: re-rendered, promtool accepts, Prometheus reloads and lists the target', async () => {
    await resource();
    await started();
    await admin.put(`${P}/jobs/extra/targets/0`).value('127.0.0.1:9999');
    await eventually(async () => (await pools()).includes('extra'), 'the new job listed by Prometheus');
    const targets = (await prometheusApi<Targets>(prometheus, 'targets')).activeTargets;
    expect(targets.map((t) => t.scrapeUrl)).to.include('http://127.0.0.1:9999/metrics');
    expect((await prometheusRuntimeInfo(prometheus)).reloadConfigSuccess).to.equal(true);
  });

  it('2. a value that makes the config invalid: the check fails, the file stays, Prometheus keeps running it', async () => {
    await resource();
    await started();
    const before = await read(prometheus.configFile);
    await admin.put(`${P}/global/scrape_interval`).value('soon');
    await eventually(
      () => /check command exited with code 1/.test(daemon?.output.stderr ?? ''),
      'the check failure',
    );
    expect(await read(prometheus.configFile)).to.equal(before);
    expect(await lastReloadSuccessful()).to.equal(1);
    expect(await pools()).to.deep.equal(['self']);
  });

  it('3. no check_cmd and an invalid config: the reload answers 500, rollback restores the file and reloads it', async () => {
    await resource({ check: false });
    await started();
    const before = await read(prometheus.configFile);
    await admin.put(`${P}/global/scrape_interval`).value('soon');
    await eventually(
      () => /rolled back to the previous content/.test(daemon?.output.stderr ?? ''),
      'the rollback',
    );
    await eventually(
      () => /reload after the rollback for .* done/.test(daemon?.output.stderr ?? ''),
      'the reload after it',
    );
    expect(daemon?.output.stderr).to.match(/reload for .* failed: reload: POST .* answered HTTP 500/);
    expect(await read(prometheus.configFile)).to.equal(before);
    expect((await prometheusRuntimeInfo(prometheus)).reloadConfigSuccess).to.equal(true);
    expect(await lastReloadSuccessful()).to.equal(1);
    expect(await pools()).to.deep.equal(['self']);
  });

  it('4. the store’s prefix deleted: the guard refuses the render and the old config stays', async () => {
    await resource();
    await started();
    const before = await read(prometheus.configFile);
    await admin.delete().prefix(`${P}/jobs`);
    await eventually(
      () =>
        /render refused by the guard: required_keys: nothing in the store at .*\/jobs/.test(
          daemon?.output.stderr ?? '',
        ),
      'the guard refusal',
    );
    expect(await read(prometheus.configFile)).to.equal(before);
    expect(await pools()).to.deep.equal(['self']);
  });

  it('5. backups rotate: after four changes .bak.1 .. .bak.3 hold the three previous versions', async () => {
    await resource();
    await started();
    const versions = [await read(prometheus.configFile)];
    for (const interval of ['10s', '11s', '12s', '13s']) {
      await admin.put(`${P}/global/scrape_interval`).value(interval);
      await eventually(
        async () => (await read(prometheus.configFile)).includes(`scrape_interval: ${interval}`),
        `the file with ${interval}`,
      );
      versions.push(await read(prometheus.configFile));
    }
    const backup = (n: number) => read(`${prometheus.configFile}.bak.${n}`);
    expect(await backup(1)).to.equal(versions[3]);
    expect(await backup(2)).to.equal(versions[2]);
    expect(await backup(3)).to.equal(versions[1]);
    expect(await read(`${prometheus.configFile}.bak.4`)).to.equal('');
  });
});
