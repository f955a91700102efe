import { join } from 'node:path';
import type { StoreClient } from '../backends/store-client.js';
import { NO_WAIT, type WaitWindow } from '../config/wait-window.js';
import { errorMessage } from '../errors.js';
import type { EventBus } from '../events/event-bus.js';
import type { ConfigEvent, ResourceOutcome } from '../events/events.js';
import type { Logger } from '../logging/logger.js';
import type { RetryPolicy } from '../retry-policy.js';
import { ConfigFilesWatch } from './config-files-watch.js';
import {
  loadConfig,
  removeLeftoverStageFiles,
  sameFingerprint,
  type LoadedConfig,
  type LoadedResource,
} from './load-config.js';
import { runBatch } from './run-batch.js';
import { Scheduler } from './scheduler.js';
import type { SyncModes } from './sync-resource.js';
import { systemClock, type WatchClock } from './watch-clock.js';
import { WatchRegistry } from './watch-registry.js';

/**
 * How often a daemon pings its store: every -request-timeout, kept between 1 s and 10 s. A store that hangs
 * while nothing changes is so shown down within about twice the request timeout, for one cheap request
 * per interval per instance.
 */
export function probeInterval(requestTimeoutMs: number): number {
  return Math.min(10_000, Math.max(1000, requestTimeoutMs));
}

/** What a reload of the settings (confd.toml, SIGHUP) hands the daemon. */
export interface SettingsUpdate {
  prefix: string;
  wait?: WaitWindow;
  /** Present when the backend or its connection settings changed: connects the new store client. */
  connect?: () => Promise<StoreClient>;
}

export interface DaemonOptions {
  mode: 'watch' | 'interval';
  confdir: string;
  prefix: string;
  /** interval mode: time between passes; watch mode: the safety-net resync period. */
  intervalMs: number;
  /** watch mode: debounce window of resources without their own `wait`. */
  wait?: WaitWindow;
  modes: SyncModes;
  store: StoreClient;
  logger: Logger;
  events: EventBus;
  policy: RetryPolicy;
  /** Aborting cuts the batch in flight short (the shutdown timeout ran out). */
  cancel?: AbortSignal;
  /** Deadline of template DNS lookups (-request-timeout). */
  lookupTimeoutMs?: number;
  clock?: WatchClock;
  /** Re-reads the settings for a reload; without it a reload re-reads conf.d and templates only. */
  rereadSettings?: () => Promise<SettingsUpdate>;
  /** Watch conf.d/ and templates/ and reload on change (watch and interval modes; default true). */
  watchConfigFiles?: boolean;
  /** Store liveness pings (see probeInterval); 0 or absent: none. */
  probeIntervalMs?: number;
}

type Trigger = ConfigEvent['trigger'];

/**
 * The long-running processor of watch and interval modes. It holds the running set of resources (keyed by
 * their TOML file), renders them through one scheduler in batches, follows the store with one watch per
 * prefix (watch mode) or a timer (interval mode), and reloads its configuration live: on SIGHUP (`reload`)
 * and when conf.d/ or templates/ change on disk. A new configuration is validated whole before anything
 * changes; a rejected one leaves the running set exactly as it was.
 *
 * Aborting the signal given to `run` stops taking new work: the batch in flight finishes (the caller bounds
 * how long it may take), watches are released, and `run` resolves.
 */
export class Daemon {
  private readonly clock: WatchClock;
  private current = new Map<string, LoadedResource>();
  private store: StoreClient;
  private prefix: string;
  private wait: WaitWindow | undefined;
  private readonly pendingReloads = new Set<string>();
  private scheduler: Scheduler | undefined;
  private registry: WatchRegistry | undefined;
  private batches = 0;
  /** The safety-net resync marked every resource: the next batch reads from the store, not from copies. */
  private resyncDue = false;
  private reloading: Promise<void> = Promise.resolve();
  private inflight: Promise<void> = Promise.resolve();
  private stopSignal: AbortSignal | undefined;

  constructor(private readonly options: DaemonOptions) {
    this.clock = options.clock ?? systemClock;
    this.store = options.store;
    this.prefix = options.prefix;
    this.wait = options.wait;
  }

  private get confd(): string {
    return join(this.options.confdir, 'conf.d');
  }

