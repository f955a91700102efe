import type { FileHandle } from 'node:fs/promises';
import { SyncError } from '../errors.js';
import type { WantedState } from './dest-state.js';

/**
 * Gives an open file its final owner and mode, then its content, then fsyncs it. Owner and mode come
 * first so the content is never readable with looser permissions than intended; chown comes before
 * chmod because chown clears setuid/setgid bits.
 */
export async function writeFileHandle(fh: FileHandle, path: string, wanted: WantedState): Promise<void> {
  await applyOwnerAndMode(fh, path, wanted);
  await fh.truncate(0);
  await fh.write(wanted.content, 0, wanted.content.length, 0);
  await fh.sync();
}

export async function applyOwnerAndMode(fh: FileHandle, path: string, wanted: WantedState): Promise<void> {
  const st = await fh.stat();
  const uidChange = wanted.uid !== undefined && wanted.uid !== st.uid;
  const gidChange = wanted.gid !== undefined && wanted.gid !== st.gid;
  if (uidChange || gidChange) {
    try {
      await fh.chown(wanted.uid ?? -1, wanted.gid ?? -1);
    } catch (err) {
      const euid = process.geteuid?.() ?? 'unknown';
      throw new SyncError(
        `cannot set owner of ${path} to uid ${wanted.uid ?? st.uid} gid ${wanted.gid ?? st.gid} ` +
          `(running as uid ${euid}; changing owners needs root): ${(err as Error).message}`,
        path,
        { cause: err },
      );
    }
  }
  await fh.chmod(wanted.mode);
}
