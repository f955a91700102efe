/**
 * syncFile(req, logger): makes dest hold the rendered content with the wanted mode and owner.
 *
 * Contract:
 * - in sync (content byte for byte, mode, and owner when one is requested or kept): nothing is touched,
 *   not even a timestamp; returns `in-sync`.
 * - `noop`: nothing is written (no directory, no stage file, no command); returns `would-update` with a diff.
 * - otherwise the content goes to a stage file beside dest (see stage-file.ts) that has its final owner
 *   and mode before its first byte, is written in full, fsynced and size-checked, then passes check_cmd
 *   (unless `syncOnly`) and is renamed over dest; returns `updated`, with `checkResult` when a check ran.
 * - any failure: dest is untouched, no stage file is left (except the checked one with `keepStageFile`),
 *   and it throws: the check's CommandError, or a SyncError naming dest for everything else.
 * - the one exception to "untouched": when dest is a mount point of its own (EXDEV/EBUSY on rename) the
 *   checked content is written into dest in place; if that fails the previous content is written back,
 *   and the error says so if even that failed.
 * - a guard that refuses the render: nothing is written (not even a backup); throws GuardError.
 * - with `backups`, the content dest had is kept as dest.bak.1 (older ones shift) right before the swap.
 * - reload_cmd is the caller's: it runs once per pass for all resources that share it.
 */
import { openSync } from 'node:fs';
import { mkdir, rename, rm } from '../fs-async.js';
import { dirname } from 'node:path';
import { ConfdError, errorMessage, GuardError, SyncError } from '../errors.js';
import type { GuardRules } from '../resources/template-resource.js';
import { rotateBackups } from './backups.js';
import { guardRefusal } from './guard.js';
import type { Logger } from '../logging/logger.js';
import type { DestState, WantedState } from './dest-state.js';
import { compareState, readDestState, wantedState } from './dest-state.js';
import { noopDiff } from './noop-diff.js';
import type { CommandResult } from './run-command.js';
import { runCommand } from './run-command.js';
import { stagePathFor } from './stage-file.js';
import type { WriteFn } from './write-descriptor.js';
import { closeOnce, writeDescriptor, writeOnce } from './write-descriptor.js';
import { fsyncDirectory, writeStageFile } from './write-atomically.js';

export interface SyncRequest {
  dest: string;
  /** The render (UTF-8), or exact bytes (a rollback restoring what was there). */
  content: string | Buffer;
  /** Permission bits; undefined = keep the existing dest's mode, 0644 for a new file. */
  mode?: number;
  uid?: number;
  gid?: number;
  checkCmd?: string;
  checkCmdTimeoutMs: number;
  noop: boolean;
  syncOnly: boolean;
  keepStageFile: boolean;
  /** Aborted on shutdown: a running check_cmd is stopped (its process group killed) and dest left alone. */
  signal?: AbortSignal;
  /** Refuses the render before anything is staged (see guard.ts); `missingRequired` comes from the snapshot. */
  guard?: { rules: GuardRules; missingRequired: readonly string[] };
  /** Keep this many previous versions beside dest (dest.bak.1 newest); 0 or absent: none. */
  backups?: number;
}

export type SyncOutcome =
  | { status: 'in-sync' }
  /** `previous`: what dest held before (undefined: it did not exist), for a rollback. */
  | { status: 'updated'; checkResult?: CommandResult; previous: DestState | undefined }
  /** `refusal`: the guard would refuse it (-noop shows it beside the diff). */
  | { status: 'would-update'; diff: string; refusal?: string };

/**
 * The filesystem calls that tests need to fail on purpose: EXDEV/EBUSY on rename are hard to provoke, and
 * so is a short write count.
 */
export interface SyncFsOps {
  rename(from: string, to: string): Promise<void>;
  write: WriteFn;
}

const DEFAULT_FS_OPS: SyncFsOps = { rename, write: writeOnce };

