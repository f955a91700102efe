import { readFile } from 'node:fs/promises';
import { eventually } from './async.js';

/**
 * Gone: kill(pid, 0) finds no such process, or only a zombie that nobody has reaped yet (in containers
 * PID 1 may never reap orphans, and a zombie runs nothing).
 */
export async function isGone(pid: number): Promise<boolean> {
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return true;
    throw err;
  }
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] === 'Z';
  } catch {
    return true;
  }
}

/** Waits until every one of `pids` is gone (a kill is delivered asynchronously). */
export async function allGone(pids: readonly number[], what: string): Promise<void> {
  await eventually(async () => (await Promise.all(pids.map(isGone))).every(Boolean), what, 10_000);
}

/** The pids a test command wrote to `file`, one per line: the way a shell tells the test about its children. */
export async function readPids(file: string): Promise<number[]> {
  const text = await readFile(file, 'utf8');
  const pids = text.split(/\s+/).filter(Boolean).map(Number);
  if (pids.length === 0 || pids.some((pid) => !Number.isInteger(pid) || pid <= 0)) {
    throw new Error(`no pids in ${file}: ${JSON.stringify(text)}`);
  }
  return pids;
}

/** SIGKILLs whatever of `pids` is still there: cleanup after a test that failed to. */
export function killAll(pids: readonly number[]): void {
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}
