import { readdir, stat } from '../fs-async.js';
import { join } from 'node:path';
import { BackendError, errorMessage } from '../errors.js';

type NameMatcher = (name: string) => boolean;

/**
 * The data files behind `-file` arguments, in the order confd reads them: each argument in turn; a file as
 * is; a directory walked recursively in lexical order, keeping files whose NAME matches `filter`. As in
 * confd, links to files are read through, and a link to a directory inside a walked tree is not followed.
 * Paths stay as the user gave them (not resolved) so that errors name what the user wrote.
 */
export async function listDataFiles(paths: readonly string[], filter: string): Promise<string[]> {
  let matcher: NameMatcher | undefined;
  const files: string[] = [];
  for (const path of paths) {
    if (!(await isDirectory(path))) {
      files.push(path);
      continue;
    }
    matcher ??= await nameMatcher(filter);
    await walk(path, matcher, files);
  }
  return files;
}

/** Go's filepath.Match on a bare name: '*' also matches names starting with a dot. */
async function nameMatcher(filter: string): Promise<NameMatcher> {
  const pattern = filter || '*';
  const { minimatch } = await import('minimatch');
  return (name) => minimatch(name, pattern, { dot: true });
}

async function walk(dir: string, matches: NameMatcher, files: string[]): Promise<void> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (err) {
    throw lookupError(dir, err);
  }
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const entry of entries) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      await walk(path, matches, files);
    } else if (matches(entry.name) && !(entry.isSymbolicLink() && (await isDirectory(path)))) {
      files.push(path);
    }
  }
}

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch (err) {
    throw lookupError(path, err);
  }
}

function lookupError(path: string, err: unknown): BackendError {
  const code = (err as NodeJS.ErrnoException).code;
  const reason = code === 'ENOENT' ? 'no such file or directory' : errorMessage(err);
  return new BackendError(`file backend: cannot read ${path}: ${reason}`, 'file', [path], { cause: err });
}
