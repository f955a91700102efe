import { rm } from '../fs-async.js';
import { errorMessage, SyncError } from '../errors.js';
import type { Logger } from '../logging/logger.js';
import type { DestState } from './dest-state.js';
import { syncFile } from './sync-file.js';

/**
 * Puts back what dest held before a sync: the same bytes, mode and owner, through the same atomic write
 * (no check: it was the running content). A dest that did not exist before is removed again.
 */
export async function restorePrevious(
  dest: string,
  previous: DestState | undefined,
  logger: Logger,
): Promise<void> {
  if (!previous) {
    try {
      await rm(dest, { force: true });
    } catch (err) {
      throw new SyncError(`cannot remove ${dest} to roll back: ${errorMessage(err)}`, dest, { cause: err });
    }
    return;
  }
  await syncFile(
    {
      dest,
      content: previous.content,
      mode: previous.mode,
      uid: previous.uid,
      gid: previous.gid,
      checkCmdTimeoutMs: 0,
      noop: false,
      syncOnly: true,
      keepStageFile: false,
    },
    logger,
  );
}
