/**
 * One `confd -watch` daemon with one resource on one key, and a DestWatch on its destination directory:
 * the setup of the watch-latency and burst scenarios.
 */
import { startConfd, Workspace, type Daemon } from './confd.js';
import { DestWatch } from './dest-watch.js';
import type { BenchStore } from './stores.js';

export interface SingleKeyWatch {
  daemon: Daemon;
  key: string;
  /** Resolves once the destination holds `value` (rendered as `value\n`). */
  holds(value: string, limitMs?: number): Promise<void>;
  close(): Promise<void>;
}

export async function singleKeyWatch(store: BenchStore, prefix: string): Promise<SingleKeyWatch> {
  const key = `${prefix}/key`;
  await store.set(key, 'start');
  const ws = await Workspace.create(`watch-${store.name}`);
  await ws.template('one.tmpl', '{{getv "/key"}}\n');
  await ws.resource('one', { src: 'one.tmpl', dest: ws.path('out/one.conf'), prefix, keys: ['/key'] });
  const dest = new DestWatch(ws.path('out'));
  // The periodic resync is effectively off: only the watch carries a change to the file.
  const daemon = await startConfd(
    ['-watch', '-interval', '86400', ...store.confdArgs(), '-confdir', '.', '-config-file', ''],
    ws.root,
  );
  const holds = (value: string, limitMs = 30_000): Promise<void> =>
    dest.until(new Map([['one.conf', `${value}\n`]]), limitMs);
  try {
    await holds('start', 60_000);
  } catch (err) {
    await daemon.stop();
    dest.close();
    throw err;
  }
  return {
    daemon,
    key,
    holds,
    async close() {
      await daemon.stop();
      dest.close();
      await ws.remove();
      await store.clear(prefix);
    },
  };
}
