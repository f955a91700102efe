import { BackendError, errorMessage } from '../errors.js';
import { keyIsUnder } from '../key-path.js';
import type { Logger } from '../logging/logger.js';
import { pacerOf, retryBackoff, RETRY_INITIAL_MS, type RetryPacer } from '../retry-policy.js';
import { etcdBackendError, type EtcdErrorContext } from './etcd-errors.js';
import type { GrpcStream } from './etcd-grpc-call.js';
import type { EtcdGrpc } from './etcd-grpc.js';
import {
  decodeWatchResponse,
  encodeWatchCreateRequest,
  ETCD_METHODS,
  type WatchResponse,
} from './etcd-proto.js';
import type { KVPairs } from './store-client.js';
import { WatchEventBuffer, type WatchChange } from './watch-event-buffer.js';
import type { WatchedCopy } from './watched-copy.js';

export interface EtcdWatchSettings {
  grpc: EtcdGrpc;
  context: EtcdErrorContext;
  logger: Logger;
  /** Bound for the watch to be accepted by the server. */
  timeoutMs: number;
  /** How long the watch may stay disconnected (it reconnects meanwhile) before its waiters are failed. */
  disconnectGraceMs: number;
  /** Reads the store's current revision over the prefix (a BackendError on failure). */
  currentRevision(prefix: string): Promise<number>;
  /** Test seam: runs before each watch is sent to the server. */
  beforeWatch?(info: { prefix: string; startRevision: number }): void | Promise<void>;
}

/** The server ended the watch: refused it (auth, permission) or cancelled it (its revision compacted). */
class WatchCancelled extends Error {
  constructor(
    message: string,
    readonly compacted: boolean,
  ) {
    super(message);
  }
}

/**
 * One long-lived etcd watch on a prefix (one Watch stream of etcd's gRPC API), shared by every
 * holder. Events are buffered by their mod revision. Every change below `nextRevision` has been received,
 * so when the stream drops the watch is opened again from there, on whichever endpoint answers, and
 * replays exactly what was missed; it fails its waiters if it stays down longer than the grace. A watch
 * cancelled because its start revision was compacted starts over at the current revision and reports
 * "re-read everything".
 */
export class EtcdPrefixWatch {
  readonly changes: WatchEventBuffer;
  private stream: GrpcStream | undefined;
  /** Where the watch resumes: every change below this revision has been received. */
  private nextRevision: number;
  /** Highest store revision any response carried: a reconnect seeing less means the store was replaced. */
  private observedRevision = 0;
  private disconnectedSince: number | undefined;
  private graceTimer: NodeJS.Timeout | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private pacer: RetryPacer | undefined;
  /** Why the stream (or the latest attempt to reopen it) failed: what the grace's error names. */
  private lastDrop: Error | undefined;
  private ended = false;
  /**
   * After a reconnect, the store revision etcd answered the new watch at: reads made while the stream was
   * down went to etcd and may have seen changes up to it, so the copy stays unused until the replay has
   * reached it (a render from the older copy would put an older file back).
   */
  private catchUpTo = 0;

  private constructor(
    private readonly root: string,
    startAfter: number,
    private readonly settings: EtcdWatchSettings,
    private readonly onEnd: (err: unknown) => void,
    /** The prefix as of `startAfter`, kept in step by the events; dropped when a compaction skips some. */
    private copy: WatchedCopy | undefined,
  ) {
    this.changes = new WatchEventBuffer(startAfter);
    this.nextRevision = startAfter + 1;
  }

  /**
   * Starts the watch on `root` (a clean key) for every change after revision `startAfter` and resolves once
   * the server accepted it. `onEnd` runs when the watch ends for good (failure or close). `copy`, the
   * values under `root` at `startAfter`, is kept in step with the events for valuesUnder.
   */
  static async open(
    root: string,
    startAfter: number,
    settings: EtcdWatchSettings,
    onEnd: (err: unknown) => void,
    copy?: WatchedCopy,
  ): Promise<EtcdPrefixWatch> {
    const watch = new EtcdPrefixWatch(root, startAfter, settings, onEnd, copy);
    try {
      await watch.connect(startAfter + 1);
    } catch (err) {
      const failure = watch.backendError(err);
      await watch.end(failure);
      throw failure;
    }
    return watch;
  }

  /**
   * The values of `base` and the keys under it from the watch's copy of its prefix, or undefined when the
   * copy cannot answer for the store: `base` outside the prefix, no copy (dropped after a compaction), or
   * the stream down (changes made meanwhile have not arrived). Every change this watch reported to a
   * waiter is in it: events are applied before they are recorded.
   */
  valuesUnder(base: string): KVPairs | undefined {
    if (this.ended || this.stream === undefined || this.disconnectedSince !== undefined) return undefined;
    if (this.nextRevision <= this.catchUpTo) return undefined;
    return this.copy?.valuesUnder(base);
  }

