import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { eventually } from '../support/async.js';
import {
  prometheusApi,
  prometheusRuntimeInfo,
  reloadPrometheus,
  usePrometheus,
  writePrometheusConfig,
  type RunningPrometheus,
} from './support/prometheus.js';

const run = promisify(execFile);

/** promtool's verdict on a configuration file: its exit code and what it printed. */
async function promtoolCheck(file: string): Promise<{ code: number; output: string }> {
  try {
    const { stdout, stderr } = await run('promtool', ['check', 'config', file]);
    return { code: 0, output: stdout + stderr };
  } catch (err) {
    const failure = err as { code?: number; stdout?: string; stderr?: string };
    return { code: failure.code ?? -1, output: `${failure.stdout ?? ''}${failure.stderr ?? ''}` };
  }
}

const config = (job: string, target: string): string =>
  `global:\n  scrape_interval: 15s\nscrape_configs:\n  - job_name: ${job}\n    static_configs:\n      - targets: ['${target}']\n`;

// A duration Prometheus cannot parse: promtool and the reload both refuse the file.
const invalidConfig = 'scrape_configs:\n  - job_name: broken\n    scrape_interval: soon\n';

describe('real Prometheus (scripts/stores.sh start prometheus)', function () {
  this.timeout(30_000);
  let prometheus: RunningPrometheus;
  let scratch: string;

  before(async function () {
    this.timeout(300_000);
    prometheus = await usePrometheus();
    scratch = await mkdtemp(join(tmpdir(), 'confd-ts-prometheus-'));
  });

  after(async () => {
    // Leave the shared instance as it started: no jobs, last reload successful.
    if (prometheus) {
      await writePrometheusConfig(prometheus, 'scrape_configs: []\n');
      await reloadPrometheus(prometheus);
    }
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  const configuredJobs = async (): Promise<string> =>
    (await prometheusApi<{ yaml: string }>(prometheus, 'status/config')).yaml;

  const lastReloadSuccessful = async (): Promise<string | undefined> => {
    const text = await (await fetch(`${prometheus.url}/metrics`)).text();
    return /^prometheus_config_last_reload_successful (\S+)$/m.exec(text)?.[1];
  };

  it('runs on 127.0.0.1 from a throwaway directory and is ready', async () => {
    expect(prometheus.endpoint).to.match(/^127\.0\.0\.1:\d+$/);
    expect((await fetch(`${prometheus.url}/-/ready`)).status).to.equal(200);
    expect(prometheus.configFile.startsWith(tmpdir())).to.equal(true);
    const info = await prometheusRuntimeInfo(prometheus);
    expect(info.reloadConfigSuccess).to.equal(true);
  });

  it('loads a new configuration on POST /-/reload and scrapes its target', async () => {
    const valid = config('confd-smoke', prometheus.endpoint);
    const file = join(scratch, 'valid.yml');
    await writeFile(file, valid);
    const check = await promtoolCheck(file);
    expect(check.code, check.output).to.equal(0);

    await writePrometheusConfig(prometheus, valid);
    const reload = await reloadPrometheus(prometheus);
    expect(reload.status, reload.body).to.equal(200);
    expect((await prometheusRuntimeInfo(prometheus)).reloadConfigSuccess).to.equal(true);
    expect(await configuredJobs()).to.include('job_name: confd-smoke');
    await eventually(
      async () => {
        const { activeTargets } = await prometheusApi<{
          activeTargets: { labels: Record<string, string> }[];
        }>(prometheus, 'targets');
        return activeTargets.some((t) => t.labels['job'] === 'confd-smoke');
      },
      'the new job to be listed in /api/v1/targets',
      20_000,
    );
  });

  it('refuses an invalid configuration (promtool and reload alike) and keeps running the previous one', async () => {
    await writePrometheusConfig(prometheus, config('confd-smoke-kept', prometheus.endpoint));
    expect((await reloadPrometheus(prometheus)).status).to.equal(200);

    const file = join(scratch, 'invalid.yml');
    await writeFile(file, invalidConfig);
    const check = await promtoolCheck(file);
    expect(check.code, check.output).to.equal(1);
    expect(check.output).to.match(/soon/);

    await writePrometheusConfig(prometheus, invalidConfig);
    const reload = await reloadPrometheus(prometheus);
    expect(reload.status).to.equal(500);
    expect(reload.body).to.match(/soon/);
    expect((await prometheusRuntimeInfo(prometheus)).reloadConfigSuccess).to.equal(false);
    expect(await lastReloadSuccessful()).to.equal('0');
    expect((await fetch(`${prometheus.url}/-/healthy`)).status).to.equal(200);
    expect(await configuredJobs()).to.include('job_name: confd-smoke-kept');

    await writePrometheusConfig(prometheus, config('confd-smoke-kept', prometheus.endpoint));
    expect((await reloadPrometheus(prometheus)).status).to.equal(200);
    expect(await lastReloadSuccessful()).to.equal('1');
  });
});
