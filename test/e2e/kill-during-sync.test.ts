import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { eventually, runConfd, startConfd, Workspace } from './support/confd-process.js';
import { readPids } from '../support/processes.js';

/**
 * `kill -9` in the middle of a sync: dest holds the old content or the new, never a mix, and the stage
 * file the killed run left behind is removed by the next run. The kill is timed by the check_cmd (or
 * reload_cmd) itself: it writes its pid to a marker file and then waits for ever, so confd is killed at a
 * known point of the pipeline, not after a guessed sleep.
 */
describe('kill -9 during a sync (end to end)', function () {
  this.timeout(60_000);
  let ws: Workspace;
  let commandGroups: number[];
  // Large enough that writing it takes real work; random, so "byte for byte" means something.
  const oldContent = `old ${randomBytes(1 << 20).toString('hex')}\n`;
  const newValue = randomBytes(1 << 20).toString('hex');
  const newContent = `new ${newValue}\n`;

  beforeEach(async () => {
    ws = await Workspace.create();
    commandGroups = [];
    await ws.write('data.yaml', `big: ${newValue}\n`);
    await ws.write('templates/big.hbs', 'new {{getv "/big"}}\n');
    await ws.write('out/big.conf', oldContent);
  });
  afterEach(async () => {
    // The waiting command leads its own process group, which outlives the killed confd.
    for (const pgid of commandGroups) {
      try {
        process.kill(-pgid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    await ws.remove();
  });

  const dest = () => ws.path('out/big.conf');
  const args = () => ['-onetime', '-backend', 'file', '-file', ws.path('data.yaml'), '-confdir', ws.root];
  const stageFiles = async () => (await readdir(ws.path('out'))).filter((n) => n.endsWith('.confd-stage'));

  async function resource(extra: string): Promise<void> {
    await ws.write(
      'conf.d/big.toml',
      `[template]\nsrc = "big.hbs"\ndest = "${dest()}"\nkeys = ["/big"]\n${extra}\n`,
    );
  }

  /** Starts confd, waits until the command wrote its pid to `marker`, then kills confd with SIGKILL. */
  async function killWhenCommandRuns(marker: string): Promise<void> {
    const daemon = startConfd(args());
    await eventually(
      async () => (await readPids(marker).catch(() => [])).length === 1,
      `the command to start (confd stderr: ${daemon.output.stderr})`,
      30_000,
    );
    commandGroups.push(...(await readPids(marker)));
    daemon.child.kill('SIGKILL');
    const run = await daemon.exited;
    expect(run.signal).to.equal('SIGKILL');
  }

  it('killed during check_cmd: dest keeps the old content, and the next run removes the stage file', async () => {
    const marker = ws.path('check.pid');
    await resource(`check_cmd = "echo $$ > ${marker}; while :; do sleep 1; done"\ncheck_cmd_timeout = "5m"`);
    await killWhenCommandRuns(marker);

    expect(await readFile(dest(), 'utf8')).to.equal(oldContent);
    const left = await stageFiles();
    expect(left).to.have.length(1);
    expect(left[0]).to.match(/^\.big\.conf\.[0-9a-f]{12}\.confd-stage$/);
    // The check was looking at the complete new content, written in full before it started.
    expect((await stat(ws.path('out', left[0]!))).size).to.equal(Buffer.byteLength(newContent));

    // The next run (no check this time) cleans up before it syncs. Needs removeStaleStageFiles wired into
    // -onetime (src/process/onetime.ts).
    await resource('');
    const next = await runConfd(args());
    expect(next.code, next.stderr).to.equal(0);
    expect(next.stderr).to.include(`removed stale stage file ${ws.path('out', left[0]!)}`);
    expect(existsSync(ws.path('out', left[0]!))).to.equal(false);
    expect(await stageFiles()).to.deep.equal([]);
    expect(await readFile(dest(), 'utf8')).to.equal(newContent);
  });

  it('killed during reload_cmd: dest holds the new content in full, and no stage file is left', async () => {
    const marker = ws.path('reload.pid');
    await resource(
      `reload_cmd = "echo $$ > ${marker}; while :; do sleep 1; done"\nreload_cmd_timeout = "5m"`,
    );
    await killWhenCommandRuns(marker);

    expect(await readFile(dest(), 'utf8')).to.equal(newContent);
    expect(await stageFiles()).to.deep.equal([]);
  });
});
