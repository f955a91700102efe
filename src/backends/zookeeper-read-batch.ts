import { serverVersion, type ServerVersion } from './zookeeper-probe.js';
import type { ZkRead, ZkReadResult } from './zookeeper-requests.js';

/**
 * Reads per multiRead at most. The server handles a multiRead whole before the session's next request, and
 * its answer is one frame held whole until decoded: 100 and 1,000 reads per batch measured the same for
 * 10,000 nodes, and 128 bound one answer to 128 values (a few KiB for config values; at ZooKeeper's 1 MiB
 * limit per node, 128 MiB, which single requests would deliver one by one).
 */
export const MAX_READS_PER_BATCH = 128;

interface QueuedRead {
  read: ZkRead;
  resolve(result: ZkReadResult | undefined): void;
  reject(err: unknown): void;
}

/**
 * Gathers the unwatched reads issued in one go (a level of a subtree walk asks for every sibling at once)
 * into multiRead requests of up to MAX_READS_PER_BATCH reads. ZooKeeper spends most of a single read on
 * the request itself (its trip through the server's processors, one reply written per request): 10,000
 * getData requests pipelined on one session took 330-770 ms on the test server, the same reads in
 * multiRead batches 40-55 ms.
 *
 * The reads of one turn are sent at the end of it (process.nextTick runs after the promise continuations
 * that issue the next level's reads), so a walk sends one batch per level, not one per node.
 */
export class ReadBatcher {
  private queued: QueuedRead[] = [];
  private retired = false;

  constructor(private readonly sendBatch: (reads: ZkRead[]) => Promise<ZkReadResult[]>) {}

  /**
   * The read's answer; undefined when this batcher was retired before the read went out (its connection
   * ended, and the next one may be to a server without multiRead): the caller sends it on its own.
   */
  read(read: ZkRead): Promise<ZkReadResult | undefined> {
    return new Promise((resolve, reject) => {
      if (this.queued.push({ read, resolve, reject }) === 1) process.nextTick(() => this.flush());
    });
  }

  /** No further batch goes out: reads queued and not yet sent get undefined. */
  retire(): void {
    this.retired = true;
  }

  private flush(): void {
    const queued = this.queued;
    this.queued = [];
    if (this.retired) {
      for (const q of queued) q.resolve(undefined);
      return;
    }
    for (let start = 0; start < queued.length; start += MAX_READS_PER_BATCH) {
      const batch = queued.slice(start, start + MAX_READS_PER_BATCH);
      this.sendBatch(batch.map((q) => q.read)).then(
        (results) =>
          batch.forEach((q, i) => {
            const result = results[i];
            if (result) q.resolve(result);
            else q.reject(new Error(`multiRead: no answer for ${q.read.path}`));
          }),
        (err: unknown) => batch.forEach((q) => q.reject(err)),
      );
    }
  }
}

/**
 * What the server a session is connected to can do, asked once per connection (`srvr`, allowed by default
 * since 3.5; its version is unknown when not): a reconnect may land on another member, and a member older
 * than 3.6 closes the connection on a multiRead. While the connection is down and until the new server
 * answered, reads wait (for the answer at most `timeoutMs`); they go one by one when its version is
 * unknown or older. A batch handed to the client library just before a disconnect it had not yet seen
 * can still go out after the reconnect: to a member older than 3.6, that batch fails (its reads with it),
 * and the reads after it go one by one.
 */
export class ServerFeatures {
  private version: Promise<ServerVersion | undefined> = Promise.resolve(undefined);
  /** Settles `version` once the connection is back (learn) or the session is gone (closed). */
  private settle: ((version: Promise<ServerVersion | undefined>) => void) | undefined;
  /** Set while the server takes multiRead (3.6+). */
  private batcher: ReadBatcher | undefined;

  constructor(
    private readonly timeoutMs: number,
    private readonly batches: boolean,
    private readonly sendBatch: (reads: ZkRead[]) => Promise<ZkReadResult[]>,
  ) {}

  /** The session has (re)connected to `server`. */
  learn(server: string | undefined): void {
    this.retire();
    const version = server ? serverVersion(server, this.timeoutMs) : Promise.resolve(undefined);
    this.version = version;
    this.settleWith(version);
    void version.then((found) => {
      if (this.version !== version || !found || !this.batches) return;
      if (found[0] > 3 || (found[0] === 3 && found[1] >= 6)) this.batcher = new ReadBatcher(this.sendBatch);
    });
  }

  /** The connection dropped; the library is reconnecting, maybe to another member. */
  disconnected(): void {
    this.retire();
    if (this.settle) return;
    this.version = new Promise((resolve) => (this.settle = resolve));
  }

  /** The session is gone: nothing waits for a version any more (its requests fail as lost). */
  closed(): void {
    this.retire();
    this.version = Promise.resolve(undefined);
    this.settleWith(this.version);
  }

  serverVersion(): Promise<ServerVersion | undefined> {
    return this.version;
  }

  /** The batcher for unwatched reads once the server's version is known; undefined without multiRead. */
  async readBatcher(): Promise<ReadBatcher | undefined> {
    if (!this.batches) return undefined;
    await this.version;
    return this.batcher;
  }

  private retire(): void {
    this.batcher?.retire();
    this.batcher = undefined;
  }

  private settleWith(version: Promise<ServerVersion | undefined>): void {
    const settle = this.settle;
    this.settle = undefined;
    settle?.(version);
  }
}
