/**
 * Many resources: `confd -onetime` over 2,000 small resources with the file backend, each its own prefix,
 * template and destination. First run: no destination exists, all are written; second run: all in sync.
 *
 * The first run's floors, measured just before each run (lib/disk-floor.ts): the same 2,000 files created
 * durably in an empty directory by a plain script, and the same files created the way Go confd 0.17 does
 * (one after the other, synchronous system calls, no fsync): confd's own floor on this disk. Creating a
 * file here costs anything from 0.03 to 1 ms from one minute to the next, so the written figure is only
 * comparable as a ratio to them.
 * Every timed phase starts on a flushed disk (`sync`), so that none pays for the writes of the one before.
 *
 * Nothing is deleted until every round is done: each phase of each round writes into a directory of its
 * own (confd's `out` is a symlink to the round's). On ext4 without a journal (this VM's disk) the inode
 * allocator passes over every inode freed in the last 60 s (`recently_deleted` in fs/ext4/ialloc.c), one
 * buffer-cache lookup each, for every file it creates; confd's run used to follow the deletion of the
 * previous round's 2,000 files and so paid ~0.5 ms of kernel time per file that the floors did not
 * (`perf record`: 50% of the run in `recently_deleted` and the lookups under it).
 */
import { execFileSync } from 'node:child_process';
import { mkdir, rm, symlink, writeFile } from 'node:fs/promises';
import { commandLine, confdBin, timedRun, Workspace } from '../lib/confd.js';
import { DiskFloor } from '../lib/disk-floor.js';
import { emit, progress } from '../lib/record.js';
import { runs, type BenchOptions, type Scenario } from '../lib/scenario.js';
import { median, quantile, round } from '../lib/stats.js';

const resources = 2_000;

async function run(options: BenchOptions): Promise<void> {
  const n = runs(options, 5, 1);
  const ws = await Workspace.create('many');
  try {
    const names = Array.from({ length: resources }, (_, i) => `app${String(i).padStart(4, '0')}`);
    const data = names.map((name, i) => `  ${name}:\n    name: ${name}\n    port: "${8000 + i}"\n`).join('');
    await writeFile(ws.path('data.yaml'), `apps:\n${data}`);
    await ws.template('app.tmpl', 'name={{getv "/name"}} port={{getv "/port"}}\n');
    for (const name of names) {
      await ws.resource(name, {
        src: 'app.tmpl',
        dest: ws.path('out', `${name}.conf`),
        prefix: `/apps/${name}`,
        keys: ['/name', '/port'],
      });
    }
    const args = ['-onetime', '-backend', 'file', '-file', 'data.yaml', '-confdir', '.', '-config-file', ''];
    progress(`many-resources: ${resources} resources, ${n} runs of each`);
    const written: number[] = [];
    const inSync: number[] = [];
    const rss: number[] = [];
    const floor: number[] = [];
    const confdFloor: number[] = [];
    const bytes = 'name=app0000 port=8000\n'.length;
    const flushed = (): void => void execFileSync('sync');
    for (let i = 0; i < n; i++) {
      for (const [name, times, replace] of [
        ['floor', floor, (disk: DiskFloor) => disk.replaceFiles(resources, bytes)],
        ['confd-floor', confdFloor, (disk: DiskFloor) => disk.replaceFilesAsConfd(resources, bytes)],
      ] as const) {
        const disk = await DiskFloor.create(ws.path(`${name}-${i}`));
        flushed();
        times.push(await replace(disk));
      }
      await mkdir(ws.path(`out-${i}`));
      // The link of the previous round (rm removes a link, never what it points to), or none.
      await rm(ws.path('out'), { recursive: true, force: true });
      await symlink(`out-${i}`, ws.path('out'));
      flushed();
      const first = await timedRun(confdBin, args, ws.root);
      flushed();
      const second = await timedRun(confdBin, args, ws.root);
      written.push(first.ms);
      inSync.push(second.ms);
      rss.push(first.rssMiB, second.rssMiB);
    }
    for (const [phase, times] of [
      ['all-updated', written],
      ['all-in-sync', inSync],
    ] as const) {
      emit({
        scenario: 'many-resources',
        phase,
        resources,
        command: commandLine(confdBin, args),
        median_s: round(median(times) / 1000, 2),
        p90_s: round(quantile(times, 0.9) / 1000, 2),
        per_resource_ms: round(median(times) / resources, 2),
        ...(phase === 'all-updated'
          ? {
              floor_median_s: round(median(floor) / 1000, 2),
              floor: `the same ${resources} files created by a plain node script (stage, fsync, rename; 32 at a time; one directory fsync)`,
              ratio: round(median(times) / median(floor), 2),
              confd_floor_median_s: round(median(confdFloor) / 1000, 2),
              confd_floor: `the same ${resources} files created the way confd 0.17 does (one at a time, direct system calls: stage, write, close, chmod, rename; no fsync)`,
              confd_floor_ratio: round(median(times) / median(confdFloor), 2),
            }
          : {}),
        rss_mib: round(Math.max(...rss)),
        runs: n,
      });
    }
  } finally {
    await ws.remove();
  }
}

export const manyResources: Scenario = {
  name: 'many-resources',
  summary: 'confd -onetime over 2,000 small file-backend resources: all updated, then all in sync',
  run,
};
