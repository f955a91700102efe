import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { expect } from 'chai';
import { Etcd3 } from 'etcd3';
import {
  etcdWatcherCount,
  untilAcknowledged,
  useCluster,
  type ClusterStoreName,
  type StoreCluster,
} from '../integration/support/clusters.js';
import { zookeeperMode, zookeeperSessionIds } from '../integration/support/four-letter-word.js';
import { ZkFixture } from '../integration/support/zookeeper-fixture.js';
import { eventually, startConfd, Workspace } from './support/confd-process.js';

/** The test's own client on chosen members; every write is retried until a member acknowledges it. */
interface Writer {
  set(key: string, value: string): Promise<void>;
  close(): Promise<void>;
}

/** What the failover scenario needs from one clustered store. */
interface FailoverStore {
  readonly name: ClusterStoreName;
  /** A client that talks to `endpoints` only. */
  writer(endpoints: readonly string[]): Promise<Writer>;
  /**
   * What identifies the clients each member serves now; newClientMember compares a later census with an
   * earlier one to find the member confd's watch lives on.
   */
  clients(cluster: StoreCluster): Promise<Map<number, Set<string>>>;
  /** Whether the member at `endpoint` leads (for failure messages: a killed leader also means an election). */
  role(endpoint: string): Promise<string>;
}

const etcd: FailoverStore = {
  name: 'etcd',
  async writer(endpoints) {
    const client = new Etcd3({ hosts: endpoints.map((e) => `http://${e}`) });
    return {
      set: (key, value) =>
        untilAcknowledged(
          `put ${key}`,
          // etcd holds a proposal made during an election for its request timeout (7 s) before failing it;
          // a short deadline retries sooner, on the new leader.
          async () =>
            void (await client
              .put(key)
              .value(value)
              .options({ deadline: Date.now() + 2000 })),
        ),
      close: async () => client.close(),
    };
  },
  async role(endpoint) {
    const client = new Etcd3({ hosts: `http://${endpoint}` });
    try {
      const status = await client.maintenance.status();
      return status.leader === status.header.member_id ? 'leader' : 'follower';
    } catch {
      return 'unknown';
    } finally {
      client.close();
    }
  },
  async clients(cluster) {
    // A member names no watcher but counts those of the clients connected to it: n watchers are ids 1..n.
    // The test's own writers watch nothing.
    const counts = new Map<number, Set<string>>();
    for (const member of cluster.members()) {
      const n = await etcdWatcherCount(cluster.endpoint(member));
      counts.set(member, new Set(Array.from({ length: n }, (_, i) => `watcher ${i + 1}`)));
    }
    return counts;
  },
};

const zookeeper: FailoverStore = {
  name: 'zookeeper',
  async writer(endpoints) {
    let fixture: ZkFixture | undefined;
    await untilAcknowledged('a session on the surviving members', async () => {
      fixture = await ZkFixture.connect(endpoints.join(','));
    });
    const client = fixture as ZkFixture;
    return {
      set: (key, value) => untilAcknowledged(`set ${key}`, () => client.put(key, value)),
      close: async () => client.close(),
    };
  },
  role: async (endpoint) => (await zookeeperMode(endpoint)) ?? 'unknown',
  async clients(cluster) {
    // `cons` on each server lists the sessions connected to that server.
    const sessions = new Map<number, Set<string>>();
    for (const member of cluster.members())
      sessions.set(member, new Set(await zookeeperSessionIds(cluster.endpoint(member))));
    return sessions;
  },
};

/** The one member serving a client that `before` did not show (confd's), or undefined while there is none. */
function newClientMember(
  before: Map<number, Set<string>>,
  now: Map<number, Set<string>>,
): number | undefined {
  const gained = [...now].filter(([member, ids]) => {
    const known = before.get(member) ?? new Set<string>();
    return [...ids].some((id) => !known.has(id));
  });
  return gained.length === 1 ? gained[0]?.[0] : undefined;
}

/**
 * The values a run rendered, in order, are a subsequence of the values written, in order (nothing rendered
 * twice, nothing out of order), and the last one written is the last one rendered.
 */
function expectInWriteOrder(rendered: string[], written: string[], context: string): void {
  let previous = -1;
  for (const value of rendered) {
    const at = written.indexOf(value);
    expect(
      at,
      `rendered ${value}, which was never written, after ${written[previous] ?? 'nothing'}\n${context}`,
    ).to.be.greaterThanOrEqual(0);
    expect(
      at,
      `rendered ${value} after ${written[previous] ?? 'nothing'} (out of order or twice)\n${context}`,
    ).to.be.greaterThan(previous);
    previous = at;
  }
  expect(rendered.at(-1), `the last render\n${context}`).to.equal(written.at(-1));
}

