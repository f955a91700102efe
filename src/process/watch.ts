import { setMaxListeners } from 'node:events';
import type { StoreClient, WatchResult } from '../backends/store-client.js';
import { abortReason } from '../backends/watch-event-buffer.js';
import type { WaitWindow } from '../config/wait-window.js';
import { NO_WAIT } from '../config/wait-window.js';
import { errorMessage } from '../errors.js';
import type { Logger } from '../logging/logger.js';
import { prefixedKeys } from '../resources/load-resources.js';
import type { TemplateResource } from '../resources/template-resource.js';
import { backoffDelay } from './backoff.js';
import { DebounceQueue } from './debounce.js';
import { loadConfdir } from './load-pass-input.js';
import type { ResourceResult, SyncModes } from './process-resource.js';
import type { PassContext } from './run-pass.js';
import { runPass } from './run-pass.js';
import { summarize } from './summary.js';
import type { WatchClock } from './watch-clock.js';
import { systemClock } from './watch-clock.js';
import type { WatchRoot } from './watch-roots.js';
import { dirtyResources, watchRoots } from './watch-roots.js';

export interface WatchOptions {
  /** Debounce window of resources without their own `wait`; undefined renders at once. */
  wait?: WaitWindow;
  /** A full re-render of every resource this often, as a safety net; undefined: never. */
  resyncIntervalMs?: number;
  clock?: WatchClock;
  /** Jitter source for the backoff, in [0, 1). */
  random?: () => number;
  /** Renders one batch. runPass; tests pass a recorder. */
  pass?: (resources: readonly TemplateResource[], ctx: PassContext) => Promise<ResourceResult[]>;
}

export interface WatchModeOptions {
  wait?: WaitWindow;
  resyncIntervalMs?: number;
}

/**
 * `-watch`: loads conf.d once (a later change to conf.d or a template needs a restart) and keeps every
 * resource in step with the store until `signal` aborts.
 */
export async function watchConfdir(
  confdir: string,
  prefix: string,
  store: StoreClient,
  modes: SyncModes,
  logger: Logger,
  signal: AbortSignal,
  options: WatchModeOptions = {},
): Promise<void> {
  const { resources, templates } = await loadConfdir(confdir, prefix, logger);
  await runWatch(resources, { store, templates, modes, logger, pendingReloads: new Set() }, signal, options);
}

/**
 * The watch processor. It arms one store watch per root prefix (see watch-roots.ts), renders every
 * resource once, then re-renders only the resources a reported change affects, in debounced batches that
 * go through runPass (so a shared reload command runs once per batch). Batches never overlap, so a change
 * seen while a batch runs is rendered by the next one and the files never end on stale values.
 *
 * A failing watch is retried with capped, jittered backoff; once it works again its resources are
 * re-rendered, since changes may have been missed meanwhile. The files keep their last good content in
 * between. A resource that failed to render is retried with the next batch, whatever triggers it.
 *
 * Aborting `signal` stops the watches and lets the resource in flight finish (the rest of the batch is
 * skipped); the promise then resolves.
 */
export async function runWatch(
  resources: readonly TemplateResource[],
  ctx: PassContext,
  signal: AbortSignal,
  options: WatchOptions = {},
): Promise<void> {
  await new WatchProcessor(resources, ctx, signal, options).run();
}

class WatchProcessor {
  private readonly queue = new DebounceQueue<number>();
  private readonly resourceKeys: string[][];
  private readonly clock: WatchClock;
  private readonly random: () => number;
  private readonly pass: NonNullable<WatchOptions['pass']>;
  /** Internal stop: the caller's abort, or an unexpected error in one of the loops. */
  private readonly stop = new AbortController();
  /** Cuts the render loop's sleep short when something new is marked (or on stop). */
  private wake = new AbortController();
  private failed = new Set<number>();
  /** Consecutive batches that ended with failures: paces the retries of failed resources. */
  private retries = 0;
  private batches = 0;

