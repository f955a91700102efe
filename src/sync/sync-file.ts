import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { chmod, copyFile, mkdir, open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { ConfdError, errorMessage, SyncError } from '../errors.js';
import type { Logger } from '../logging/logger.js';
import type { DestState, WantedState } from './dest-state.js';
import { compareState, readDestState, wantedState } from './dest-state.js';
import { noopDiff } from './noop-diff.js';
import { runCommand } from './run-command.js';
import { writeFileHandle } from './write-file-handle.js';

export interface SyncRequest {
  dest: string;
  content: string;
  /** Permission bits; undefined = keep the existing dest's mode, 0644 for a new file. */
  mode?: number;
  uid?: number;
  gid?: number;
  checkCmd?: string;
  checkCmdTimeoutMs: number;
  noop: boolean;
  syncOnly: boolean;
  keepStageFile: boolean;
}

export type SyncOutcome =
  { status: 'in-sync' } | { status: 'updated' } | { status: 'would-update'; diff: string };

/** The filesystem calls syncFile makes that tests need to fail on purpose (EXDEV/EBUSY are hard to provoke). */
export interface SyncFsOps {
  rename(from: string, to: string): Promise<void>;
}

const DEFAULT_FS_OPS: SyncFsOps = { rename };

/**
 * Makes dest hold `content` (with mode/owner) without ever exposing a partial or unchecked file: the new
 * content is staged next to dest, checked, then renamed over it. Reload is the caller's business.
 */
export async function syncFile(
  req: SyncRequest,
  logger: Logger,
  fsOps: SyncFsOps = DEFAULT_FS_OPS,
): Promise<SyncOutcome> {
  const { dest } = req;
  const current = await readDestState(dest);
  const wanted = wantedState(req, current, process.geteuid?.() === 0);
  const difference = current && compareState(current, wanted);
  if (difference && !difference.content && difference.metadata.length === 0) return { status: 'in-sync' };
  if (req.noop) return { status: 'would-update', diff: await noopDiff(dest, current, wanted, difference) };

  const changes = difference
    ? [...(difference.content ? ['content'] : []), ...difference.metadata]
    : ['new file'];
  logger.debug(`${dest} out of sync: ${changes.join(', ')}`);
  await ensureDirectory(dirname(dest));

  // Same directory as dest, so the final rename stays on one filesystem; hidden and suffixed so globs
  // like conf.d/*.conf in the consuming program never pick it up.
  const stagePath = join(dirname(dest), `.${basename(dest)}.${randomBytes(6).toString('hex')}.confd-stage`);
  let staged = false;
  try {
    const fh = await open(stagePath, 'wx', 0o600);
    staged = true;
    try {
      await writeFileHandle(fh, stagePath, wanted);
      await fh.close();
    } catch (err) {
      await fh.close().catch(() => undefined);
      throw err;
    }
    if (req.checkCmd && !req.syncOnly) {
      await runCommand(req.checkCmd, { src: stagePath, dest }, req.checkCmdTimeoutMs, logger, 'check');
    }
    const renamed = await replaceDest(stagePath, dest, wanted, current, fsOps, logger);
    staged = !renamed;
    if (req.keepStageFile) await keepCopy(renamed, dest, stagePath, wanted.mode, logger);
    else if (staged) await rm(stagePath, { force: true });
    return { status: 'updated' };
  } catch (err) {
    if (staged && req.keepStageFile) logger.info(`kept stage file ${stagePath}`);
    else if (staged) await rm(stagePath, { force: true }).catch(() => undefined);
    if (err instanceof ConfdError) throw err;
    throw new SyncError(`cannot write ${dest}: ${errorMessage(err)}`, dest, { cause: err });
  }
}

async function ensureDirectory(dir: string): Promise<void> {
  try {
    await mkdir(dir, { recursive: true });
  } catch (err) {
    throw new SyncError(`cannot create directory ${dir}: ${errorMessage(err)}`, dir, { cause: err });
  }
}

/**
 * Renames the staged file over dest (atomic: readers see the old or the new file, never a mix). Returns
 * false when it had to write in place instead, leaving the stage file where it was.
 */
async function replaceDest(
  stagePath: string,
  dest: string,
  wanted: WantedState,
  current: DestState | undefined,
  fsOps: SyncFsOps,
  logger: Logger,
): Promise<boolean> {
  try {
    await fsOps.rename(stagePath, dest);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'EBUSY' && code !== 'EXDEV') throw err;
    // dest is a mount point of its own (a file bind-mounted into a container, e.g. by Docker or a
    // Kubernetes subPath): rename(2) cannot replace it, and unlinking it is impossible too. Writing the
    // already checked content through the existing inode is the only way; it is not atomic, so a reader
    // may briefly see a partial file.
    logger.warn(`cannot rename over ${dest} (${code}): writing it in place`);
    await writeInPlace(dest, wanted, current);
    return false;
  }
  await fsyncDirectory(dirname(dest), logger);
  return true;
}

async function writeInPlace(
  dest: string,
  wanted: WantedState,
  current: DestState | undefined,
): Promise<void> {
  const fh = await open(dest, 'r+');
  try {
    await writeFileHandle(fh, dest, wanted);
  } catch (err) {
    // Never leave a truncated or half-written dest behind: put the previous content back if we can.
    if (current) {
      await fh
        .truncate(0)
        .then(() => fh.write(current.content, 0, current.content.length, 0))
        .then(() => fh.sync())
        .catch(() => undefined);
    }
    throw err;
  } finally {
    await fh.close().catch(() => undefined);
  }
}

/** Makes the rename itself durable: without it a crash can bring back the old directory entry. */
async function fsyncDirectory(dir: string, logger: Logger): Promise<void> {
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
 * -keep-stage-file after success: the rename consumed the stage file, so leave a copy under its name.
 * dest is already updated by now, so failing to keep the copy must not fail the sync.
 */
async function keepCopy(renamed: boolean, dest: string, stagePath: string, mode: number, logger: Logger) {
  try {
    if (renamed) {
      await copyFile(dest, stagePath, constants.COPYFILE_EXCL);
      await chmod(stagePath, mode);
    }
    logger.info(`kept stage file ${stagePath}`);
  } catch (err) {
    logger.warn(`could not keep stage file ${stagePath}: ${errorMessage(err)}`);
  }
}