for (const store of [etcd, zookeeper]) {
  describe(`watch mode (end to end, 3-member ${store.name} cluster): failover`, function () {
    this.timeout(60_000);
    let cluster: StoreCluster;
    let ws: Workspace;
    let daemon: ReturnType<typeof startConfd> | undefined;
    const writers: Writer[] = [];
    let P: string;

    before(async function () {
      this.timeout(300_000);
      cluster = await useCluster(store.name);
    });

    beforeEach(async function () {
      this.timeout(180_000);
      await cluster.heal();
      P = `/confd-e2e-failover-${randomBytes(4).toString('hex')}`;
      ws = await Workspace.create();
      await ws.write('templates/app.hbs', '{{getv "/app/name"}}\n');
      // One line per reload: the rendered value, so the test sees every render, not just the last.
      await ws.write(
        'conf.d/app.toml',
        `[template]\nprefix = "${P}"\nsrc = "app.hbs"\ndest = "${ws.path('out/app.conf')}"\nkeys = ["/app"]\n` +
          `reload_cmd = "cat ${ws.path('out/app.conf')} >> ${ws.path('reloads.log')}"\n`,
      );
    });

    afterEach(async function () {
      this.timeout(180_000);
      if (daemon && daemon.child.exitCode === null && daemon.child.signalCode === null) {
        daemon.child.kill('SIGKILL');
        await daemon.exited;
      }
      daemon = undefined;
      await Promise.allSettled(writers.splice(0).map((w) => w.close()));
      await ws.remove();
      // The next scenario (or suite) gets the whole cluster back.
      await cluster.heal();
    });

    const read = (path: string): Promise<string> => readFile(path, 'utf8').catch(() => '');
    const fileHolds = (value: string) => async () => (await read(ws.path('out/app.conf'))) === `${value}\n`;

    const writer = async (endpoints: readonly string[]): Promise<Writer> => {
      const w = await store.writer(endpoints);
      writers.push(w);
      return w;
    };

    it('keeps watching when the member it is connected to is killed; nothing lost or rendered twice once it is back', async function () {
      this.timeout(300_000);
      const key = `${P}/app/name`;
      const setup = await writer(cluster.endpoints);
      await setup.set(key, 'v0');
      await setup.close();
      const baseline = await store.clients(cluster);

      daemon = startConfd([
        '-watch',
        '-backend',
        store.name,
        ...cluster.endpoints.flatMap((endpoint) => ['-node', endpoint]),
        // No periodic resync: only the watch can carry a change to the file.
        '-interval',
        '86400',
        '-confdir',
        ws.root,
      ]);
      const d = daemon;
      await eventually(fileHolds('v0'), 'the first render', 30_000);

      let victim: number | undefined;
      await eventually(
        async () => (victim = newClientMember(baseline, await store.clients(cluster))) !== undefined,
        "the member confd's watch is connected to",
        30_000,
      );
      const killed = victim as number;
      const role = await store.role(cluster.endpoint(killed));
      await cluster.stopMember(killed, 'KILL');
      const survivors = cluster.members().filter((m) => m !== killed);
      const during = await writer(survivors.map((m) => cluster.endpoint(m)));

      const written = Array.from({ length: 20 }, (_, i) => `v${i + 1}`);
      const context = (): string =>
        `killed member ${killed} (${role}, ${cluster.endpoint(killed)}) of ${cluster.endpoints.join(', ')}\nconfd stderr:\n${d.output.stderr}`;

      // The watch goes on: a change made through a surviving member reaches the file.
      await during.set(key, written[0] ?? '');
      await eventually(
        fileHolds(written[0] ?? ''),
        `a change after the kill to be rendered\n${context()}`,
        90_000,
      );
      for (const value of written.slice(1, 10)) await during.set(key, value);

      await cluster.startMember(killed);
      const after = await writer(cluster.endpoints);
      for (const value of written.slice(10)) await after.set(key, value);
      await eventually(
        fileHolds(written.at(-1) ?? ''),
        `the last change to be rendered\n${context()}`,
        90_000,
      );

      d.child.kill('SIGTERM');
      const result = await d.exited;
      expect(result.code, result.stderr).to.equal(0);

      const rendered = (await read(ws.path('reloads.log'))).split('\n').filter((line) => line !== '');
      expect(rendered, context()).to.include(written[0]);
      expectInWriteOrder(rendered, ['v0', ...written], `rendered: ${rendered.join(' ')}\n${context()}`);
    });
  });
}
