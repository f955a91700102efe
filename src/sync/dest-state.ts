import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { SyncError } from '../errors.js';
import { formatFileMode as octal } from '../resources/file-mode.js';

/** What is on disk at dest now, as far as syncing cares. */
export interface DestState {
  content: Buffer;
  mode: number;
  uid: number;
  gid: number;
}

/** The file we want at dest. uid/gid undefined = whatever the writer's process gives it. */
export interface WantedState {
  content: Buffer;
  mode: number;
  uid?: number;
  gid?: number;
}

const NEW_FILE_MODE = 0o644;

/**
 * dest's current state, undefined when it does not exist. Synchronous, as the writes are (see
 * write-descriptor.ts): reading a config file from the page cache takes microseconds, each asynchronous
 * call a round trip through the thread pool. One descriptor for fstat and the reads: they see one file,
 * where stat then readFile could see two.
 */
export function readDestState(dest: string): DestState | undefined {
  let fd: number;
  try {
    // O_NONBLOCK: a FIFO at dest must not hang the read (it is refused below as not a regular file).
    fd = openSync(dest, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new SyncError(`cannot read ${dest}: ${(err as Error).message}`, dest, { cause: err });
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new SyncError(`${dest} exists and is not a regular file`, dest);
    return { content: readAll(fd, st.size), mode: st.mode & 0o7777, uid: st.uid, gid: st.gid };
  } catch (err) {
    if (err instanceof SyncError) throw err;
    throw new SyncError(`cannot read ${dest}: ${(err as Error).message}`, dest, { cause: err });
  } finally {
    try {
      closeSync(fd);
    } catch {
      // A read-only descriptor has nothing to flush: a failed close loses nothing.
    }
  }
}

/** The whole file: `size` bytes as fstat saw them, and more if it grew meanwhile (read until end of file). */
function readAll(fd: number, size: number): Buffer {
  // One byte more than expected: a short read is the end of the file, so a file that did not grow is
  // read in one call.
  let buffer = Buffer.allocUnsafe(size + 1);
  let length = 0;
  for (;;) {
    if (length === buffer.length) {
      const bigger = Buffer.allocUnsafe(buffer.length * 2);
      buffer.copy(bigger, 0, 0, length);
      buffer = bigger;
    }
    const bytesRead = readSync(fd, buffer, length, buffer.length - length, length);
    if (bytesRead === 0) break;
    length += bytesRead;
    if (length < buffer.length && length >= size) break;
  }
  return buffer.subarray(0, length);
}

/**
 * The requested state filled in from the current file: no mode means keep dest's mode (0644 for a new
 * file). No uid/gid means keep dest's owner, which only root can do for someone else's file; otherwise the
 * rename would silently hand the file to whoever runs confd.
 */
export function wantedState(
  req: { content: string | Buffer; mode?: number; uid?: number; gid?: number },
  current: DestState | undefined,
  isRoot: boolean,
): WantedState {
  const wanted: WantedState = {
    content: typeof req.content === 'string' ? Buffer.from(req.content, 'utf8') : req.content,
    mode: req.mode ?? current?.mode ?? NEW_FILE_MODE,
  };
  const uid = req.uid ?? (isRoot ? current?.uid : undefined);
  const gid = req.gid ?? (isRoot ? current?.gid : undefined);
  if (uid !== undefined) wanted.uid = uid;
  if (gid !== undefined) wanted.gid = gid;
  return wanted;
}

export interface StateDifference {
  content: boolean;
  /** Human-readable metadata changes, e.g. "mode 0600 -> 0644". */
  metadata: string[];
}

/** How `current` differs from `wanted`; owner fields count only when wanted names them. */
export function compareState(current: DestState, wanted: WantedState): StateDifference {
  const metadata: string[] = [];
  if (current.mode !== wanted.mode) metadata.push(`mode ${octal(current.mode)} -> ${octal(wanted.mode)}`);
  if (wanted.uid !== undefined && current.uid !== wanted.uid)
    metadata.push(`uid ${current.uid} -> ${wanted.uid}`);
  if (wanted.gid !== undefined && current.gid !== wanted.gid)
    metadata.push(`gid ${current.gid} -> ${wanted.gid}`);
  return { content: !current.content.equals(wanted.content), metadata };
}
