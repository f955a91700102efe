import { lstat, readdir, unlink } from '../fs-async.js';
import { basename, dirname, join } from 'node:path';
import { errorMessage } from '../errors.js';
import type { Logger } from '../logging/logger.js';

/**
 * Stage files are named `.<dest basename>.<12 hex digits>.confd-stage` and live beside dest: the same
 * directory keeps the final rename on one filesystem; the leading dot and the suffix keep globs like
 * conf.d/*.conf in the consuming program from ever picking one up; the exact shape lets a later run
 * recognise the ones a killed run left behind without touching anything else.
 */
const STAGE_SUFFIX = '.confd-stage';
const RANDOM_BYTES = 6;

export function stagePathFor(dest: string): string {
  const random = randomHex();
  return join(dirname(dest), `.${basename(dest)}.${random}${STAGE_SUFFIX}`);
}

/**
 * RANDOM_BYTES random bytes in hex. The stage file is created exclusively (O_CREAT|O_EXCL, which also
 * refuses a symlink in its place), so its name only has to be unlikely to collide, not unguessable: Go's
 * os.CreateTemp names its files the same way. Math.random, not node:crypto, whose load alone (~4 ms) was
 * a visible part of a onetime run.
 */
function randomHex(): string {
  let hex = '';
  for (let i = 0; i < RANDOM_BYTES; i++) {
    hex += Math.floor(Math.random() * 256)
      .toString(16)
      .padStart(2, '0');
  }
  return hex;
}

/** Whether `name` (a directory entry) is one of this tool's stage files for a dest named `destBase`. */
export function isStageFileName(name: string, destBase: string): boolean {
  return stageFileDest(name) === destBase;
}

/** The dest basename `name` is a stage file for, or undefined when it is not named like one. */
function stageFileDest(name: string): string | undefined {
  const randomStart = name.length - STAGE_SUFFIX.length - RANDOM_BYTES * 2;
  // A dot, the basename, a dot, then the random hex digits and the suffix.
  if (!name.startsWith('.') || !name.endsWith(STAGE_SUFFIX) || randomStart < 2) return undefined;
  if (name[randomStart - 1] !== '.') return undefined;
  const random = name.slice(randomStart, name.length - STAGE_SUFFIX.length);
  if (!/^[0-9a-f]+$/.test(random)) return undefined;
  return name.slice(1, randomStart - 1);
}

/**
 * Removes the stage files a killed run left beside these dests, and nothing else: only names of exactly
 * the stage shape for one of the dests' basenames, and only regular files or symlinks (a symlink is
 * removed itself, never what it points to). Directories and other look-alikes are left alone. Each
 * removal is logged at info. Run it at start, before any sync: a stage file of a sync in progress (another
 * confd writing the same dest) would otherwise be pulled from under it. A failure is logged and skipped;
 * stale stage files are litter, not a reason to refuse to start. Returns the paths removed.
 */
export async function removeStaleStageFiles(dests: readonly string[], logger: Logger): Promise<string[]> {
  const basesByDir = new Map<string, Set<string>>();
  for (const dest of dests) {
    const dir = dirname(dest);
    const bases = basesByDir.get(dir) ?? new Set<string>();
    bases.add(basename(dest));
    basesByDir.set(dir, bases);
  }
  const removed: string[] = [];
  for (const [dir, bases] of basesByDir) {
    for (const name of await listDirectory(dir, logger)) {
      // One lookup per entry: a directory of 2,000 dests must not cost 2,000 name tests per entry.
      const dest = stageFileDest(name);
      if (dest === undefined || !bases.has(dest)) continue;
      const path = join(dir, name);
      if (await removeIfFileOrLink(path, logger)) removed.push(path);
    }
  }
  return removed;
}

async function listDirectory(dir: string, logger: Logger): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch (err) {
    // A dest whose directory does not exist yet has no stage files either.
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
      logger.warn(`cannot look for stale stage files in ${dir}: ${errorMessage(err)}`);
    }
    return [];
  }
}

async function removeIfFileOrLink(path: string, logger: Logger): Promise<boolean> {
  try {
    const st = await lstat(path);
    if (!st.isFile() && !st.isSymbolicLink()) {
      logger.debug(`not removing ${path}: named like a stage file but not a regular file`);
      return false;
    }
    await unlink(path);
    logger.info(`removed stale stage file ${path} (left by an interrupted run)`);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    logger.warn(`cannot remove stale stage file ${path}: ${errorMessage(err)}`);
    return false;
  }
}
