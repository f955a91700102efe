import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { freePort } from '../../support/net.js';
import { useStore } from './stores.js';

const repoDir = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../..');

/**
 * A throwaway `consul agent -dev` configured by `hcl`, on ports of its own so it cannot clash with the
 * shared agent. Resolves once `ready` (polled) says so; the caller stops it with stopAgent.
 */
export async function startDevAgent(
  name: string,
  dir: string,
  hcl: string,
  extraArgs: string[],
  ready: () => Promise<boolean>,
): Promise<ChildProcess> {
  await useStore('consul'); // installs the binary when missing
  const cached = join(process.env.STORES_CACHE ?? join(repoDir, '.stores'), 'cache/consul/usr/bin/consul');
  const binary = existsSync(cached) ? cached : 'consul';
  await writeFile(join(dir, 'agent.hcl'), hcl);
  const [server, serfLan, serfWan] = [await freePort(), await freePort(), await freePort()];
  // -dev keeps everything in memory.
  const args = ['agent', '-dev', '-node', name, '-bind', '127.0.0.1', '-client', '127.0.0.1'];
  args.push('-server-port', `${server}`, '-serf-lan-port', `${serfLan}`, '-serf-wan-port', `${serfWan}`);
  args.push('-dns-port', '-1', '-grpc-port', '-1', '-config-file', join(dir, 'agent.hcl'), ...extraArgs);
  const child = spawn(binary, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  try {
    const deadline = Date.now() + 60_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`the ${name} agent exited: ${stderr}`);
      if (await ready().catch(() => false)) return child;
      if (Date.now() > deadline) throw new Error(`the ${name} agent was not ready within 60 s: ${stderr}`);
      await sleep(250);
    }
  } catch (err) {
    await stopAgent(child);
    throw err;
  }
}

export async function stopAgent(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((done) => child.once('exit', done));
  child.kill('SIGTERM');
  const stopped = await Promise.race([exited.then(() => true), sleep(15_000, false, { ref: false })]);
  if (!stopped) child.kill('SIGKILL');
}
