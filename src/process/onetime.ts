import { join, resolve } from 'node:path';
import type { StoreClient } from '../backends/store-client.js';
import type { EventBus } from '../events/event-bus.js';
import type { ResourceOutcome } from '../events/events.js';
import type { Logger } from '../logging/logger.js';
import { loadConfig, removeLeftoverStageFiles } from './load-config.js';
import { runBatch } from './run-batch.js';
import type { SyncModes } from './sync-resource.js';

export interface OnetimeOptions {
  confdir: string;
  prefix: string;
  store: StoreClient;
  modes: SyncModes;
  logger: Logger;
  events: EventBus;
  /** Aborting (a signal) starts no further resource; the one in flight finishes or is cut short. */
  signal?: AbortSignal;
  /** Aborting cuts the resource in flight short (its commands are killed). */
  cancel?: AbortSignal;
  /** Deadline of template DNS lookups (-request-timeout). */
  lookupTimeoutMs?: number;
}

/** `-onetime`: attempt every resource once; exit 0 only if all of them (and their loading) succeeded. */
export async function runOnetime(options: OnetimeOptions): Promise<number> {
  const { confdir, prefix, store, modes, logger, events, signal, cancel } = options;
  const config = await loadConfig(confdir, prefix, logger);
  events.emit({
    type: 'config',
    trigger: 'start',
    source: resolve(confdir, 'conf.d'),
    ok: true,
    resources: config.resources.map((loaded) => loaded.ref),
    added: config.resources.map((loaded) => loaded.id),
    removed: [],
    changed: [],
    errors: config.failures,
  });
  await removeLeftoverStageFiles(config.resources, modes, logger);
  if (config.resources.length === 0 && config.failures.length === 0)
    logger.warn(`no template resources found in ${join(confdir, 'conf.d')}`);
  const results = await runBatch(config.resources, {
    store,
    modes,
    logger,
    events,
    ...(signal ? { signal } : {}),
    ...(cancel ? { cancel } : {}),
    ...(options.lookupTimeoutMs === undefined ? {} : { lookupTimeoutMs: options.lookupTimeoutMs }),
  });
  const counts: Record<ResourceOutcome, number> = { updated: 0, in_sync: 0, would_update: 0, failed: 0 };
  for (const result of results) counts[result.outcome] += 1;
  // Resources a signal kept from starting count as failed: the run did not do what it was asked.
  counts.failed += config.resources.length - results.length;
  events.emit({ type: 'batch', mode: 'onetime', counts, loadFailures: config.failures.length, first: true });
  return counts.failed + config.failures.length === 0 ? 0 : 1;
}
