import { openSync } from 'node:fs';
import { rename, rm } from '../fs-async.js';
import { dirname } from 'node:path';
import { errorMessage } from '../errors.js';
import type { Logger } from '../logging/logger.js';
import type { WantedState } from './dest-state.js';
import { stagePathFor } from './stage-file.js';
import type { WriteFn } from './write-descriptor.js';
import { closeOnce, fsyncDescriptor, writeDescriptor } from './write-descriptor.js';

/**
 * Creates the stage file and fills it. It is created empty, exclusively and 0600, and gets its final
 * owner and mode before the first byte. A stage file that could not be filled is removed here: it is
 * partial and nobody may ever check or keep it.
 */
export async function writeStageFile(stagePath: string, wanted: WantedState, write: WriteFn): Promise<void> {
  let close: ReturnType<typeof closeOnce> | undefined;
  try {
    // Synchronous, as the calls of write-descriptor.ts: creating an entry in dest's directory does not
    // wait for the disk.
    close = closeOnce(openSync(stagePath, 'wx', 0o600));
    await writeDescriptor(close.fd, wanted, write, { empty: true });
    close();
  } catch (err) {
    try {
      close?.();
    } catch {
      // The stage file is removed below; a failed close of it loses nothing.
    }
    if (close) await rm(stagePath, { force: true }).catch(() => undefined);
    throw new Error(`staging ${stagePath}: ${errorMessage(err)}`, { cause: err });
  }
}

/**
 * Makes the renames done in `dir` durable: without it a crash can bring back the old directory entry.
 * Callers renaming in one directory at the same time share fsyncs: a caller joins the fsync queued to start
 * after the one in flight (which may have begun before its rename, so it cannot count), and a caller that
 * finds none in flight starts one. 100 files renamed together in one directory so cost two or three
 * directory fsyncs, not 100, and none returns before an fsync that began after its own rename.
 */
export function fsyncDirectory(dir: string, logger: Logger): Promise<void> {
  const state = directorySyncs.get(dir) ?? { running: undefined, queued: undefined };
  directorySyncs.set(dir, state);
  if (state.queued) return state.queued;
  if (!state.running) return startDirectorySync(dir, state, logger);
  const queued = state.running.then(() => {
    state.queued = undefined;
    return startDirectorySync(dir, state, logger);
  });
  state.queued = queued;
  return queued;
}

interface DirectorySync {
  running: Promise<void> | undefined;
  queued: Promise<void> | undefined;
}

const directorySyncs = new Map<string, DirectorySync>();

function startDirectorySync(dir: string, state: DirectorySync, logger: Logger): Promise<void> {
  const running = syncDirectoryNow(dir, logger).finally(() => {
    state.running = undefined;
    if (!state.queued) directorySyncs.delete(dir);
  });
  state.running = running;
  return running;
}

async function syncDirectoryNow(dir: string, logger: Logger): Promise<void> {
  try {
    const close = closeOnce(openSync(dir, 'r'));
    try {
      await fsyncDescriptor(close.fd);
    } finally {
      close();
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