  /** The revision the copy holds the prefix at (every change up to it applied); undefined without a copy. */
  get copyRevision(): number | undefined {
    return this.copy && this.nextRevision - 1;
  }

  /** The store answered differently than the copy (see EtcdStoreClient): reads of the prefix go to etcd. */
  dropCopy(): void {
    if (!this.copy) return;
    this.copy = undefined;
    this.settings.logger.info(
      `${this.context.backend}: the watch's copy of ${this.root} differed from a read of the store; reading ${this.root} from etcd from now on`,
    );
  }

  /** Ends the watch: waiters reject with `err`, the stream is closed (the server drops the watch with it). */
  end(err: unknown): Promise<void> {
    if (this.ended) return Promise.resolve();
    this.ended = true;
    clearTimeout(this.graceTimer);
    clearTimeout(this.retryTimer);
    this.changes.fail(err);
    this.onEnd(err);
    this.stream?.destroy();
    this.stream = undefined;
    return Promise.resolve();
  }

  /** Opens the stream at `startRevision`; resolves once etcd created the watch (a compaction resyncs). */
  private async connect(startRevision: number): Promise<void> {
    const { grpc, timeoutMs } = this.settings;
    await this.settings.beforeWatch?.({ prefix: this.root, startRevision });
    if (this.ended) throw this.closedError();
    this.nextRevision = startRevision;
    const { start, end } = watchRange(this.root);
    const request = encodeWatchCreateRequest({ key: start, rangeEnd: end, startRevision });
    const stream = await grpc.stream(ETCD_METHODS.watch, request);
    if (this.ended) {
      stream.destroy();
      throw this.closedError();
    }
    this.stream = stream;
    let timer: NodeJS.Timeout | undefined;
    const created = new Promise<void>((resolve, reject) => {
      timer = setTimeout(() => {
        reject(new Error(`deadline exceeded: the watch was not accepted within ${timeoutMs} ms`));
      }, timeoutMs);
      let accepted = false;
      stream.read(
        (message) => {
          if (this.stream !== stream) return;
          let result: WatchResponse;
          try {
            result = decodeWatchResponse(message);
          } catch (err) {
            const failure = toErrorValue(err);
            if (accepted) this.onDropped(stream, failure);
            else reject(failure);
            return;
          }
          if (result.canceled) {
            const cancelled = cancellation(result);
            if (accepted) void this.onCancelled(cancelled);
            else reject(cancelled);
            return;
          }
          if (!accepted && result.created) {
            accepted = true;
            this.onConnected(result);
            resolve();
            return;
          }
          this.onData(result);
        },
        (err) => {
          if (!accepted) reject(err ?? new Error('the watch stream ended before the watch was created'));
          else if (this.stream === stream) this.onDropped(stream, err ?? new Error('watch stream ended'));
        },
      );
    });
    try {
      await created;
    } catch (err) {
      stream.destroy();
      if (this.stream === stream) this.stream = undefined;
      if (err instanceof WatchCancelled && err.compacted) return this.resync(err);
      throw err;
    } finally {
      clearTimeout(timer);
    }
  }

  private onData(res: WatchResponse): void {
    if (this.ended) return;
    const resumeFrom = this.nextRevision;
    const events = res.events;
    const batch: WatchChange[] = [];
    let last = resumeFrom - 1;
    for (const event of events) {
      const revision = event.kv.modRevision;
      if (revision < resumeFrom) continue;
      last = Math.max(last, revision);
      const key = event.kv.key;
      // The watched range is [root, root + '0'): it includes /app/db-x and /app/db.x, which are not under /app/db.
      if (!keyIsUnder(key, this.root)) continue;
      if (event.type === 'DELETE') this.copy?.delete(key);
      else this.copy?.put(key, event.kv.value);
      batch.push({ index: revision, key });
    }
    const headerRevision = res.revision;
    this.observedRevision = Math.max(this.observedRevision, headerRevision);
    // An empty response is a progress notification, which etcd sends only to watches that are caught up.
    this.nextRevision = events.length === 0 ? Math.max(resumeFrom, headerRevision + 1) : last + 1;
    if (batch.length > 0) this.changes.record(batch);
  }

  private onConnected(res: WatchResponse): void {
    const headerRevision = res.revision;
    if (this.disconnectedSince !== undefined) {
      clearTimeout(this.graceTimer);
      this.graceTimer = undefined;
      this.pacer?.reset();
      const down = Date.now() - this.disconnectedSince;
      this.disconnectedSince = undefined;
      this.catchUpTo = headerRevision;
      if (headerRevision < this.observedRevision) {
        void this.end(
          new BackendError(
            `${this.context.backend}: the revision of ${this.endpoints} went back from ${this.observedRevision} to ${headerRevision} (store restored or replaced); reading everything again`,
            this.context.backend,
            this.context.endpoints,
          ),
        );
        return;
      }
      this.settings.logger.info(
        `${this.context.backend}: watch on ${this.root} reconnected after ${down} ms, resuming from revision ${this.nextRevision}`,
      );
    }
    this.observedRevision = Math.max(this.observedRevision, headerRevision);
  }

