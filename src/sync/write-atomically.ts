import { open, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { errorMessage } from '../errors.js';
import type { Logger } from '../logging/logger.js';
import type { WantedState } from './dest-state.js';
import { stagePathFor } from './stage-file.js';
import type { WriteFn } from './write-file-handle.js';
import { writeFileHandle } from './write-file-handle.js';

/**
 * Creates the stage file and fills it. It is created empty, exclusively and 0600, and gets its final
 * owner and mode before the first byte. A stage file that could not be filled is removed here: it is
 * partial and nobody may ever check or keep it.
 */
export async function writeStageFile(stagePath: string, wanted: WantedState, write: WriteFn): Promise<void> {
  const fh = await open(stagePath, 'wx', 0o600);
  try {
    await writeFileHandle(fh, wanted, write);
    await fh.close();
  } catch (err) {
    await fh.close().catch(() => undefined);
    await rm(stagePath, { force: true }).catch(() => undefined);
    throw new Error(`staging ${stagePath}: ${errorMessage(err)}`, { cause: err });
  }
}

/** Makes the rename itself durable: without it a crash can bring back the old directory entry. */
export async function fsyncDirectory(dir: string, logger: Logger): Promise<void> {
  try {
    const fh = await open(dir, 'r');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
  } catch (err) {
    logger.debug(`cannot fsync directory ${dir}: ${errorMessage(err)}`);
  }
}

/**
 * Writes `path` the way dest is written, for files beside it that are not checked (backups): a stage
 * file with its final owner and mode before its first byte, written in full, then renamed over `path`.
 * Readers see the old file or the new one; a failure leaves the old one and no stage file.
 */
export async function writeAtomically(
  path: string,
  wanted: WantedState,
  write: WriteFn,
  logger: Logger,
): Promise<void> {
  const stagePath = stagePathFor(path);
  await writeStageFile(stagePath, wanted, write);
  try {
    await rename(stagePath, path);
  } catch (err) {
    await rm(stagePath, { force: true }).catch(() => undefined);
    throw err;
  }
  await fsyncDirectory(dirname(path), logger);
}
