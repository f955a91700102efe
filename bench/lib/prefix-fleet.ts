/**
 * `instances` confd -watch daemons, each in its own confdir with `resources` template resources on one
 * shared prefix (each resource its own destination, in the instance's own out/ directory): the setup of
 * the fan-out, growth and fleet scenarios. One change of a key under the prefix must reach every file.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { startConfd, Workspace, type Daemon } from './confd.js';
import { DestWatch } from './dest-watch.js';
import { DiskFloor } from './disk-floor.js';
import { median, msSince } from './stats.js';
import type { BenchStore, StoreLoad } from './stores.js';

/** Keys besides the one that changes: the snapshot of the prefix is more than one key. */
const otherKeys = 10;
/** Lets trailing requests (watch re-arms, re-reads) land before the store's counters are read. */
const settleMs = 1_000;

export interface ChangeSeries {
  /** Milliseconds from the write until every destination of every instance held the new value. */
  samples: number[];
  p50: number;
  /** Store reads (store.readsCounted) per change, all instances together. */
  readsPerChange: number;
  rearmsPerChange?: number;
  commandsPerChange?: number;
  /** Watches the store holds for the fleet (above what it held before the fleet started). */
  watches: number;
  /** With `diskFloor`: the disk floor (disk-floor.ts) for the same files, one round before each change. */
  floorSamples?: number[];
}

export interface PrefixFleet {
  daemons: Daemon[];
  command: string;
  /** Writes `changes` new values one after the other, each once the previous one reached every file. */
  changes(count: number, tag: string): Promise<ChangeSeries>;
  close(): Promise<void>;
}

export async function prefixFleet(
  store: BenchStore,
  prefix: string,
  opts: { instances: number; resources: number; counted?: boolean; diskFloor?: boolean },
): Promise<PrefixFleet> {
  const key = `${prefix}/value`;
  await store.load(
    prefix,
    Array.from({ length: otherKeys }, (_, i) => [`${prefix}/other/${i}`, `other-${i}`] as const),
  );
  await store.set(key, 'start');
  const before = await store.usage();
  const spaces: Workspace[] = [];
  const dests: DestWatch[] = [];
  const daemons: Daemon[] = [];
  const names = Array.from({ length: opts.resources }, (_, i) => `r${String(i).padStart(4, '0')}`);
  const args = [
    '-watch',
    '-interval',
    '86400',
    ...store.confdArgs(opts.counted),
    '-confdir',
    '.',
    '-config-file',
    '',
  ];
  try {
    for (let i = 0; i < opts.instances; i++) {
      const ws = await Workspace.create(`fleet-${store.name}`);
      spaces.push(ws);
      await ws.template('value.tmpl', '{{getv "/value"}}\n');
      for (const name of names) {
        await ws.resource(name, {
          src: 'value.tmpl',
          dest: ws.path('out', `${name}.conf`),
          prefix,
          keys: ['/'],
        });
      }
      dests.push(new DestWatch(ws.path('out')));
    }
    for (const ws of spaces) daemons.push(await startConfd(args, ws.root));
    const expectAll = (value: string, limitMs: number): Promise<void[]> => {
      const expected = new Map(names.map((n) => [`${n}.conf`, `${value}\n`]));
      return Promise.all(dests.map((d) => d.until(expected, limitMs)));
    };
    await expectAll('start', 120_000);
    return {
      daemons,
      command: daemons[0]?.command ?? '',
      async changes(count, tag) {
        // Beside the instances' out/ directories, so on the same filesystem.
        const floor = opts.diskFloor ? await DiskFloor.create(`${spaces[0]?.root ?? ''}-floor`) : undefined;
        const floorSamples: number[] = [];
        await sleep(settleMs);
        const start = await store.usage();
        const samples: number[] = [];
        for (let c = 0; c < count; c++) {
          const value = `${tag}-${c}`;
          if (floor) floorSamples.push(await floor.replaceFiles(opts.resources, value.length + 1));
          const seen = expectAll(value, 60_000);
          const t0 = process.hrtime.bigint();
          await store.set(key, value);
          await seen;
          samples.push(msSince(t0));
        }
        await sleep(settleMs);
        const end: StoreLoad = await store.usage();
        await floor?.remove();
        return {
          ...(floor ? { floorSamples } : {}),
          samples,
          p50: median(samples),
          readsPerChange: (end.reads - start.reads) / count,
          rearmsPerChange:
            end.rearms !== undefined && start.rearms !== undefined
              ? (end.rearms - start.rearms) / count
              : undefined,
          commandsPerChange:
            end.commands !== undefined && start.commands !== undefined
              ? (end.commands - start.commands) / count
              : undefined,
          watches: start.watches - before.watches,
        };
      },
      close: async () => {
        await Promise.all(daemons.map((d) => d.stop()));
        for (const d of dests) d.close();
        for (const ws of spaces) await ws.remove();
        await store.clear(prefix);
      },
    };
  } catch (err) {
    await Promise.all(daemons.map((d) => d.stop()));
    for (const d of dests) d.close();
    for (const ws of spaces) await ws.remove();
    throw err;
  }
}
