import { rename, rm, stat } from '../fs-async.js';
import { errorMessage, SyncError } from '../errors.js';
import type { Logger } from '../logging/logger.js';
import type { DestState } from './dest-state.js';
import type { WriteFn } from './write-descriptor.js';
import { writeAtomically } from './write-atomically.js';

/** `dest.bak.1` is the newest backup, `dest.bak.N` the oldest kept. */
export function backupPath(dest: string, n: number): string {
  return `${dest}.bak.${n}`;
}

/**
 * Keeps `count` previous versions of dest beside it, just before a new one replaces it: .bak.1 becomes
 * .bak.2 and so on (the oldest beyond `count` goes), then the current content is written to .bak.1 with
 * dest's own mode and owner (so a backup never exposes more than dest did). Each step is a rename or an
 * atomic write, so a crash leaves every backup whole. A failure is a SyncError naming dest: the new file
 * is not swapped in without its backup.
 */
export async function rotateBackups(
  dest: string,
  current: DestState,
  count: number,
  write: WriteFn,
  logger: Logger,
): Promise<void> {
  try {
    await rm(backupPath(dest, count), { force: true });
    for (let n = count - 1; n >= 1; n--) {
      const from = backupPath(dest, n);
      if (await exists(from)) await rename(from, backupPath(dest, n + 1));
    }
    await writeAtomically(backupPath(dest, 1), current, write, logger);
  } catch (err) {
    throw new SyncError(`cannot keep the backup of ${dest}: ${errorMessage(err)}`, dest, { cause: err });
  }
  logger.debug(`${dest}: previous version kept as ${backupPath(dest, 1)} (${count} backups kept)`);
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}
