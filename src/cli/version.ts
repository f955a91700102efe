import { readFile } from '../fs-async.js';

/** Set by scripts/bundle.mjs to package.json's version; undefined when src/ runs unbundled (tsx in tests). */
declare const __CONFD_VERSION__: string | undefined;

/**
 * The version: fixed into the bundle at build time (dist/confd.cjs sits elsewhere than this file, so no
 * path relative to it would hold); unbundled, read from package.json two levels above src/cli/.
 */
export async function readPackageVersion(): Promise<string> {
  if (typeof __CONFD_VERSION__ === 'string') return __CONFD_VERSION__;
  const text = await readFile(new URL('../../package.json', import.meta.url), 'utf8');
  const pkg = JSON.parse(text) as { version?: unknown };
  if (typeof pkg.version !== 'string') throw new Error('package.json has no version');
  return pkg.version;
}

/** What `confd -version` prints; shaped like confd's "confd 0.16.0 (Git SHA: …, Go Version: …)". */
export async function versionText(): Promise<string> {
  return `confd ${await readPackageVersion()} (confd-ts, Node.js ${process.version})\n`;
}