  /** The store client in use (a reload may have replaced the one given). */
  get storeClient(): StoreClient {
    return this.store;
  }

  async run(signal: AbortSignal): Promise<void> {
    this.stopSignal = signal;
    const { mode, logger, events } = this.options;
    const scheduler = new Scheduler(this.clock, this.options.policy, signal);
    this.scheduler = scheduler;
    const config = await loadConfig(this.options.confdir, this.prefix, logger);
    await removeLeftoverStageFiles(config.resources, this.options.modes, logger);
    this.install(config, 'start');
    if (mode === 'watch') {
      this.registry = new WatchRegistry(this.store, {
        events,
        policy: this.options.policy,
        clock: this.clock,
        keysOf: (id) => this.current.get(id)?.keys ?? [],
        onChange: (ids) => {
          for (const id of ids) this.mark(id);
        },
        onRecovered: (ids) => {
          for (const id of ids) scheduler.mark(id, NO_WAIT);
        },
      });
      // Render only once every prefix has been armed (or failed to): a change made while the first batch
      // reads the store is then reported by the watch and rendered again.
      await this.registry.update(this.members());
      logger.info(
        this.registry.prefixes.length === 0
          ? 'watch: no keys to watch; resources are rendered once and on every resync'
          : `watch: ${this.registry.prefixes.length} prefix(es): ${this.registry.prefixes.join(', ')}`,
      );
    }
    this.markAll();
    const files =
      this.options.watchConfigFiles === false
        ? undefined
        : new ConfigFilesWatch(
            [join(this.options.confdir, 'conf.d'), join(this.options.confdir, 'templates')],
            () => void this.reload('files'),
            logger,
          );
    files?.start();
    try {
      await Promise.all([
        scheduler.run((ids) => this.render(ids)),
        this.periodic(signal),
        this.probe(signal),
      ]);
    } finally {
      files?.close();
      await this.reloading;
      await this.registry?.stopAll();
    }
  }

  /** Re-reads the configuration (SIGHUP). Reloads never overlap; each waits for the previous one. */
  reload(trigger: Trigger = 'signal'): Promise<void> {
    this.reloading = this.reloading
      .then(() => this.reloadNow(trigger))
      .catch((err: unknown) => {
        this.options.logger.error(`configuration reload failed: ${errorMessage(err)}`);
      });
    return this.reloading;
  }

  private async reloadNow(trigger: Trigger): Promise<void> {
    if (this.stopSignal?.aborted) return;
    const { logger, events } = this.options;
    const reject = (error: Error, errors: Error[] = [error]): void =>
      events.emit({
        type: 'config',
        trigger,
        source: this.confd,
        ok: false,
        resources: this.refs(),
        added: [],
        removed: [],
        changed: [],
        errors,
        error,
      });
    let update: SettingsUpdate = { prefix: this.prefix, ...(this.wait ? { wait: this.wait } : {}) };
    let newStore: StoreClient | undefined;
    try {
      if (this.options.rereadSettings) update = await this.options.rereadSettings();
      if (update.connect) newStore = await update.connect();
    } catch (err) {
      reject(err instanceof Error ? err : new Error(String(err)));
      return;
    }
    const config = await loadConfig(this.options.confdir, update.prefix, logger);
    const first = config.failures[0];
    if (first) {
      await newStore?.close().catch(() => undefined);
      reject(first, config.failures);
      return;
    }
    this.prefix = update.prefix;
    this.wait = update.wait;
    if (newStore) await this.switchStore(newStore);
    const changes = this.install(config, trigger);
    await this.registry?.update(this.members());
    const toRender = newStore ? [...this.current.keys()] : [...changes.added, ...changes.changed];
    for (const id of toRender) {
      this.scheduler?.reset(id);
      this.scheduler?.mark(id, NO_WAIT);
    }
  }

  /** Swaps the store client once the new one answered; the old one closes after the batch in flight. */
  private async switchStore(next: StoreClient): Promise<void> {
    const old = this.store;
    this.store = next;
    await this.registry?.switchStore(next, this.members());
    await this.inflight;
    await old.close().catch((err: unknown) => {
      this.options.logger.debug(`closing the previous store client: ${errorMessage(err)}`);
    });
  }

