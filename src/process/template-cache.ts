import { stat } from 'node:fs/promises';
import type { CompiledTemplate } from '../template/compile-template.js';
import { compileTemplate } from '../template/compile-template.js';
import type { TemplateEngine } from '../template/engine.js';

/** What identifies one version of a template file: a cheap stat tells whether it changed since compiling. */
interface FileStamp {
  readonly dev: bigint;
  readonly ino: bigint;
  readonly size: bigint;
  readonly mtimeNs: bigint;
  readonly ctimeNs: bigint;
}

interface Entry {
  readonly stamp: FileStamp;
  readonly compiled: Promise<CompiledTemplate>;
}

/**
 * Templates are compiled once per version of their file (and engine): resources sharing a template share the compiled
 * form, and each get() stats the file so an edit (or a file replaced by rename) is recompiled on the next
 * use, which is what watch mode needs. Failures are never kept: a template that could not be read or
 * compiled is tried afresh on the next get, so fixing it on disk is enough.
 */
export class TemplateCache {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly compile: (
      path: string,
      engine?: TemplateEngine,
    ) => Promise<CompiledTemplate> = compileTemplate,
  ) {}

  /** The compiled template at `path` with `engine` (undefined: as engine.ts chooses). */
  async get(path: string, engine?: TemplateEngine): Promise<CompiledTemplate> {
    const key = `${engine ?? ''}\0${path}`;
    // The stamp is taken before reading, so a change racing the read shows up as a new stamp next time.
    const stamp = await fileStamp(path);
    if (stamp === undefined) {
      // Unreadable or missing: let the compiler report it, and remember nothing.
      this.entries.delete(key);
      return this.compile(path, engine);
    }
    const known = this.entries.get(key);
    if (known && sameStamp(known.stamp, stamp)) return known.compiled;
    const entry: Entry = { stamp, compiled: this.compile(path, engine) };
    this.entries.set(key, entry);
    entry.compiled.catch(() => {
      // Only forget our own failure: a newer entry may already have replaced this one.
      if (this.entries.get(key) === entry) this.entries.delete(key);
    });
    return entry.compiled;
  }
}

async function fileStamp(path: string): Promise<FileStamp | undefined> {
  try {
    const s = await stat(path, { bigint: true });
    return { dev: s.dev, ino: s.ino, size: s.size, mtimeNs: s.mtimeNs, ctimeNs: s.ctimeNs };
  } catch {
    return undefined;
  }
}

function sameStamp(a: FileStamp, b: FileStamp): boolean {
  return (
    a.dev === b.dev &&
    a.ino === b.ino &&
    a.size === b.size &&
    a.mtimeNs === b.mtimeNs &&
    a.ctimeNs === b.ctimeNs
  );
}
