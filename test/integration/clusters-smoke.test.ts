import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { Etcd3 } from 'etcd3';
import { eventually } from '../support/async.js';
import {
  untilAcknowledged,
  useCluster,
  type ClusterStoreName,
  type StoreCluster,
} from './support/clusters.js';
import { zookeeperMode } from './support/four-letter-word.js';
import { runStoresScript } from './support/stores.js';
import { ZkFixture } from './support/zookeeper-fixture.js';

/** What the cluster checks need from one store, through its own protocol. */
interface ClusterProbe {
  /** The member that leads, when every member in `members` agrees on one of them; else undefined. */
  leader(endpoints: Map<number, string>): Promise<number | undefined>;
  /** Writes through the given members (retried while they elect a leader). */
  write(endpoints: readonly string[], key: string, value: string): Promise<void>;
  /** Reads from one member's own copy of the data (no forwarding to the leader). */
  readLocal(endpoint: string, key: string): Promise<string | undefined>;
}

async function withEtcd<T>(endpoints: readonly string[], use: (client: Etcd3) => Promise<T>): Promise<T> {
  const client = new Etcd3({ hosts: endpoints.map((e) => `http://${e}`) });
  try {
    return await use(client);
  } finally {
    client.close();
  }
}

async function withZk<T>(endpoints: readonly string[], use: (fixture: ZkFixture) => Promise<T>): Promise<T> {
  const fixture = await ZkFixture.connect(endpoints.join(','));
  try {
    return await use(fixture);
  } finally {
    fixture.close();
  }
}

const probes: Record<ClusterStoreName, ClusterProbe> = {
  etcd: {
    async leader(endpoints) {
      const ids = new Map<string, number>();
      const leaders = new Set<string>();
      for (const [member, endpoint] of endpoints) {
        const status = await withEtcd([endpoint], (c) => c.maintenance.status()).catch(() => undefined);
        if (!status) return undefined;
        ids.set(String(status.header.member_id), member);
        leaders.add(String(status.leader));
      }
      const [leader] = [...leaders];
      return leaders.size === 1 && leader !== undefined ? ids.get(leader) : undefined;
    },
    write: (endpoints, key, value) =>
      untilAcknowledged(`put ${key}`, () =>
        withEtcd(endpoints, async (c) => void (await c.put(key).value(value))),
      ),
    readLocal: (endpoint, key) =>
      withEtcd([endpoint], async (c) => (await c.get(key).serializable(true).string()) ?? undefined),
  },
  zookeeper: {
    async leader(endpoints) {
      const modes = new Map<number, string | undefined>();
      for (const [member, endpoint] of endpoints) modes.set(member, await zookeeperMode(endpoint));
      const leaders = [...modes].filter(([, mode]) => mode === 'leader');
      const followers = [...modes].filter(([, mode]) => mode === 'follower');
      return leaders.length === 1 && followers.length === modes.size - 1 ? leaders[0]?.[0] : undefined;
    },
    write: (endpoints, key, value) =>
      untilAcknowledged(`set ${key}`, () => withZk(endpoints, (f) => f.put(key, value))),
    // A ZooKeeper server answers reads from its own copy.
    readLocal: (endpoint, key) =>
      withZk(
        [endpoint],
        (f) =>
          new Promise<string | undefined>((resolve, reject) =>
            f.client.getData(key, (err, data) => (err ? reject(err) : resolve(data?.toString('utf8')))),
          ),
      ),
  },
};

/** Alive and not a zombie (a killed server reparented to init may linger unreaped as Z). */
function processAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0] !== 'Z';
  } catch {
    return false;
  }
}

const byMember = (cluster: StoreCluster, members = cluster.members()): Map<number, string> =>
  new Map(members.map((m) => [m, cluster.endpoint(m)]));

