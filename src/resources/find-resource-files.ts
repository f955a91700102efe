import { statSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigError } from '../errors.js';

/**
 * Every `*.toml` under `dir`, recursively, as absolute paths sorted by their path relative to `dir` so the
 * processing order is stable across runs and machines. Symlinked files count; a directory named x.toml does not.
 */
export async function findResourceFiles(dir: string): Promise<string[]> {
  let entries: string[];
  try {
    entries = await readdir(dir, { recursive: true });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const reason =
      code === 'ENOENT'
        ? 'does not exist'
        : code === 'ENOTDIR'
          ? 'is not a directory'
          : `cannot be read (${code})`;
    throw new ConfigError(`template resource directory ${dir} ${reason}`, dir, undefined, undefined, {
      cause: err,
    });
  }
  const tomls = entries.filter((rel) => rel.endsWith('.toml')).sort();
  const files: string[] = [];
  for (const rel of tomls) {
    const path = join(dir, rel);
    // A dangling symlink is kept so that loading reports it as that resource's failure. Synchronous, as
    // loading is (see load-resources.ts): one stat per file, microseconds each.
    if (!isDirectory(path)) files.push(path);
  }
  return files;
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}
