import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { cleanEnv, confdBin, Workspace, type ConfdRun } from './support/confd-process.js';

const running = new Set<ChildProcess>();

/** Runs bin/confd with `preload` required first (node -r), as a library or a shell could leave things. */
async function runWith(preload: string, args: string[], { readerLeaves = false } = {}): Promise<ConfdRun> {
  const child = spawn(process.execPath, ['-r', preload, confdBin, '-config-file', '', ...args], {
    env: cleanEnv(),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  child.on('exit', () => running.delete(child));
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => {
    stdout += d.toString();
    // The reader goes away after its first read, as `confd -noop | head -1` does.
    if (readerLeaves) child.stdout.destroy();
  });
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const [code, signal] = (await once(child, 'close')) as [number | null, NodeJS.Signals | null];
  return { code, signal, stdout, stderr };
}

// bin/confd ends the process when the CLI's main resolves, as a Go program ends when main returns.
describe('the end of a run (bin/confd)', () => {
  let ws: Workspace;
  const lines = Array.from(
    { length: 20_000 },
    (_, i) => `line ${String(i).padStart(6, '0')} ${'x'.repeat(50)}`,
  );

  beforeEach(async () => {
    ws = await Workspace.create();
    await ws.write('data.yaml', `text: |\n${lines.map((l) => `  ${l}\n`).join('')}`);
    await ws.write('templates/big.tmpl', '{{getv "/text"}}');
    await ws.write(
      'conf.d/big.toml',
      `[template]\nsrc = "big.tmpl"\ndest = "${ws.path('out/big.conf')}"\nkeys = ["/text"]\n`,
    );
    await ws.write('out/big.conf', 'old\n');
    // A stdout that is a non-blocking pipe (creating process.stdout makes it so), which a 1.2 MB diff
    // overfills: the descriptor refuses most of it and the rest waits in Node's stream.
    await ws.write('nonblocking-stdout.cjs', 'void process.stdout;\n');
    // Something that keeps the event loop alive for ever, as a handle a library failed to close would.
    await ws.write('open-handle.cjs', 'setInterval(() => {}, 60_000);\n');
  });
  afterEach(async () => {
    // A run that failed to end (the test then fails on its timeout) is not left behind.
    for (const child of running) child.kill('SIGKILL');
    await ws.remove();
  });

  const args = () => ['-onetime', '-noop', ...ws.fileBackendArgs()];

  it('writes out all of its output before it ends, when stdout is a pipe that fills', async function () {
    this.timeout(60_000);
    const run = await runWith(ws.path('nonblocking-stdout.cjs'), args());
    expect(run.code, run.stderr).to.equal(0);
    const added = run.stdout.split('\n').filter((l) => l.startsWith('+line '));
    expect(added).to.have.length(lines.length);
    expect(added.at(-1)).to.equal(`+${lines.at(-1)}`);
    expect(run.stdout.endsWith('\n')).to.equal(true);
  });

  it('loses the lines, not the run, when the reader of its stdout goes away', async function () {
    this.timeout(60_000);
    const run = await runWith(ws.path('nonblocking-stdout.cjs'), args(), { readerLeaves: true });
    expect(run.code, run.stderr).to.equal(0);
    expect(run.stderr).to.match(/INFO 1 resource: /);
    expect(run.stderr).not.to.match(/EPIPE|Unhandled/);
  });

  it('ends once its work is done, though a handle is left open', async function () {
    this.timeout(60_000);
    const run = await runWith(ws.path('open-handle.cjs'), args());
    expect(run.code, run.stderr).to.equal(0);
    expect(run.stdout).to.match(/^-old$/m);
  });
});