for (const store of ['etcd', 'zookeeper'] as const) {
  const probe = probes[store];

  describe(`3-member ${store} cluster (scripts/stores.sh start-cluster)`, function () {
    this.timeout(60_000);
    let cluster: StoreCluster;

    before(async function () {
      this.timeout(300_000);
      cluster = await useCluster(store);
    });

    afterEach(async function () {
      this.timeout(180_000);
      await cluster?.heal();
    });

    it('useCluster starts three members on distinct loopback ports with one leader, shared by later calls', async () => {
      expect(cluster.endpoints).to.have.length(3);
      for (const endpoint of cluster.endpoints) expect(endpoint).to.match(/^127\.0\.0\.1:\d+$/);
      expect(new Set(cluster.endpoints).size).to.equal(3);
      for (const member of cluster.members()) expect(processAlive(await cluster.pid(member))).to.equal(true);
      expect(await probe.leader(byMember(cluster))).to.be.oneOf(cluster.members());
      expect(await useCluster(store)).to.equal(cluster);
    });

    it('a killed leader is replaced, and the restarted member rejoins with the writes made meanwhile', async function () {
      this.timeout(180_000);
      const key = `/confd-cluster-smoke-${randomBytes(4).toString('hex')}`;
      const leader = (await probe.leader(byMember(cluster))) as number;
      const pid = await cluster.pid(leader);
      await cluster.stopMember(leader, 'KILL');
      expect(processAlive(pid), 'the killed member is gone').to.equal(false);

      const survivors = cluster.members().filter((m) => m !== leader);
      let next: number | undefined;
      await eventually(
        async () => (next = await probe.leader(byMember(cluster, survivors))) !== undefined,
        'the survivors to elect a leader',
        60_000,
      );
      expect(next).to.be.oneOf(survivors);
      await probe.write(
        survivors.map((m) => cluster.endpoint(m)),
        key,
        'written while a member was down',
      );

      await cluster.startMember(leader);
      expect(cluster.stopped()).to.deep.equal([]);
      await eventually(
        async () =>
          (await probe.readLocal(cluster.endpoint(leader), key).catch(() => undefined)) !== undefined,
        'the restarted member to have caught up',
        60_000,
      );
      expect(await probe.readLocal(cluster.endpoint(leader), key)).to.equal(
        'written while a member was down',
      );
      expect(await probe.leader(byMember(cluster))).to.be.oneOf(cluster.members());
    });

    it('stop-cluster leaves no process and no data behind, a stopped member included', async function () {
      this.timeout(300_000);
      const dir = await mkdtemp(join(tmpdir(), `confd-ts-cluster-smoke-${store}-`));
      try {
        const endpoints = (await runStoresScript(['start-cluster', store, dir])).split('\n');
        expect(endpoints).to.have.length(3);
        // Starting again while it runs is a no-op that reports the same members.
        expect((await runStoresScript(['start-cluster', store, dir])).split('\n')).to.deep.equal(endpoints);
        const pids = await Promise.all(
          [1, 2, 3].map(async (m) =>
            Number((await readFile(join(dir, `${store}-cluster`, `m${m}`, 'server.pid'), 'utf8')).trim()),
          ),
        );
        for (const pid of pids) expect(processAlive(pid), `pid ${pid} running`).to.equal(true);
        await runStoresScript(['stop-member', store, dir, '2']);
        expect(processAlive(pids[1] ?? 0), 'stopped member').to.equal(false);
        await runStoresScript(['stop-cluster', store, dir], 60_000);
        for (const pid of pids) expect(processAlive(pid), `pid ${pid} after stop-cluster`).to.equal(false);
        expect(existsSync(join(dir, `${store}-cluster`)), 'cluster data removed').to.equal(false);
      } finally {
        await runStoresScript(['stop-cluster', store, dir], 60_000).catch(() => undefined);
        await rm(dir, { recursive: true, force: true });
      }
    });
  });
}

describe('scripts/stores.sh cluster commands', () => {
  it('refuse a store without a cluster and a member out of range', async () => {
    const failure = (args: string[]): Promise<string> =>
      runStoresScript(args).then(
        () => 'succeeded',
        (e: unknown) => (e as Error).message,
      );
    expect(await failure(['start-cluster', 'redis', tmpdir()])).to.match(/no cluster of: redis/);
    expect(await failure(['stop-member', 'etcd', tmpdir(), '4'])).to.match(/member must be 1\.\.3/);
    expect(await failure(['start-member', 'zookeeper', tmpdir(), '1'])).to.match(/no zookeeper cluster runs/);
  });
});
