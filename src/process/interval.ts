import { setTimeout as sleep } from 'node:timers/promises';
import type { StoreClient } from '../backends/store-client.js';
import { errorMessage } from '../errors.js';
import type { Logger } from '../logging/logger.js';
import type { SyncModes } from './process-resource.js';
import { loadConfdir } from './load-pass-input.js';
import { runPass } from './run-pass.js';
import { summarize } from './summary.js';

/**
 * Interval mode: a full pass every `intervalSeconds`, re-reading conf.d each time so added or edited
 * resources take effect without a restart. Errors are logged and the loop goes on. Aborting `signal` lets
 * the resource in flight finish (so no stage file is left behind), skips the rest of the pass and returns.
 */
export async function runInterval(
  confdir: string,
  prefix: string,
  intervalSeconds: number,
  store: StoreClient,
  modes: SyncModes,
  logger: Logger,
  signal: AbortSignal,
): Promise<void> {
  const pendingReloads = new Set<string>();
  while (!signal.aborted) {
    try {
      const { resources, failures, templates } = await loadConfdir(confdir, prefix, logger);
      const results = await runPass(resources, { store, templates, modes, logger, signal, pendingReloads });
      logger.info(summarize(results, failures));
    } catch (err) {
      logger.error(`pass failed: ${errorMessage(err)}`);
    }
    try {
      await sleep(intervalSeconds * 1000, undefined, { signal });
    } catch {
      // Aborted while waiting: leave the loop.
    }
  }
}
