import { readFile } from 'node:fs/promises';

/**
 * The version comes from package.json, found relative to this module: src/cli/ when run through tsx and
 * dist/cli/ when built both sit two levels below the package root.
 */
export async function readPackageVersion(): Promise<string> {
  const text = await readFile(new URL('../../package.json', import.meta.url), 'utf8');
  const pkg = JSON.parse(text) as { version?: unknown };
  if (typeof pkg.version !== 'string') throw new Error('package.json has no version');
  return pkg.version;
}

/** What `confd -version` prints; shaped like confd's "confd 0.16.0 (Git SHA: …, Go Version: …)". */
export async function versionText(): Promise<string> {
  return `confd ${await readPackageVersion()} (confd-ts, Node.js ${process.version})\n`;
}
