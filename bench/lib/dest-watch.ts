/**
 * Waits for destination files to hold given contents, woken by fs.watch on their directory (confd renames
 * a staged file onto each destination, which the directory watch reports by name) instead of polling.
 */
import { watch, readFileSync, type FSWatcher } from 'node:fs';
import { join } from 'node:path';

export class DestWatch {
  private readonly watcher: FSWatcher;
  private pending = new Map<string, string>();
  private done: (() => void) | undefined;

  constructor(private readonly dir: string) {
    this.watcher = watch(dir, (_event, name) => {
      if (name !== null) this.check(name);
    });
  }

  /**
   * Resolves once every file of `expected` (name in the directory → content) holds its content; rejects
   * after `limitMs` naming how many are still different (a liveness bound, not part of any figure).
   */
  until(expected: ReadonlyMap<string, string>, limitMs = 30_000): Promise<void> {
    this.pending = new Map(expected);
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        // A last look at every file, in case an event was coalesced away.
        for (const name of [...this.pending.keys()]) this.check(name);
        if (this.pending.size === 0) return;
        this.done = undefined;
        reject(
          new Error(
            `${this.pending.size} of ${expected.size} files in ${this.dir} not updated in ${limitMs} ms`,
          ),
        );
      }, limitMs);
      this.done = () => {
        clearTimeout(timer);
        this.done = undefined;
        resolve();
      };
      for (const name of [...this.pending.keys()]) this.check(name);
    });
  }

  private check(name: string): void {
    const want = this.pending.get(name);
    if (want === undefined) return;
    let have: string | undefined;
    try {
      have = readFileSync(join(this.dir, name), 'utf8');
    } catch {
      return;
    }
    if (have !== want) return;
    this.pending.delete(name);
    if (this.pending.size === 0) this.done?.();
  }

  close(): void {
    this.watcher.close();
  }
}
