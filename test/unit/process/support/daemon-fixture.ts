import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { StoreClient } from '../../../../src/backends/store-client.js';
import type { WaitWindow } from '../../../../src/config/wait-window.js';
import { EventBus } from '../../../../src/events/event-bus.js';
import { Daemon, type DaemonOptions } from '../../../../src/process/daemon.js';
import { pacerOf, type RetryPolicy } from '../../../../src/retry-policy.js';
import { RecordingLogger } from '../../../support/loggers.js';
import { EventRecorder } from './event-recorder.js';
import { FakeClock } from './fake-clock.js';
import { FakeStore } from './fake-store.js';

/** A retry policy with fixed delays: `delays[i]` for attempt i, the last one repeating. */
export function fixedRetryPolicy(delays: readonly number[]): RetryPolicy {
  interface Step {
    duration: number;
    next(): Step;
  }
  const at = (i: number): Step => ({
    duration: delays[Math.min(i, delays.length - 1)] ?? 0,
    next: () => at(i + 1),
  });
  return { pacer: () => pacerOf(() => at(0)) };
}

/** The template every fixture resource uses: each key it can see, `key=value` per line. */
const LIST_TEMPLATE = '{{#each (gets "/*")}}{{Key}}={{Value}}\n{{/each}}';

export interface ResourceSpec {
  prefix?: string;
  keys: string[];
  /** Extra TOML lines in [template]. */
  extra?: string;
  template?: string;
}

/**
 * A real conf.d and templates/ in a temp dir, a fake store and clock, and a Daemon over them, with every
 * event recorded. Destinations are files in the temp dir, so tests read what was really written.
 */
export class DaemonFixture {
  readonly store = new FakeStore();
  readonly clock = new FakeClock();
  readonly logger = new RecordingLogger();
  readonly bus = new EventBus((err) => {
    throw err;
  });
  readonly events = new EventRecorder(this.bus);
  readonly stop = new AbortController();
  daemon: Daemon | undefined;
  private running: Promise<void> | undefined;

  private constructor(readonly dir: string) {}

  static async create(): Promise<DaemonFixture> {
    const dir = await mkdtemp(join(tmpdir(), 'confd-daemon-'));
    await mkdir(join(dir, 'conf.d'));
    await mkdir(join(dir, 'templates'));
    await mkdir(join(dir, 'out'));
    return new DaemonFixture(dir);
  }

  dest(name: string): string {
    return join(this.dir, 'out', name);
  }

  id(name: string): string {
    return join(this.dir, 'conf.d', `${name}.toml`);
  }

  async resource(name: string, spec: ResourceSpec): Promise<void> {
    const template = `${name}.hbs`;
    await writeFile(join(this.dir, 'templates', template), spec.template ?? LIST_TEMPLATE);
    const lines = [
      '[template]',
      `src = "${template}"`,
      `dest = "${this.dest(name)}"`,
      ...(spec.prefix ? [`prefix = "${spec.prefix}"`] : []),
      `keys = [${spec.keys.map((k) => JSON.stringify(k)).join(', ')}]`,
      ...(spec.extra ? [spec.extra] : []),
    ];
    await writeFile(this.id(name), `${lines.join('\n')}\n`);
  }

  async removeResource(name: string): Promise<void> {
    await rm(this.id(name));
  }

  async read(name: string): Promise<string | undefined> {
    return readFile(this.dest(name), 'utf8').catch(() => undefined);
  }

  start(options: Partial<DaemonOptions> & { wait?: WaitWindow } = {}): Daemon {
    const daemon = new Daemon({
      mode: 'watch',
      confdir: this.dir,
      prefix: '',
      intervalMs: 600_000,
      modes: { noop: false, syncOnly: false, keepStageFile: false },
      store: this.store as StoreClient,
      logger: this.logger,
      events: this.bus,
      policy: fixedRetryPolicy([100, 200, 400]),
      clock: this.clock,
      watchConfigFiles: false,
      probeIntervalMs: 0,
      ...options,
    });
    this.daemon = daemon;
    this.running = daemon.run(this.stop.signal);
    return daemon;
  }

  /** Resolves once the first batch ended. */
  async started(): Promise<void> {
    await this.events.batches(0);
  }

  /** Stops the daemon and waits until it returned. */
  async halt(): Promise<void> {
    this.stop.abort();
    await this.running;
  }

  async close(): Promise<void> {
    await this.halt();
    await rm(this.dir, { recursive: true, force: true });
  }
}