  constructor(
    private readonly resources: readonly TemplateResource[],
    private readonly ctx: PassContext,
    signal: AbortSignal,
    private readonly options: WatchOptions,
  ) {
    this.resourceKeys = resources.map((resource) => prefixedKeys(resource));
    this.clock = options.clock ?? systemClock;
    this.random = options.random ?? Math.random;
    this.pass = options.pass ?? runPass;
    // Every root's pending watch listens on this signal at once; dozens of roots are normal, not a leak.
    setMaxListeners(0, this.stop.signal);
    const onAbort = (): void => this.halt();
    if (signal.aborted) this.halt();
    else signal.addEventListener('abort', onAbort, { once: true });
    this.stop.signal.addEventListener('abort', () => signal.removeEventListener('abort', onAbort), {
      once: true,
    });
  }

  private get stopped(): boolean {
    return this.stop.signal.aborted;
  }

  private halt(): void {
    this.stop.abort();
    this.wake.abort();
  }

  async run(): Promise<void> {
    const roots = watchRoots(this.resources);
    const { logger } = this.ctx;
    logger.info(
      roots.length === 0
        ? 'watch: no keys to watch; resources are rendered once and on every resync'
        : `watch: ${roots.length} prefix${roots.length === 1 ? '' : 'es'}: ${roots.map((r) => r.prefix).join(', ')}`,
    );

    // Render only once every root has been armed (or has failed to arm): a change made while the first
    // batch reads the store is then reported by the watch and rendered again.
    const firstAttempts: Promise<void>[] = [];
    const loops = roots.map((root) => {
      let attempted!: () => void;
      firstAttempts.push(new Promise<void>((resolve) => (attempted = resolve)));
      return this.guard(this.watchRoot(root, attempted));
    });
    // Rejections are collected below; this only keeps one from counting as unhandled in the meantime.
    for (const loop of loops) loop.catch(() => undefined);
    await Promise.all(firstAttempts);
    this.markAll();
    const results = await Promise.allSettled([
      ...loops,
      this.guard(this.renderLoop()),
      this.guard(this.resyncLoop()),
    ]);
    for (const result of results) if (result.status === 'rejected') throw result.reason;
  }

  /** A loop that throws (a bug) must not leave the others running forever. */
  private async guard(loop: Promise<void>): Promise<void> {
    try {
      await loop;
    } catch (err) {
      this.halt();
      throw err;
    }
  }

  /** `attempted` is called once the first arm has succeeded or failed, or the loop ended before trying. */
  private async watchRoot(root: WatchRoot, attempted: () => void): Promise<void> {
    try {
      await this.followRoot(root, attempted);
    } finally {
      attempted();
    }
  }

  private async followRoot(root: WatchRoot, attempted: () => void): Promise<void> {
    let index: number | undefined;
    let failures = 0;
    let rearm = false;
    while (!this.stopped) {
      try {
        if (index === undefined) {
          index = (await this.watch(root, 0)).index;
          if (rearm) {
            this.ctx.logger.info(`watch on ${root.prefix} works again: re-rendering its resources`);
            this.markResources(root.resources, NO_WAIT);
          }
        } else {
          const result = await this.watch(root, index);
          index = result.index;
          this.markChanged(root, result.changedKeys);
          // Only a wait that delivered counts as recovery: a store that accepts the arm and then drops
          // every wait (a proxy cutting long polls) must keep backing off, not re-render every 0.4 s.
          failures = 0;
        }
      } catch (err) {
        if (this.stopped) break;
        index = undefined;
        const delayMs = backoffDelay(failures, this.random);
        failures += 1;
        this.ctx.logger.warn(
          `watch on ${root.prefix} failed: ${errorMessage(err)}; retrying in ${(delayMs / 1000).toFixed(1)}s`,
        );
        attempted();
        rearm = true;
        await this.clock.sleep(delayMs, this.stop.signal);
        continue;
      }
      attempted();
      rearm = true;
    }
  }

