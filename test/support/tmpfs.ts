import { execFile } from 'node:child_process';
import { mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * A small tmpfs mounted for one test suite: a filesystem that really runs out of space or goes read-only.
 * Needs root; a suite that uses it must fail, not skip, without it (requireRoot).
 */
export class Tmpfs {
  private constructor(readonly dir: string) {}

  static async mount(size: string): Promise<Tmpfs> {
    requireRoot('mounting a tmpfs');
    const dir = await mkdtemp(join(tmpdir(), 'confd-tmpfs-'));
    await run('mount', ['-t', 'tmpfs', '-o', `size=${size},mode=0755`, 'tmpfs', dir]);
    return new Tmpfs(dir);
  }

  path(name: string): string {
    return join(this.dir, name);
  }

  async remount(mode: 'ro' | 'rw'): Promise<void> {
    await run('mount', ['-o', `remount,${mode}`, this.dir]);
  }

  /**
   * Fills the filesystem with `name` until a write fails for lack of space, then gives back `leaveFree`
   * bytes (rounded down to whole pages). Returns the filler's final size.
   */
  async fill(name: string, leaveFree = 0): Promise<number> {
    const fh = await open(this.path(name), 'w');
    const chunk = Buffer.alloc(4096, 0x5a);
    let size = 0;
    try {
      for (;;) {
        const { bytesWritten } = await fh.write(chunk, 0, chunk.length, size);
        size += bytesWritten;
        if (bytesWritten < chunk.length) break;
      }
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
    }
    const page = 4096;
    const kept = Math.max(0, Math.floor((size - leaveFree) / page) * page);
    await fh.truncate(kept);
    await fh.close();
    return kept;
  }

  async unmount(): Promise<void> {
    await run('umount', [this.dir]).catch(() => run('umount', ['-l', this.dir]));
    await rm(this.dir, { recursive: true, force: true });
  }
}

export function requireRoot(what: string): void {
  if (process.geteuid?.() !== 0) {
    throw new Error(
      `${what} needs root (these tests mount filesystems); run them as root, as the CI machines do. ` +
        `Not skipping: a missing fault test must show as a failure.`,
    );
  }
}