  /** Makes `config` the running set; returns what changed. At start, files that failed are reported. */
  private install(config: LoadedConfig, trigger: Trigger) {
    const next = new Map(config.resources.map((loaded) => [loaded.id, loaded]));
    const added: string[] = [];
    const changed: string[] = [];
    const removed = [...this.current.keys()].filter((id) => !next.has(id));
    for (const [id, loaded] of next) {
      const before = this.current.get(id);
      if (!before) added.push(id);
      else if (!sameFingerprint(before.fingerprint, loaded.fingerprint)) changed.push(id);
      else next.set(id, before);
    }
    for (const id of removed) this.scheduler?.forget(id);
    this.current = next;
    if (trigger === 'start' && next.size === 0 && config.failures.length === 0)
      this.options.logger.warn(`no template resources found in ${join(this.options.confdir, 'conf.d')}`);
    this.options.events.emit({
      type: 'config',
      trigger,
      source: this.confd,
      ok: true,
      resources: this.refs(),
      added,
      removed,
      changed,
      errors: config.failures,
    });
    return { added, removed, changed };
  }

  private refs() {
    return [...this.current.values()].map((loaded) => loaded.ref);
  }

  private members() {
    return [...this.current.values()].map((loaded) => ({ id: loaded.id, resource: loaded.resource }));
  }

  private mark(id: string): void {
    const loaded = this.current.get(id);
    if (loaded) this.scheduler?.mark(id, loaded.resource.wait ?? this.wait ?? NO_WAIT);
  }

  private markAll(): void {
    for (const id of this.current.keys()) this.scheduler?.mark(id, NO_WAIT);
  }

  /** interval mode: a pass every interval, re-reading conf.d first. watch mode: the safety-net resync. */
  private async periodic(signal: AbortSignal): Promise<void> {
    for (;;) {
      await this.clock.sleep(this.options.intervalMs, signal);
      if (signal.aborted) return;
      if (this.options.mode === 'interval') await this.reload('interval');
      else {
        this.options.logger.debug('watch: periodic resync of every resource, read from the store');
        this.resyncDue = true;
      }
      this.markAll();
    }
  }

  /** Pings the store now and then; the result reaches status and metrics through the store's events. */
  private async probe(signal: AbortSignal): Promise<void> {
    const every = this.options.probeIntervalMs ?? 0;
    if (every <= 0) return;
    for (;;) {
      await this.clock.sleep(every, signal);
      if (signal.aborted) return;
      await this.store.ping({ signal }).catch(() => undefined);
    }
  }

  private async render(ids: readonly string[]): Promise<void> {
    const batch = ids.flatMap((id) => this.current.get(id) ?? []);
    if (batch.length === 0) return;
    // The batch after a safety-net resync marked everything: its read goes to the store itself.
    const freshRead = this.resyncDue;
    this.resyncDue = false;
    const { events, logger, modes, mode } = this.options;
    const scheduler = this.scheduler;
    const run = (async () => {
      const results = await runBatch(batch, {
        store: this.store,
        modes,
        logger,
        events,
        ...(this.stopSignal ? { signal: this.stopSignal } : {}),
        ...(this.options.cancel ? { cancel: this.options.cancel } : {}),
        ...(this.options.lookupTimeoutMs === undefined
          ? {}
          : { lookupTimeoutMs: this.options.lookupTimeoutMs }),
        pendingReloads: this.pendingReloads,
        freshRead,
        onResult: (result) => {
          if (result.outcome === 'failed') result.event.retryInMs = scheduler?.failed(result.loaded.id);
          else scheduler?.succeeded(result.loaded.id);
        },
      });
      const counts: Record<ResourceOutcome, number> = { updated: 0, in_sync: 0, would_update: 0, failed: 0 };
      for (const result of results) counts[result.outcome] += 1;
      this.batches += 1;
      events.emit({ type: 'batch', mode, counts, loadFailures: 0, first: this.batches === 1 });
    })();
    this.inflight = run.catch(() => undefined);
    try {
      await run;
    } catch (err) {
      // runBatch isolates resources, so this is a bug; keep running and retry them all.
      logger.error(`rendering failed: ${errorMessage(err)}`);
      for (const loaded of batch) scheduler?.failed(loaded.id);
    }
  }
}
