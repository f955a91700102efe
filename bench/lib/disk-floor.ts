/**
 * The disk's floor for the fan-out: what it costs a plain Node.js program to replace `files` small files
 * in one directory the way that can never leave a partial one (a stage file created exclusively, written,
 * fsynced and closed, renamed over its destination, then one fsync of the directory), 32 files at a time
 * as confd-ts writes them. No template, no store, no comparison: on a disk whose fsync takes a millisecond
 * this is most of what 100 files cost, so fan-out figures are only comparable as ratios to it.
 *
 * Run in the driver's own process (its thread pool idle), alternating with the changes it is the floor of,
 * so that both see the same disk in the same minutes.
 *
 * `replaceFilesAsConfd` is what Go confd 0.17 does to the disk, as a floor for confd itself: one resource
 * after the other, each an ioutil.TempFile, a write, a close, a chmod and a rename, never an fsync, all
 * of them direct system calls (Go's), so synchronous calls here, not thread-pool round trips.
 */
import { chmodSync, closeSync, openSync, renameSync, writeSync } from 'node:fs';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { msSince } from './stats.js';

export class DiskFloor {
  private round = 0;

  private constructor(private readonly dir: string) {}

  static async create(dir: string): Promise<DiskFloor> {
    await mkdir(dir, { recursive: true });
    return new DiskFloor(dir);
  }

  /** Milliseconds to replace `files` files of `bytes` bytes each, durably, 32 at a time. */
  async replaceFiles(files: number, bytes: number): Promise<number> {
    const content = Buffer.alloc(bytes, `round ${++this.round}\n`);
    let next = 0;
    const worker = async (): Promise<void> => {
      for (let i = next++; i < files; i = next++) {
        const dest = join(this.dir, `f${i}.conf`);
        const stage = `${dest}.${this.round}.stage`;
        const fh = await open(stage, 'wx', 0o644);
        await fh.write(content, 0, content.length, 0);
        await fh.sync();
        await fh.close();
        await rename(stage, dest);
      }
    };
    const t0 = process.hrtime.bigint();
    await Promise.all(Array.from({ length: Math.min(32, files) }, worker));
    const dir = await open(this.dir, 'r');
    await dir.sync();
    await dir.close();
    return msSince(t0);
  }

  /** Milliseconds to replace `files` files of `bytes` bytes each as Go confd 0.17 does (see above). */
  replaceFilesAsConfd(files: number, bytes: number): number {
    const content = Buffer.alloc(bytes, `round ${++this.round}\n`);
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < files; i++) {
      const dest = join(this.dir, `f${i}.conf`);
      const stage = `${dest}.${this.round}.stage`;
      const fd = openSync(stage, 'wx', 0o600);
      writeSync(fd, content, 0, content.length, 0);
      closeSync(fd);
      chmodSync(stage, 0o644);
      renameSync(stage, dest);
    }
    return msSince(t0);
  }

  async remove(): Promise<void> {
    await rm(this.dir, { recursive: true, force: true });
  }
}