  /** One watchPrefix call that settles on stop even if a backend were slow to honour the abort. */
  private watch(root: WatchRoot, waitIndex: number): Promise<WatchResult> {
    const { signal } = this.stop;
    const call = this.ctx.store.watchPrefix(root.prefix, root.keys, { waitIndex, signal });
    return new Promise<WatchResult>((resolve, reject) => {
      const onAbort = (): void => reject(abortReason(signal));
      signal.addEventListener('abort', onAbort, { once: true });
      call.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
    });
  }

  private markChanged(root: WatchRoot, changedKeys: readonly string[] | undefined): void {
    const dirty = dirtyResources(root, this.resourceKeys, changedKeys);
    this.ctx.logger.debug(
      `watch on ${root.prefix}: ${changedKeys ? `${changedKeys.length} key(s) changed` : 'changes not itemised'}, ` +
        `${dirty.length} resource(s) to render`,
    );
    for (const index of dirty) this.mark(index, this.resources[index]?.wait ?? this.options.wait ?? NO_WAIT);
  }

  private markResources(indexes: readonly number[], window: WaitWindow): void {
    for (const index of indexes) this.mark(index, window);
  }

  private markAll(): void {
    this.markResources(
      this.resources.map((_, index) => index),
      NO_WAIT,
    );
  }

  private mark(index: number, window: WaitWindow): void {
    this.queue.mark(index, window, this.clock.now());
    this.wake.abort();
  }

  private async renderLoop(): Promise<void> {
    while (!this.stopped) {
      const now = this.clock.now();
      const dueAt = this.queue.nextDueAt();
      if (dueAt !== undefined && dueAt <= now) {
        await this.renderBatch(this.queue.takeDue(now));
        continue;
      }
      this.wake = new AbortController();
      if (this.stopped) break;
      await this.clock.sleep(dueAt === undefined ? Infinity : dueAt - now, this.wake.signal);
    }
  }

  private async renderBatch(due: readonly number[]): Promise<void> {
    const indexes = [...new Set([...due, ...this.failed])].sort((a, b) => a - b);
    const batch = indexes.flatMap((index) => this.resources[index] ?? []);
    const { logger } = this.ctx;
    this.batches += 1;
    let results: ResourceResult[];
    try {
      results = await this.pass(batch, { ...this.ctx, signal: this.stop.signal });
    } catch (err) {
      // runPass isolates resources, so this is unexpected; keep watching and retry them all next time.
      logger.error(`watch: rendering failed: ${errorMessage(err)}`);
      this.failed = new Set(indexes);
      this.scheduleRetry();
      return;
    }
    this.failed = new Set(indexes.filter((_, i) => results[i]?.status === 'failed'));
    this.scheduleRetry();
    const line = `watch: ${summarize(results, [])}`;
    if (this.batches === 1 || results.some((r) => r.status !== 'in-sync')) logger.info(line);
    else logger.debug(line);
  }

  /**
   * A failed resource (store read timed out, check failed) is retried on its own with the watch backoff,
   * not only when some later change happens to trigger a batch: otherwise its file could stay stale until
   * the safety-net resync.
   */
  private scheduleRetry(): void {
    if (this.failed.size === 0 || this.stopped) {
      this.retries = 0;
      return;
    }
    const delayMs = backoffDelay(this.retries, this.random);
    this.retries += 1;
    this.ctx.logger.warn(
      `watch: ${this.failed.size} resource(s) failed; retrying in ${(delayMs / 1000).toFixed(1)}s`,
    );
    const window = { minMs: delayMs, maxMs: delayMs };
    for (const index of this.failed) this.mark(index, window);
  }

  private async resyncLoop(): Promise<void> {
    const intervalMs = this.options.resyncIntervalMs;
    if (intervalMs === undefined) return;
    while (!this.stopped) {
      await this.clock.sleep(intervalMs, this.stop.signal);
      if (this.stopped) break;
      this.ctx.logger.debug('watch: periodic resync of every resource');
      this.markAll();
    }
  }
}
