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
 * `{ durable: false, concurrency: 1 }` is what Go confd 0.17 does to the disk: one resource after the
 * other, each an ioutil.TempFile, a write, a close and a rename, never an fsync; a floor for confd itself.
 */
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

  /** Milliseconds to replace `files` files of `bytes` bytes each, durably unless `durable` is false. */
  async replaceFiles(
    files: number,
    bytes: number,
    { durable = true, concurrency = 32 } = {},
  ): Promise<number> {
    const content = Buffer.alloc(bytes, `round ${++this.round}\n`);
    let next = 0;
    const worker = async (): Promise<void> => {
      for (let i = next++; i < files; i = next++) {
        const dest = join(this.dir, `f${i}.conf`);
        const stage = `${dest}.${this.round}.stage`;
        const fh = await open(stage, 'wx', 0o644);
        await fh.write(content, 0, content.length, 0);
        if (durable) await fh.sync();
        await fh.close();
        await rename(stage, dest);
      }
    };
    const t0 = process.hrtime.bigint();
    await Promise.all(Array.from({ length: Math.min(concurrency, files) }, worker));
    if (durable) {
      const dir = await open(this.dir, 'r');
      await dir.sync();
      await dir.close();
    }
    return msSince(t0);
  }

  async remove(): Promise<void> {
    await rm(this.dir, { recursive: true, force: true });
  }
}
