import { closeSync, fchmodSync, fchownSync, fstatSync, fsync, ftruncateSync, writeSync } from 'node:fs';
import { promisify } from 'node:util';
import type { WantedState } from './dest-state.js';

/*
 * Why synchronous calls, on a descriptor, for everything but the fsync: a file-system call through the
 * promise or callback API is a round trip through libuv's thread pool (~0.1 ms each here, more when the
 * pool's four threads are busy with the fsyncs of a fan-out), and writing one file took seven of them,
 * most of the time between a store change and the renamed file. Setting owner and mode, writing a
 * rendered config into the page cache and checking its size take microseconds and never wait for the
 * disk; the fsync does, so it alone stays asynchronous (and the rename, in sync-file.ts).
 */
/** fsync(2) through the thread pool: the one call here that waits for the disk. */
export const fsyncDescriptor = promisify(fsync);

/**
 * A close for `fd` that runs close(2) once, however often it is called: a second close of a number the
 * kernel has meanwhile handed to another open (the thread pool opens files concurrently) would close
 * somebody else's file.
 */
export function closeOnce(fd: number): (() => void) & { fd: number } {
  let open = true;
  return Object.assign(
    () => {
      if (!open) return;
      open = false;
      closeSync(fd);
    },
    { fd },
  );
}

/**
 * One write(2): returns how many bytes it wrote, which may be fewer than asked (a nearly full disk does
 * that without an error). A seam so tests can return short counts on purpose.
 */
export type WriteFn = (
  fd: number,
  buffer: Buffer,
  offset: number,
  length: number,
  position: number,
) => number | Promise<number>;

export const writeOnce: WriteFn = (fd, buffer, offset, length, position) =>
  writeSync(fd, buffer, offset, length, position);

/**
 * Makes an open file hold exactly `wanted`: empties it (unless the caller created it empty), gives it its
 * final owner and mode, writes every byte, fsyncs, and checks the size on disk. Owner and mode are set
 * while the file is empty, so neither the old content (in-place writes) nor the new one is ever readable
 * with other permissions than its own; chown comes before chmod because chown clears setuid/setgid bits.
 * Throws a plain Error naming what failed; the caller adds which dest it was for.
 */
export async function writeDescriptor(
  fd: number,
  wanted: WantedState,
  write: WriteFn = writeOnce,
  { empty = false }: { empty?: boolean } = {},
): Promise<void> {
  // A file this process just created exclusively is empty already: one call less per write.
  if (!empty) ftruncateSync(fd, 0);
  applyOwnerAndMode(fd, wanted);
  await writeAll(fd, wanted.content, write);
  await fsyncDescriptor(fd);
  verifySize(fd, wanted.content.length);
}

/** Calls write until every byte is written: one short count must never leave a truncated file. */
export async function writeAll(fd: number, content: Buffer, write: WriteFn = writeOnce): Promise<void> {
  let done = 0;
  while (done < content.length) {
    const n = await write(fd, content, done, content.length - done, done);
    // A write that makes no progress and reports no error would loop for ever; the disk is full.
    if (n <= 0) throw new Error(`write stopped after ${done} of ${content.length} bytes (no space left?)`);
    done += n;
  }
}

/** The last line of defence before the swap: what the kernel says is in the file, not what we think. */
function verifySize(fd: number, expected: number): void {
  const { size } = fstatSync(fd);
  if (size !== expected) throw new Error(`file holds ${size} bytes after writing, expected ${expected}`);
}

function applyOwnerAndMode(fd: number, wanted: WantedState): void {
  if (wanted.uid === undefined && wanted.gid === undefined) {
    fchmodSync(fd, wanted.mode);
    return;
  }
  const st = fstatSync(fd);
  const uidChange = wanted.uid !== undefined && wanted.uid !== st.uid;
  const gidChange = wanted.gid !== undefined && wanted.gid !== st.gid;
  if (uidChange || gidChange) {
    try {
      fchownSync(fd, wanted.uid ?? -1, wanted.gid ?? -1);
    } catch (err) {
      const euid = process.geteuid?.() ?? 'unknown';
      throw new Error(
        `cannot set owner to uid ${wanted.uid ?? st.uid} gid ${wanted.gid ?? st.gid} ` +
          `(running as uid ${euid}; changing owners needs root): ${(err as Error).message}`,
        { cause: err },
      );
    }
  }
  fchmodSync(fd, wanted.mode);
}
