import { readFile, stat } from 'node:fs/promises';
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

/** dest's current state, undefined when it does not exist. */
export async function readDestState(dest: string): Promise<DestState | undefined> {
  try {
    const st = await stat(dest);
    if (!st.isFile()) throw new SyncError(`${dest} exists and is not a regular file`, dest);
    return { content: await readFile(dest), mode: st.mode & 0o7777, uid: st.uid, gid: st.gid };
  } catch (err) {
    if (err instanceof SyncError) throw err;
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new SyncError(`cannot read ${dest}: ${(err as Error).message}`, dest, { cause: err });
  }
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
