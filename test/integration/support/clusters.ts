/**
 * 3-member etcd clusters and ZooKeeper ensembles on 127.0.0.1 for failover tests, started through
 * `scripts/stores.sh start-cluster` (once per mocha process and store, installing the store when missing)
 * and stopped when mocha ends (global-teardown.ts, with a synchronous process 'exit' fallback), stopped
 * members included: no server outlives the run, even when a test fails in the middle of an outage.
 *
 * Members are numbered from 1, in the order of `endpoints`. Call useCluster from a `before` hook with a
 * generous timeout (a fresh machine installs packages first), e.g. `this.timeout(180_000)`.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually } from '../../support/async.js';
import { runStoresScript, storesScript } from './stores.js';

export type ClusterStoreName = 'etcd' | 'zookeeper';
export type MemberSignal = 'TERM' | 'KILL';

export class StoreCluster {
  private readonly down = new Set<number>();

  constructor(
    readonly store: ClusterStoreName,
    private readonly directory: string,
    /** Client endpoints (host:port), member 1 first. */
    readonly endpoints: readonly string[],
  ) {}

  endpoint(member: number): string {
    const endpoint = this.endpoints[member - 1];
    if (endpoint === undefined) throw new Error(`${this.store} cluster has no member ${member}`);
    return endpoint;
  }

  /** Every member number, 1 first. */
  members(): number[] {
    return this.endpoints.map((_, i) => i + 1);
  }

  /** The pid of member `member`'s server process (stale once it is stopped). */
  async pid(member: number): Promise<number> {
    const text = await readFile(
      join(this.directory, `${this.store}-cluster`, `m${member}`, 'server.pid'),
      'utf8',
    );
    return Number(text.trim());
  }

  /** Stops one member, keeping its data; `KILL` is a crash (no grace, no goodbye to clients or peers). */
  async stopMember(member: number, signal: MemberSignal = 'TERM'): Promise<void> {
    this.endpoint(member);
    this.down.add(member);
    await runStoresScript(['stop-member', this.store, this.directory, String(member), signal], 60_000);
  }

  /** Starts a stopped member again on its ports with its data; resolves once it serves as part of the cluster. */
  async startMember(member: number): Promise<void> {
    this.endpoint(member);
    await runStoresScript(['start-member', this.store, this.directory, String(member)], 120_000);
    this.down.delete(member);
  }

  /** Members stopped through stopMember and not started since. */
  stopped(): number[] {
    return [...this.down].sort();
  }

  /** Starts every stopped member: a test that failed mid-outage leaves the next one a whole cluster. */
  async heal(): Promise<void> {
    for (const member of this.stopped()) await this.startMember(member);
  }
}

const started = new Map<ClusterStoreName, Promise<StoreCluster>>();
let clustersDir: string | undefined;

function dir(): string {
  clustersDir ??= mkdtempSync(join(tmpdir(), 'confd-ts-clusters-'));
  return clustersDir;
}

/** Starts a cluster of `store` on first use in this process; later calls share it. */
export function useCluster(store: ClusterStoreName): Promise<StoreCluster> {
  let cluster = started.get(store);
  if (!cluster) {
    const directory = dir();
    cluster = (async () => {
      const output = await runStoresScript(['start-cluster', store, directory]);
      const endpoints = output.split('\n').filter((line) => line !== '');
      if (endpoints.length !== 3 || !endpoints.every((e) => /^[\w.-]+:\d+$/.test(e)))
        throw new Error(`scripts/stores.sh start-cluster ${store} printed no endpoints: ${output}`);
      return new StoreCluster(store, directory, endpoints);
    })();
    started.set(store, cluster);
    cluster.catch(() => started.delete(store));
  }
  return cluster;
}

/** Stops every cluster this process started, stopped members and all, and removes their data. */
export async function stopAllClusters(): Promise<void> {
  const directory = clustersDir;
  if (!directory) return;
  const stores = [...started.keys()];
  started.clear();
  const results = await Promise.allSettled(
    stores.map((store) => runStoresScript(['stop-cluster', store, directory], 60_000)),
  );
  const failures = results.flatMap((r) => (r.status === 'rejected' ? [String(r.reason)] : []));
  clustersDir = undefined;
  rmSync(directory, { recursive: true, force: true });
  if (failures.length > 0) throw new Error(`stopping clusters failed:\n${failures.join('\n')}`);
}

// Last resort when mocha exits without the global teardown: 'exit' handlers must be synchronous.
process.once('exit', () => {
  const directory = clustersDir;
  if (!directory) return;
  for (const store of started.keys()) {
    try {
      execFileSync('bash', [storesScript, 'stop-cluster', store, directory], {
        stdio: 'ignore',
        timeout: 30_000,
      });
    } catch {
      // Nothing more can be done while exiting.
    }
  }
  rmSync(directory, { recursive: true, force: true });
});

/** The number of watchers an etcd server serves (in a cluster, each member counts only its own clients). */
export async function etcdWatcherCount(endpoint: string): Promise<number> {
  const text = await (await fetch(`http://${endpoint}/metrics`)).text();
  const match = /^etcd_debugging_mvcc_watcher_total (\d+)$/m.exec(text);
  if (!match) throw new Error(`etcd ${endpoint} /metrics has no etcd_debugging_mvcc_watcher_total`);
  return Number(match[1]);
}

/**
 * Runs `attempt` until it succeeds: a write to a cluster fails for a moment while it elects a leader or the
 * client fails over. Gives up after `limitMs` with the last error.
 */
export async function untilAcknowledged(
  what: string,
  attempt: () => Promise<unknown>,
  limitMs = 60_000,
): Promise<void> {
  let failure: unknown;
  const succeeded = (): Promise<boolean> =>
    attempt().then(
      () => true,
      (err: unknown) => {
        failure = err;
        return false;
      },
    );
  try {
    await eventually(succeeded, `${what} to be acknowledged`, limitMs, 100);
  } catch (timeout) {
    throw new Error(`${(timeout as Error).message} (last error: ${String(failure)})`, { cause: timeout });
  }
}
