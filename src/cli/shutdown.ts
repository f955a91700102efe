import { constants } from 'node:os';
import type { Logger } from '../logging/logger.js';

/**
 * Signals, as the process sees them. SIGTERM/SIGINT (and SIGHUP in -onetime) stop the run: `stop` aborts
 * at once (no new work is started), and after `timeoutMs` (-shutdown-timeout) `kill` aborts too, cutting
 * short whatever is still running: check and reload commands are killed with their whole process group,
 * and their stage files are removed by the sync step as it unwinds. A second signal aborts `kill` at once.
 * In a daemon, SIGHUP asks for a reload instead.
 */
export class Shutdown {
  readonly stop = new AbortController();
  readonly kill = new AbortController();
  /** The signal that stopped the run, if one did. */
  signal: NodeJS.Signals | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly handlers = new Map<NodeJS.Signals, () => void>();

  constructor(
    private readonly logger: Logger,
    private readonly timeoutMs: number,
  ) {}

  /** `onReload` present: SIGHUP reloads. Absent (-onetime): SIGHUP stops the run like SIGTERM. */
  install(onReload?: () => void): void {
    const stopping: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', ...(onReload ? [] : (['SIGHUP'] as const))];
    for (const name of stopping) this.handle(name, () => this.received(name));
    if (onReload)
      this.handle('SIGHUP', () => {
        if (this.stop.signal.aborted) return;
        this.logger.info('SIGHUP received: reloading the configuration');
        onReload();
      });
  }

  uninstall(): void {
    for (const [name, handler] of this.handlers) process.off(name, handler);
    this.handlers.clear();
    clearTimeout(this.timer);
  }

  /** The exit code a process killed by the signal would have had (128 + its number). */
  exitCode(): number {
    return this.signal ? 128 + constants.signals[this.signal] : 0;
  }

  private handle(name: NodeJS.Signals, handler: () => void): void {
    this.handlers.set(name, handler);
    process.on(name, handler);
  }

  private received(name: NodeJS.Signals): void {
    if (this.stop.signal.aborted) {
      if (this.kill.signal.aborted) return;
      this.logger.warn(`${name} again: cutting the work in flight short`);
      this.kill.abort();
      return;
    }
    this.signal = name;
    this.logger.info(
      `${name} received: finishing the work in flight (allowing ${this.timeoutMs / 1000}s for a graceful shutdown), then exiting`,
    );
    this.stop.abort();
    this.timer = setTimeout(() => {
      this.logger.warn(
        `shutdown timeout (${this.timeoutMs / 1000}s) reached: cutting the work in flight short`,
      );
      this.kill.abort();
    }, this.timeoutMs);
    // The timer must not be what keeps a finished process alive.
    this.timer.unref();
  }
}
