import type { Etcd3, IWatchResponse, Watcher } from 'etcd3';
import type * as Etcd3Exports from 'etcd3';
import { BackendError, errorMessage } from '../errors.js';
import { keyIsUnder } from '../key-path.js';
import type { Logger } from '../logging/logger.js';
import { etcdBackendError, type EtcdErrorContext } from './etcd-errors.js';
import { WatchEventBuffer, type WatchChange } from './watch-event-buffer.js';

type Etcd3Module = typeof Etcd3Exports;

export interface EtcdWatchSettings {
  mod: Etcd3Module;
  etcd: Etcd3;
  context: EtcdErrorContext;
  logger: Logger;
  /** Bound for the watch to be accepted by the server. */
  timeoutMs: number;
  /** How long the watch may stay disconnected (etcd3 reconnects it) before its waiters are failed. */
  disconnectGraceMs: number;
  /** Reads the store's current revision (a BackendError on failure). */
  currentRevision(prefix: string): Promise<number>;
  /** Test seam: runs before each watch is sent to the server. */
  beforeWatch?(info: { prefix: string; startRevision: number }): void | Promise<void>;
}

/**
 * One long-lived etcd watch on a prefix, shared by every watchPrefix call for it. Events are buffered by
 * their mod revision. After a disconnect etcd3 re-creates the watch on its own, but from the revision in the
 * last response header + 1, which skips events when the connection drops while the watch is still catching
 * up (the header then carries the newest revision, not the last one sent); the start revision is therefore
 * pinned after every response to the last revision actually received + 1, so the resumed watch replays
 * exactly what was missed. A cancelled watch (its start revision compacted) is re-created at the current
 * revision and reported as "re-read everything".
 */
export class EtcdPrefixWatch {
  readonly changes: WatchEventBuffer;
  private watcher: Watcher | undefined;
  /** Where the watch resumes: every change below this revision has been received. */
  private nextRevision: number;
  /** Highest store revision any response carried: a reconnect seeing less means the store was replaced. */
  private observedRevision = 0;
  private disconnectedSince: number | undefined;
  private graceTimer: NodeJS.Timeout | undefined;
  private ended = false;

  private constructor(
    private readonly root: string,
    startAfter: number,
    private readonly settings: EtcdWatchSettings,
    private readonly onEnd: (err: unknown) => void,
  ) {
    this.changes = new WatchEventBuffer(startAfter);
    this.nextRevision = startAfter + 1;
  }

  /**
   * Starts the watch on `root` (a clean key) for every change after revision `startAfter` and resolves once
   * the server accepted it. `onEnd` runs when the watch ends for good (failure or close).
   */
  static async open(
    root: string,
    startAfter: number,
    settings: EtcdWatchSettings,
    onEnd: (err: unknown) => void,
  ): Promise<EtcdPrefixWatch> {
    const watch = new EtcdPrefixWatch(root, startAfter, settings, onEnd);
    try {
      await watch.connect(startAfter + 1);
    } catch (err) {
      if (!watch.isCancellation(err)) {
        const failure = watch.backendError(err);
        await watch.end(failure);
        throw failure;
      }
      try {
        await watch.resync(err);
      } catch (resyncError) {
        const failure = watch.backendError(resyncError);
        await watch.end(failure);
        throw failure;
      }
    }
    return watch;
  }

  /** Ends the watch: waiters reject with `err`, the server-side watch is cancelled. */
  end(err: unknown): Promise<void> {
    if (this.ended) return Promise.resolve();
    this.ended = true;
    clearTimeout(this.graceTimer);
    this.changes.fail(err);
    this.onEnd(err);
    const watcher = this.watcher;
    this.watcher = undefined;
    return watcher ? cancelWatcher(watcher, this.settings.timeoutMs) : Promise.resolve();
  }

