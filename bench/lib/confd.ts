/**
 * bin/confd as a user runs it: the launcher itself (its shebang picks node), in a workspace of its own, with
 * NODE_EXTRA_CA_CERTS and CONFD_* removed from the environment (the first adds ~130 ms to every node start on
 * machines that set it, the second would change what is measured).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { msSince } from './stats.js';

export const benchDir = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const repoRoot = resolve(benchDir, '..');
export const confdBin = join(repoRoot, 'bin/confd');
const gnuTime = '/usr/bin/time';

export function childEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v !== undefined && k !== 'NODE_EXTRA_CA_CERTS' && !k.startsWith('CONFD_')) env[k] = v;
  }
  return env;
}

/** The command line as a user types it (confd's launcher named `bin/confd`, files of the repository relative to it). */
export function commandLine(file: string, args: readonly string[]): string {
  const name = file === confdBin ? 'bin/confd' : file === process.execPath ? 'node' : file;
  const quote = (a: string): string => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`);
  const shown = (a: string): string => (a.startsWith(`${repoRoot}/`) ? a.slice(repoRoot.length + 1) : a);
  return [name, ...args.map(shown)].map(quote).join(' ');
}

export interface TimedRun {
  ms: number;
  /** Peak resident set of the measured process, from GNU time (%M, KiB), in MiB. */
  rssMiB: number;
  /** What it wrote to stdout. */
  stdout: string;
}

/**
 * Runs `file args` to completion under GNU time and returns its wall time and peak RSS. The wall time
 * includes GNU time's own fork+exec (well under 1 ms), the same for the floor and for confd.
 */
export function timedRun(file: string, args: readonly string[], cwd: string): Promise<TimedRun> {
  if (!existsSync(gnuTime)) throw new Error(`${gnuTime} is missing: apt-get install -y time`);
  return new Promise((resolvePromise, reject) => {
    const start = process.hrtime.bigint();
    const child = spawn(gnuTime, ['-f', 'bench-maxrss-kib %M', file, ...args], {
      cwd,
      env: childEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      const ms = msSince(start);
      const rss = /bench-maxrss-kib (\d+)\s*$/.exec(stderr);
      if (code !== 0 || !rss) {
        reject(new Error(`${commandLine(file, args)} exited ${code}:\n${stderr.slice(-2000)}`));
      } else {
        resolvePromise({ ms, rssMiB: Number(rss[1]) / 1024, stdout });
      }
    });
  });
}

export interface Daemon {
  child: ChildProcess;
  pid: number;
  command: string;
  /** VmRSS and VmHWM (peak) of the running process, MiB. */
  memory(): Promise<{ rssMiB: number; hwmMiB: number }>;
  stop(): Promise<void>;
}

/** Daemons still running: killed when the driver exits, whatever way it exits (a failure, Ctrl-C). */
const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/** Starts `bin/confd args` in `cwd`; its stderr goes to `<cwd>/confd-<n>.log` for a post-mortem. */
let daemons = 0;
export async function startConfd(args: readonly string[], cwd: string): Promise<Daemon> {
  const log = createWriteStream(join(cwd, `confd-${(daemons += 1)}.log`));
  await new Promise((ok) => log.once('open', ok));
  // BENCH_CPU_PROF=<dir>: every daemon writes a V8 CPU profile there when it stops (summarise one with
  // bench/cpu-profile.ts). Node refuses --cpu-prof in NODE_OPTIONS, so it goes on the command line.
  const profileDir = process.env.BENCH_CPU_PROF;
  const child = profileDir
    ? spawn(process.execPath, ['--cpu-prof', '--cpu-prof-dir', resolve(profileDir), confdBin, ...args], {
        cwd,
        env: childEnv(),
        stdio: ['ignore', 'ignore', log],
      })
    : spawn(confdBin, args, { cwd, env: childEnv(), stdio: ['ignore', 'ignore', log] });
  const pid = child.pid;
  if (pid === undefined) throw new Error(`cannot start ${commandLine(confdBin, args)}`);
  running.add(child);
  const exited = new Promise<void>((ok) =>
    child.once('close', () => {
      running.delete(child);
      ok();
    }),
  );
  return {
    child,
    pid,
    command: commandLine(confdBin, args),
    async memory() {
      const status = await readFile(`/proc/${pid}/status`, 'utf8');
      const kib = (field: string): number =>
        Number(new RegExp(`^${field}:\\s+(\\d+)`, 'm').exec(status)?.[1]);
      return { rssMiB: kib('VmRSS') / 1024, hwmMiB: kib('VmHWM') / 1024 };
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(killer);
      log.end();
    },
  };
}

/** A throwaway confdir: conf.d/, templates/, out/. */
export class Workspace {
  private constructor(readonly root: string) {}

  static async create(tag: string): Promise<Workspace> {
    const root = await mkdtemp(join(tmpdir(), `confd-bench-${tag}-`));
    for (const sub of ['conf.d', 'templates', 'out']) await mkdir(join(root, sub), { recursive: true });
    return new Workspace(root);
  }

  path(...parts: string[]): string {
    return join(this.root, ...parts);
  }

  async template(name: string, text: string): Promise<void> {
    await writeFile(this.path('templates', name), text);
  }

  /** One template resource writing `dest` (relative to out/ when not absolute). */
  async resource(
    name: string,
    r: { src: string; dest: string; prefix?: string; keys: string[] },
  ): Promise<void> {
    const lines = ['[template]', `src = ${JSON.stringify(r.src)}`, `dest = ${JSON.stringify(r.dest)}`];
    if (r.prefix !== undefined) lines.push(`prefix = ${JSON.stringify(r.prefix)}`);
    lines.push(`keys = ${JSON.stringify(r.keys)}`);
    await writeFile(this.path('conf.d', `${name}.toml`), `${lines.join('\n')}\n`);
  }

  async remove(): Promise<void> {
    await rm(this.root, { recursive: true, force: true });
  }
}