  /** The stream broke after the watch was created: reconnect, paced, failing waiters after the grace. */
  private onDropped(stream: GrpcStream | undefined, err: Error): void {
    if (this.ended || this.stream !== stream) return;
    stream?.destroy();
    this.stream = undefined;
    if (this.disconnectedSince === undefined) {
      this.disconnectedSince = Date.now();
      this.settings.logger.debug(
        `${this.context.backend}: watch on ${this.root} disconnected (${errorMessage(err)}), reconnecting`,
      );
    }
    this.lastDrop = err;
    this.graceTimer ??= setTimeout(() => {
      const cause = this.lastDrop ?? err;
      void this.end(etcdBackendError(cause, this.context, `watching ${this.root} (connection lost)`));
    }, this.settings.disconnectGraceMs);
    void this.scheduleReconnect();
  }

  /** The next attempt, paced by the program's retry policy, capped so the grace sees several attempts. */
  private async scheduleReconnect(): Promise<void> {
    if (!this.pacer) {
      // Loaded on the first disconnect only: a watch that never drops never needs it.
      const cockatiel = await import('cockatiel');
      const cap = Math.max(RETRY_INITIAL_MS, Math.min(1000, this.settings.timeoutMs));
      this.pacer ??= pacerOf(() => retryBackoff(cockatiel, cap));
    }
    if (this.ended) return;
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => void this.reconnect(), this.pacer.nextDelay());
  }

  private async reconnect(): Promise<void> {
    if (this.ended) return;
    try {
      // A request first: it renews an expired token, and tells a refusal apart from an outage.
      await this.settings.currentRevision(this.root);
      await this.connect(this.nextRevision);
    } catch (err) {
      if (this.ended) return;
      if (err instanceof WatchCancelled || isRefusal(err)) {
        await this.end(this.backendError(err));
        return;
      }
      this.onDropped(undefined, toErrorValue(err));
    }
  }

  /** The server cancelled the watch after creating it: its revision was compacted away, or access was revoked. */
  private async onCancelled(err: WatchCancelled): Promise<void> {
    if (this.ended) return;
    this.stream?.destroy();
    this.stream = undefined;
    if (!err.compacted) {
      await this.end(this.backendError(err));
      return;
    }
    try {
      await this.resync(err);
    } catch (resyncError) {
      await this.end(this.backendError(resyncError));
    }
  }

  /** Starts over at the current revision and tells every waiter to re-read: changes may have been missed. */
  private async resync(cause: unknown): Promise<void> {
    const current = await this.settings.currentRevision(this.root);
    this.settings.logger.warn(
      `${this.context.backend}: watch on ${this.root} was cancelled by the server (${errorMessage(cause) || 'revision compacted'}); restarting at revision ${current + 1} and reading everything again`,
    );
    // Changes between the compacted revision and `current` were never seen: the copy is wrong from here
    // on, and reads of this prefix go to the store.
    this.copy = undefined;
    // Recorded first: events of the new watch (above `current`) may arrive before connect() returns.
    this.changes.record([{ index: current, key: undefined }]);
    await this.connect(current + 1);
  }

  private backendError(err: unknown): BackendError {
    return etcdBackendError(err, this.context, `watching ${this.root}`);
  }

  private closedError(): BackendError {
    return new BackendError(
      `${this.context.backend}: the watch on ${this.root} was closed`,
      this.context.backend,
      this.context.endpoints,
    );
  }

  private get context(): EtcdErrorContext {
    return this.settings.context;
  }

  private get endpoints(): string {
    return this.context.endpoints.join(', ');
  }
}

function cancellation(result: WatchResponse): WatchCancelled {
  const compacted = result.compactRevision > 0;
  const reason = result.cancelReason;
  return new WatchCancelled(
    reason || (compacted ? `revision ${result.compactRevision} compacted` : 'watch cancelled'),
    compacted && !/permission denied/i.test(reason),
  );
}

/** A failure a retry cannot fix: wrong credentials or denied access. */
function isRefusal(err: unknown): boolean {
  return /permission denied|authentication failed|user name is empty|invalid auth token/i.test(
    errorMessage(err),
  );
}

function toErrorValue(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}

/**
 * The smallest byte range holding `root` and everything under `root/`: [root, root + '0'), '0' being the
 * character after '/'. It also holds siblings like root-x, which the event filter drops.
 */
export function watchRange(root: string): { start: string; end: string } {
  if (root === '/') return { start: '/', end: '0' };
  return { start: root, end: `${root}0` };
}