  private async connect(startRevision: number): Promise<void> {
    const { etcd, timeoutMs } = this.settings;
    await this.settings.beforeWatch?.({ prefix: this.root, startRevision });
    if (this.ended) throw this.closedError();
    this.nextRevision = startRevision;
    const watcher = etcd
      .watch()
      .inRange(watchRange(this.root))
      .startRevision(String(startRevision))
      .watcher();
    this.watcher = watcher;
    let accepted = false;
    let refused = false;
    const current = (): boolean => this.watcher === watcher && !this.ended;
    // Listeners added after etcd3's own run after them, so they get the last word on the start revision.
    watcher.on('connected', (res: IWatchResponse) => {
      const reconnect = accepted;
      accepted = true;
      if (current()) this.onConnected(res, reconnect);
    });
    const connected = new Promise<void>((resolve, reject) => {
      watcher.once('connected', () => resolve());
      watcher.once('error', (err: Error) => {
        if (!accepted) {
          refused = true;
          releaseAttachQueue(watcher);
        }
        reject(err);
      });
    });
    watcher.on('data', (res: IWatchResponse) => {
      if (current()) this.onData(res);
    });
    watcher.on('disconnected', (err: Error) => {
      if (current()) this.onDisconnected(err);
    });
    watcher.on('error', (err: Error) => {
      if (!accepted) return;
      // Refused when etcd3 re-created it after a reconnect (access revoked meanwhile): same etcd3 bug.
      releaseAttachQueue(watcher);
      if (current()) void this.onCancelled(err);
    });
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`the watch was not accepted within ${timeoutMs} ms`)),
        timeoutMs,
      );
    });
    try {
      await Promise.race([connected, timedOut]);
    } catch (err) {
      if (this.watcher === watcher) this.watcher = undefined;
      // A refused watch is already gone from etcd3; cancelling it would wait for an answer that never comes.
      if (!refused) await cancelWatcher(watcher, timeoutMs);
      throw err;
    } finally {
      clearTimeout(timer);
    }
  }

  private onData(res: IWatchResponse): void {
    if (this.ended) return;
    const resumeFrom = this.nextRevision;
    const batch: WatchChange[] = [];
    let last = resumeFrom - 1;
    for (const event of res.events) {
      const revision = Number(event.kv.mod_revision);
      if (revision < resumeFrom) continue;
      last = Math.max(last, revision);
      const key = event.kv.key.toString('utf8');
      // The watched range is [root, root + '0'): it includes /app/db-x and /app/db.x, which are not under /app/db.
      if (keyIsUnder(key, this.root)) batch.push({ index: revision, key });
    }
    const headerRevision = Number(res.header.revision);
    this.observedRevision = Math.max(this.observedRevision, headerRevision);
    // An empty response is a progress notification, which etcd sends only to watches that are caught up.
    this.nextRevision = res.events.length === 0 ? Math.max(resumeFrom, headerRevision + 1) : last + 1;
    this.pinStartRevision();
    if (batch.length > 0) this.changes.record(batch);
  }

  private onConnected(res: IWatchResponse, reconnect: boolean): void {
    this.pinStartRevision();
    const headerRevision = Number(res.header.revision);
    if (reconnect) {
      clearTimeout(this.graceTimer);
      this.graceTimer = undefined;
      const down = this.disconnectedSince === undefined ? 0 : Date.now() - this.disconnectedSince;
      this.disconnectedSince = undefined;
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

  private onDisconnected(err: Error): void {
    if (this.ended) return;
    this.pinStartRevision();
    if (this.graceTimer) return;
    this.disconnectedSince = Date.now();
    this.settings.logger.debug(
      `${this.context.backend}: watch on ${this.root} disconnected (${errorMessage(err)}), reconnecting`,
    );
    this.graceTimer = setTimeout(() => {
      void this.end(
        etcdBackendError(this.settings.mod, err, this.context, `watching ${this.root} (connection lost)`),
      );
    }, this.settings.disconnectGraceMs);
  }

  /** The server cancelled the watch after accepting it: its revision was compacted away, or access was revoked. */
  private async onCancelled(err: Error): Promise<void> {
    if (this.ended) return;
    this.watcher = undefined;
    if (!this.isCancellation(err)) {
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
    // Recorded first: events of the new watch (above `current`) may arrive before connect() returns.
    this.changes.record([{ index: current, key: undefined }]);
    await this.connect(current + 1);
  }

  /** etcd3 moves the start revision to the last header's revision + 1 on every response; undo that. */
  private pinStartRevision(): void {
    if (this.watcher) this.watcher.request.start_revision = this.nextRevision;
  }

  /** A cancellation etcd sends for a compacted revision, as opposed to a refusal (auth, permission). */
  private isCancellation(err: unknown): boolean {
    const mod = this.settings.mod;
    if (
      err instanceof mod.EtcdPermissionDeniedError ||
      err instanceof mod.EtcdAuthenticationFailedError ||
      err instanceof mod.EtcdInvalidAuthTokenError ||
      err instanceof mod.GRPCUnauthenticatedError
    ) {
      return false;
    }
    return /^Watcher canceled|compacted/i.test(errorMessage(err));
  }

  private backendError(err: unknown): BackendError {
    return etcdBackendError(this.settings.mod, err, this.context, `watching ${this.root}`);
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

/**
 * Cancels `watcher`, waiting at most `timeoutMs`: etcd3 waits for the server to confirm, and forever for a
 * watch the server never accepted.
 */
async function cancelWatcher(watcher: Watcher, timeoutMs: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const bounded = new Promise<void>((ok) => (timer = setTimeout(ok, timeoutMs)));
  await Promise.race([watcher.cancel().catch(() => undefined), bounded]);
  clearTimeout(timer);
}

interface AttachQueueInternals {
  manager?: { queue?: { queue?: unknown; readQueue?: unknown } };
}

/**
 * Works around an etcd3 bug: when etcd refuses a watch in its creation response (permission denied), etcd3
 * reports the error but leaves the watch at the head of the stream's attach queue, so no later watch of the
 * client is ever sent, and after a reconnect none of the watches queued behind it is re-created. The refused watch is popped and the next one sent, as etcd3 does for an accepted
 * watch. Does nothing if etcd3's internals no longer look like this.
 */
function releaseAttachQueue(watcher: Watcher): void {
  const attach = (watcher as unknown as AttachQueueInternals).manager?.queue;
  const queue = attach?.queue;
  if (!attach || !Array.isArray(queue) || typeof attach.readQueue !== 'function') return;
  if (queue[0] !== watcher) return;
  queue.shift();
  (attach.readQueue as () => void).call(attach);
}

/**
 * The smallest byte range holding `root` and everything under `root/`: [root, root + '0'), '0' being the
 * character after '/'. It also holds siblings like root-x, which the event filter drops.
 */
export function watchRange(root: string): { start: string; end: string } {
  if (root === '/') return { start: '/', end: '0' };
  return { start: root, end: `${root}0` };
}
