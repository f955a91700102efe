import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { eventually as pollUntil } from '../../support/async.js';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
export const confdBin = join(repoRoot, 'bin/confd');

export interface ConfdRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Environment for child runs: no CONFD_* or store variables leak in from the developer's shell. */
export function cleanEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v !== undefined && !k.startsWith('CONFD_') && k !== 'CONSUL_HTTP_TOKEN') env[k] = v;
  }
  return { ...env, ...extra };
}

/**
 * Child runs never read the host's /etc/confd/confd.toml (its prefix or noop would leak into the test),
 * unless the test names a config file itself.
 */
function hermetic(args: string[]): string[] {
  return args.some((a) => /^--?config-file(=|$)/.test(a)) ? args : ['-config-file', '', ...args];
}

function assertBuilt(): void {
  if (!existsSync(join(repoRoot, 'dist/confd.cjs'))) {
    throw new Error('dist/confd.cjs is missing: run `npm run build` before the end-to-end tests');
  }
}

/** Runs bin/confd to completion. */
export function runConfd(
  args: string[],
  opts: { cwd?: string; env?: Record<string, string> } = {},
): Promise<ConfdRun> {
  assertBuilt();
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [confdBin, ...hermetic(args)], {
      cwd: opts.cwd ?? repoRoot,
      env: opts.env ?? cleanEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code, signal) => resolvePromise({ code, signal, stdout, stderr }));
  });
}

/** Starts bin/confd as a daemon; the caller signals it and awaits `exited`. */
export function startConfd(args: string[], opts: { cwd?: string; env?: Record<string, string> } = {}) {
  assertBuilt();
  const child = spawn(process.execPath, [confdBin, ...hermetic(args)], {
    cwd: opts.cwd ?? repoRoot,
    env: opts.env ?? cleanEnv(),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output = { stdout: '', stderr: '' };
  child.stdout.on('data', (d: Buffer) => (output.stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output.stderr += d.toString()));
  const exited = new Promise<ConfdRun>((resolvePromise) =>
    child.on('close', (code, signal) => resolvePromise({ code, signal, ...output })),
  );
  return { child, output, exited };
}

/** Polls `probe` until it returns true; fails with `what` after `limitMs` (a liveness bound, not a speed test). */
export function eventually(
  probe: () => Promise<boolean> | boolean,
  what: string,
  limitMs = 15000,
): Promise<void> {
  return pollUntil(probe, what, limitMs);
}

/** A throwaway confdir with conf.d/ and templates/ populated from the given files. */
export class Workspace {
  private constructor(readonly root: string) {}

  static async create(): Promise<Workspace> {
    const root = await mkdtemp(join(tmpdir(), 'confd-e2e-'));
    await mkdir(join(root, 'conf.d'), { recursive: true });
    await mkdir(join(root, 'templates'), { recursive: true });
    return new Workspace(root);
  }

  path(...parts: string[]): string {
    return join(this.root, ...parts);
  }

  /** `-backend file -file <ws>/data.yaml -confdir <ws>`: a run over this workspace's data and conf.d. */
  fileBackendArgs(): string[] {
    return ['-backend', 'file', '-file', this.path('data.yaml'), '-confdir', this.root];
  }

  async write(relative: string, content: string): Promise<string> {
    const full = this.path(relative);
    await mkdir(dirname(full), { recursive: true });
    await writeFile(full, content);
    return full;
  }

  async remove(): Promise<void> {
    await rm(this.root, { recursive: true, force: true });
  }
}
