import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import type { BackendOptions } from '../../src/backends/store-client.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

export interface ChildRun {
  exitCode: number | undefined;
  timedOut: boolean;
  /** First line: "no error" or "<ErrorName>: <message>"; then whatever `after` prints. */
  stdout: string;
  stderr: string;
}

/**
 * Runs a backend's createClient in a fresh node process with no process.exit, so the process ends only if
 * the client leaves no socket or timer behind. `after` is extra script source run once createClient has
 * settled (e.g. printing process.getActiveResourcesInfo()).
 */
export async function createClientInChild(
  backend: string,
  options: BackendOptions,
  after: string[] = [],
): Promise<ChildRun> {
  const dir = await mkdtemp(join(tmpdir(), `confd-${backend}-child-`));
  try {
    const script = join(dir, 'run.mts');
    await writeFile(
      script,
      [
        `import { createClient } from ${JSON.stringify(join(repoRoot, `src/backends/${backend}.ts`))};`,
        `const quiet = { debug() {}, info() {}, warn() {}, error() {} };`,
        `try {`,
        `  const c = await createClient(${JSON.stringify(options)}, quiet);`,
        `  console.log('no error');`,
        `  await c.close();`,
        `} catch (e) { console.log(e.name + ': ' + e.message); }`,
        ...after,
      ].join('\n'),
    );
    const run = await execa('node', ['--import', 'tsx', script], {
      cwd: repoRoot,
      reject: false,
      timeout: 45_000,
    });
    return { exitCode: run.exitCode, timedOut: run.timedOut, stdout: run.stdout, stderr: run.stderr };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
