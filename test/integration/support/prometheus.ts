/**
 * A real Prometheus (Debian's package, with promtool) for tests, run by scripts/stores.sh like the stores:
 * on 127.0.0.1, a throwaway TSDB, `--web.enable-lifecycle` (POST /-/reload), started once per mocha process
 * and stopped when mocha ends (global-teardown.ts). It starts with no scrape jobs; a test writes the
 * configuration it needs to `configFile` and reloads.
 *
 * The first start on a fresh machine installs the package: call usePrometheus from a `before` hook with a
 * generous timeout, e.g. `this.timeout(180_000)`.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { serverDirectory, stopStore, useStore } from './stores.js';

export interface RunningPrometheus {
  /** host:port on 127.0.0.1. */
  endpoint: string;
  /** http://host:port */
  url: string;
  pid: number;
  /** The file Prometheus reads its configuration from (`--config.file`). */
  configFile: string;
}

/** What GET /api/v1/status/runtimeinfo answers (the fields tests look at). */
export interface PrometheusRuntimeInfo {
  reloadConfigSuccess: boolean;
  lastConfigTime: string;
  startTime: string;
  storageRetention: string;
}

/** Starts Prometheus on first use in this process; later calls share it. */
export async function usePrometheus(): Promise<RunningPrometheus> {
  const { endpoint, pid } = await useStore('prometheus');
  return {
    endpoint,
    url: `http://${endpoint}`,
    pid,
    configFile: join(serverDirectory('prometheus'), 'prometheus.yml'),
  };
}

/** Stops it now (a later usePrometheus starts a fresh one). */
export function stopPrometheus(): Promise<void> {
  return stopStore('prometheus');
}

/** Replaces the configuration file (not loaded until a reload). */
export async function writePrometheusConfig(prometheus: RunningPrometheus, yaml: string): Promise<void> {
  await writeFile(prometheus.configFile, yaml);
}

/** POST /-/reload: 200 when the configuration on disk was loaded, 500 (with the reason) when it was refused. */
export async function reloadPrometheus(
  prometheus: RunningPrometheus,
): Promise<{ status: number; body: string }> {
  const response = await fetch(`${prometheus.url}/-/reload`, { method: 'POST' });
  return { status: response.status, body: await response.text() };
}

export async function prometheusRuntimeInfo(prometheus: RunningPrometheus): Promise<PrometheusRuntimeInfo> {
  return await prometheusApi<PrometheusRuntimeInfo>(prometheus, 'status/runtimeinfo');
}

/** GET /api/v1/<path>: the `data` of a successful answer; anything else throws with the answer. */
export async function prometheusApi<T>(prometheus: RunningPrometheus, path: string): Promise<T> {
  const response = await fetch(`${prometheus.url}/api/v1/${path}`);
  const text = await response.text();
  const body = JSON.parse(text) as { status?: string; data?: T };
  if (!response.ok || body.status !== 'success' || body.data === undefined)
    throw new Error(`Prometheus /api/v1/${path} answered ${response.status}: ${text}`);
  return body.data;
}
