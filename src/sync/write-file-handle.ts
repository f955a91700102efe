import { fchmodSync, fchownSync, fstatSync } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import type { WantedState } from './dest-state.js';

/**
 * One write(2): returns how many bytes it wrote, which may be fewer than asked (a nearly full disk does
 * that without an error). A seam so tests can return short counts on purpose.
 */
export type WriteFn = (
  fh: FileHandle,
  buffer: Buffer,
  offset: number,
  length: number,
  position: number,
) => Promise<number>;

export const writeOnce: WriteFn = async (fh, buffer, offset, length, position) =>
  (await fh.write(buffer, offset, length, position)).bytesWritten;

/**
 * Makes an open file hold exactly `wanted`: empties it (unless the caller created it empty), gives it its final owner and mode, writes every
 * byte, fsyncs, and checks the size on disk. Owner and mode are set while the file is empty, so neither
 * the old content (in-place writes) nor the new one is ever readable with other permissions than its own;
 * chown comes before chmod because chown clears setuid/setgid bits. Throws a plain Error naming what
 * failed; the caller adds which dest it was for.
 */
export async function writeFileHandle(
  fh: FileHandle,
  wanted: WantedState,
  write: WriteFn = writeOnce,
  { empty = false }: { empty?: boolean } = {},
): Promise<void> {
  // A file this process just created exclusively is empty already: one call less per write.
  if (!empty) await fh.truncate(0);
  applyOwnerAndMode(fh, wanted);
  await writeAll(fh, wanted.content, write);
  await fh.sync();
  verifySize(fh, wanted.content.length);
}

/** Calls write until every byte is written: one short count must never leave a truncated file. */
export async function writeAll(fh: FileHandle, content: Buffer, write: WriteFn = writeOnce): Promise<void> {
  let done = 0;
  while (done < content.length) {
    const n = await write(fh, content, done, content.length - done, done);
    // A write that makes no progress and reports no error would loop for ever; the disk is full.
    if (n <= 0) throw new Error(`write stopped after ${done} of ${content.length} bytes (no space left?)`);
    done += n;
  }
}

/*
 * Owner, mode and size are set and read on the open descriptor synchronously: they change or read the
 * inode only, never wait for the disk, and take microseconds, where each asynchronous call is a round
 * trip through libuv's four threads that a fan-out to 100 files fills with fsyncs. Opening, writing,
 * fsyncing and renaming, which can wait on the disk, stay asynchronous.
 */

/** The last line of defence before the swap: what the kernel says is in the file, not what we think. */
function verifySize(fh: FileHandle, expected: number): void {
  const { size } = fstatSync(fh.fd);
  if (size !== expected) throw new Error(`file holds ${size} bytes after writing, expected ${expected}`);
}

function applyOwnerAndMode(fh: FileHandle, wanted: WantedState): void {
  if (wanted.uid === undefined && wanted.gid === undefined) {
    fchmodSync(fh.fd, wanted.mode);
    return;
  }
  const st = fstatSync(fh.fd);
  const uidChange = wanted.uid !== undefined && wanted.uid !== st.uid;
  const gidChange = wanted.gid !== undefined && wanted.gid !== st.gid;
  if (uidChange || gidChange) {
    try {
      fchownSync(fh.fd, wanted.uid ?? -1, wanted.gid ?? -1);
    } catch (err) {
      const euid = process.geteuid?.() ?? 'unknown';
      throw new Error(
        `cannot set owner to uid ${wanted.uid ?? st.uid} gid ${wanted.gid ?? st.gid} ` +
          `(running as uid ${euid}; changing owners needs root): ${(err as Error).message}`,
        { cause: err },
      );
    }
  }
  fchmodSync(fh.fd, wanted.mode);
}
