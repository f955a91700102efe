/**
 * Real stores (and a Prometheus) for integration tests: each is started once per mocha process through
 * scripts/stores.sh (installing it when missing) and stopped when mocha ends (global-teardown.ts, with a
 * synchronous process 'exit' fallback). A store that cannot be started makes useStore throw: tests fail, never skip.
 *
 * The first start on a fresh machine installs packages: call useStore from a `before` hook with a
 * generous timeout, e.g. `this.timeout(180_000)`.
 */
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export type StoreName = 'etcd' | 'zookeeper' | 'redis' | 'consul';
/** Everything scripts/stores.sh can start: the stores, and a Prometheus (see prometheus.ts). */
export type ServerName = StoreName | 'prometheus';

export interface RunningStore {
  /** Client endpoint, host:port on 127.0.0.1. */
  endpoint: string;
  /** Pid of the server process. */
  pid: number;
}

export const storesScript = resolve(dirname(fileURLToPath(import.meta.url)), '../../../scripts/stores.sh');

/** Start plus install can take a while on a fresh machine; the script bounds readiness itself. */
const START_TIMEOUT_MS = 15 * 60_000;

const started = new Map<ServerName, Promise<RunningStore>>();
let storesDir: string | undefined;

/** Starts `name` on first use in this process and returns it; later calls share the same server. */
export function useStore(name: ServerName): Promise<RunningStore> {
  let store = started.get(name);
  if (!store) {
    store = startStore(name, dir());
    started.set(name, store);
    // A failed start is not cached: the next suite asking gets a fresh attempt (and its own error).
    store.catch(() => started.delete(name));
  }
  return store;
}

/** Runs scripts/stores.sh; resolves with its stdout, rejects with its stderr tail. */
export function runStoresScript(args: string[], timeoutMs = START_TIMEOUT_MS): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    execFile(
      'bash',
      [storesScript, ...args],
      { timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024, killSignal: 'SIGKILL' },
      (err, stdout, stderr) => {
        if (err) {
          const detail = stderr.trim().split('\n').slice(-40).join('\n');
          reject(
            new Error(
              `scripts/stores.sh ${args.join(' ')} failed (${err.message.split('\n')[0]}):\n${detail}`,
            ),
          );
        } else {
          resolvePromise(stdout.trim());
        }
      },
    );
  });
}

async function startStore(name: ServerName, directory: string): Promise<RunningStore> {
  const endpoint = await runStoresScript(['start', name, directory]);
  if (!/^[\w.-]+:\d+$/.test(endpoint))
    throw new Error(`scripts/stores.sh start ${name} printed no endpoint: ${endpoint}`);
  const pid = Number((await readFile(join(directory, `${name}.pid`), 'utf8')).trim());
  return { endpoint, pid };
}

function dir(): string {
  storesDir ??= mkdtempSync(join(tmpdir(), 'confd-ts-stores-'));
  return storesDir;
}

/** The throwaway directory of `name` (its data, config and server.log), once useStore started it. */
export function serverDirectory(name: ServerName): string {
  if (!storesDir || !started.has(name)) throw new Error(`${name} was not started by useStore`);
  return join(storesDir, name);
}

/** Stops every store this process started and removes their data. Errors are collected, not thrown early. */
export async function stopAllStores(): Promise<void> {
  const directory = storesDir;
  if (!directory) return;
  const names = [...started.keys()];
  started.clear();
  const results = await Promise.allSettled(
    names.map((name) => runStoresScript(['stop', name, directory], 60_000)),
  );
  const failures = results.flatMap((r) => (r.status === 'rejected' ? [String(r.reason)] : []));
  storesDir = undefined;
  rmSync(directory, { recursive: true, force: true });
  if (failures.length > 0) throw new Error(`stopping stores failed:\n${failures.join('\n')}`);
}

/** Stops `name` now (for tests of the stop itself); a later useStore starts it again. */
export async function stopStore(name: ServerName): Promise<void> {
  const directory = storesDir;
  if (!directory || !started.has(name)) return;
  await started.get(name)?.catch(() => undefined);
  started.delete(name);
  await runStoresScript(['stop', name, directory], 60_000);
}

// Last resort when mocha exits without running the global teardown (no --require, or interrupted): 'exit'
// handlers must be synchronous.
process.once('exit', () => {
  const directory = storesDir;
  if (!directory) return;
  for (const name of started.keys()) {
    try {
      execFileSync('bash', [storesScript, 'stop', name, directory], { stdio: 'ignore', timeout: 30_000 });
    } catch {
      // Nothing more can be done while exiting.
    }
  }
  rmSync(directory, { recursive: true, force: true });
});

/**
 * Kills `name` and starts it again on the same endpoint with the same data after `downSeconds`: a real
 * outage for connected clients (scripts/stores.sh restart). Resolves with the restarted store.
 */
export async function restartStore(name: ServerName, downSeconds = 0): Promise<RunningStore> {
  const directory = storesDir;
  const running = started.get(name);
  if (!directory || !running) throw new Error(`${name} was not started by useStore`);
  await running;
  const restarting = (async (): Promise<RunningStore> => {
    const endpoint = await runStoresScript(['restart', name, directory, String(downSeconds)]);
    const pid = Number((await readFile(join(directory, `${name}.pid`), 'utf8')).trim());
    return { endpoint, pid };
  })();
  started.set(name, restarting);
  return restarting;
}
