import type { StoreClient } from '../backends/store-client.js';
import type { Logger } from '../logging/logger.js';
import { removeStaleStageFiles } from '../sync/stage-file.js';
import type { SyncModes } from './process-resource.js';
import { loadConfdir } from './load-pass-input.js';
import { runPass } from './run-pass.js';
import { summarize } from './summary.js';

/** `-onetime`: attempt every resource once; exit 0 only if all of them (and their loading) succeeded. */
export async function runOnetime(
  confdir: string,
  prefix: string,
  store: StoreClient,
  modes: SyncModes,
  logger: Logger,
): Promise<number> {
  const { resources, failures, templates } = await loadConfdir(confdir, prefix, logger);
  // Stage files a killed run left behind; -noop writes nothing and -keep-stage-file keeps them on purpose.
  if (!modes.noop && !modes.keepStageFile)
    await removeStaleStageFiles(
      resources.map((r) => r.dest),
      logger,
    );
  const results = await runPass(resources, { store, templates, modes, logger });
  const ok = failures.length === 0 && results.every((r) => r.status !== 'failed');
  const line = summarize(results, failures);
  if (ok) logger.info(line);
  else logger.error(line);
  return ok ? 0 : 1;
}