export async function syncFile(
  req: SyncRequest,
  logger: Logger,
  fsOps: Partial<SyncFsOps> = {},
): Promise<SyncOutcome> {
  const ops: SyncFsOps = { ...DEFAULT_FS_OPS, ...fsOps };
  const { dest } = req;
  const current = readDestState(dest);
  const wanted = wantedState(req, current, process.geteuid?.() === 0);
  const difference = current && compareState(current, wanted);
  if (difference && !difference.content && difference.metadata.length === 0) return { status: 'in-sync' };
  const refusal = req.guard
    ? guardRefusal(req.guard.rules, {
        rendered: wanted.content,
        currentSize: current?.content.length,
        missingRequired: req.guard.missingRequired,
      })
    : undefined;
  if (req.noop) {
    const diff = await noopDiff(dest, current, wanted, difference);
    return refusal ? { status: 'would-update', diff, refusal } : { status: 'would-update', diff };
  }
  if (refusal) throw new GuardError(dest, refusal);

  const changes = difference
    ? [...(difference.content ? ['content'] : []), ...difference.metadata]
    : ['new file'];
  logger.debug(`${dest} out of sync: ${changes.join(', ')}`);
  const stagePath = stagePathFor(dest);
  let staged = false;
  try {
    await stageNextTo(dest, stagePath, wanted, ops.write, current === undefined);
    staged = true;
    const checkResult =
      req.checkCmd && !req.syncOnly
        ? await runCommand(
            req.checkCmd,
            { src: stagePath, dest },
            req.checkCmdTimeoutMs,
            logger,
            'check',
            req.signal,
          )
        : undefined;
    if (req.backups && current) await rotateBackups(dest, current, req.backups, ops.write, logger);
    const renamed = await replaceDest(stagePath, dest, wanted, current, ops, logger);
    // A rename consumed the stage file; an in-place write left it where it was.
    staged = !renamed;
    if (req.keepStageFile) await keepStageCopy(staged, stagePath, wanted, ops.write, logger);
    else if (staged) await rm(stagePath, { force: true });
    return checkResult
      ? { status: 'updated', checkResult, previous: current }
      : { status: 'updated', previous: current };
  } catch (err) {
    if (staged && req.keepStageFile) logger.info(`kept stage file ${stagePath}`);
    else if (staged) await rm(stagePath, { force: true }).catch(() => undefined);
    if (err instanceof ConfdError) throw err;
    throw new SyncError(`cannot write ${dest}: ${errorMessage(err)}`, dest, { cause: err });
  }
}

/**
 * Writes the stage file beside dest. Dest's directory is made only when creating the stage file found it
 * missing, which only a new dest can (a dest that exists has its directory): checking first would cost
 * every new file a thread-pool round trip, 2,000 of them for a first run over 2,000 resources.
 */
async function stageNextTo(
  dest: string,
  stagePath: string,
  wanted: WantedState,
  write: WriteFn,
  isNew: boolean,
): Promise<void> {
  try {
    await writeStageFile(stagePath, wanted, write);
  } catch (err) {
    if (!isNew || (err as { cause?: NodeJS.ErrnoException }).cause?.code !== 'ENOENT') throw err;
    await ensureDirectory(dirname(dest), dest);
    await writeStageFile(stagePath, wanted, write);
  }
}

async function ensureDirectory(dir: string, dest: string): Promise<void> {
  try {
    await mkdir(dir, { recursive: true });
  } catch (err) {
    throw new SyncError(`cannot create directory ${dir} for ${dest}: ${errorMessage(err)}`, dest, {
      cause: err,
    });
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
  ops: SyncFsOps,
  logger: Logger,
): Promise<boolean> {
  try {
    await ops.rename(stagePath, dest);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'EBUSY' && code !== 'EXDEV') throw err;
    // dest is a mount point of its own (a file bind-mounted into a container, e.g. by Docker or a
    // Kubernetes subPath): rename(2) cannot replace it, and unlinking it is impossible too. Writing the
    // already checked content through the existing inode is the only way; it is not atomic, so a reader
    // may briefly see a partial file.
    logger.warn(`cannot rename over ${dest} (${code}): writing it in place`);
    await writeInPlace(dest, wanted, current, ops.write);
    return false;
  }
  await fsyncDirectory(dirname(dest), logger);
  return true;
}

/** Writes dest through its own inode; on failure writes the previous content (and mode, owner) back. */
async function writeInPlace(
  dest: string,
  wanted: WantedState,
  current: DestState | undefined,
  write: WriteFn,
): Promise<void> {
  const close = closeOnce(openSync(dest, 'r+'));
  try {
    await writeDescriptor(close.fd, wanted, write);
  } catch (err) {
    if (!current) throw err;
    const previous: WantedState = { ...current };
    // Truncating first frees the failed write's blocks, so on a full disk the old content fits again.
    const restoreError = await writeDescriptor(close.fd, previous, write).then(
      () => undefined,
      (e: unknown) => e,
    );
    if (restoreError === undefined) throw err;
    throw new Error(
      `writing in place failed (${errorMessage(err)}) and restoring the previous content failed too ` +
        `(${errorMessage(restoreError)}): ${dest} may be incomplete`,
      { cause: err },
    );
  } finally {
    try {
      close();
    } catch {
      // Everything written was fsynced, or the error above says what is missing.
    }
  }
}

/**
 * -keep-stage-file after success. After an in-place write the stage file is still there; after a rename
 * it is gone, so a new one is written under its name, the same way (owner and mode before content).
 * dest is already updated by now, so failing to keep the copy must not fail the sync.
 */
async function keepStageCopy(
  stillThere: boolean,
  stagePath: string,
  wanted: WantedState,
  write: WriteFn,
  logger: Logger,
): Promise<void> {
  try {
    if (!stillThere) await writeStageFile(stagePath, wanted, write);
    logger.info(`kept stage file ${stagePath}`);
  } catch (err) {
    logger.warn(`could not keep stage file ${stagePath}: ${errorMessage(err)}`);
  }
}
