import { expect } from 'chai';
import { chmod, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GuardError } from '../../../src/errors.js';
import { backupPath } from '../../../src/sync/backups.js';
import { guardRefusal } from '../../../src/sync/guard.js';
import { restorePrevious } from '../../../src/sync/restore.js';
import { syncFile, type SyncRequest } from '../../../src/sync/sync-file.js';
import { rejection } from '../../support/async.js';
import { quietLogger } from '../../support/loggers.js';

describe('guard rules', () => {
  const input = (rendered: string, currentSize?: number, missingRequired: string[] = []) => ({
    rendered: Buffer.from(rendered),
    currentSize,
    missingRequired,
  });

  it('refuse_empty refuses an empty or whitespace-only render, not a short one', () => {
    const rules = { refuseEmpty: true, requiredKeys: [] };
    expect(guardRefusal(rules, input(''))).to.equal('refuse_empty: the render is empty');
    expect(guardRefusal(rules, input(' \n\t\n'))).to.equal('refuse_empty: the render is only whitespace');
    expect(guardRefusal(rules, input('x'))).to.equal(undefined);
    expect(guardRefusal({ refuseEmpty: false, requiredKeys: [] }, input(''))).to.equal(undefined);
  });

  it('required_keys names the keys the store lacks', () => {
    const rules = { refuseEmpty: false, requiredKeys: ['/p/jobs'] };
    expect(guardRefusal(rules, input('x', 10, ['/p/jobs']))).to.equal(
      'required_keys: nothing in the store at /p/jobs',
    );
  });

  it('max_shrink refuses a render that shrinks more than allowed, with the numbers, and lets the boundary through', () => {
    const rules = { refuseEmpty: false, requiredKeys: [], maxShrink: 0.5 };
    expect(guardRefusal(rules, input('x'.repeat(120), 1000))).to.equal(
      'max_shrink 50%: the render is 120 bytes, 12% of the current 1000 bytes (at least 500 wanted)',
    );
    expect(guardRefusal(rules, input('x'.repeat(500), 1000))).to.equal(undefined);
    expect(guardRefusal(rules, input('x', undefined))).to.equal(undefined);
    expect(guardRefusal(rules, input('x', 0))).to.equal(undefined);
  });
});

describe('syncFile with guard and backups', () => {
  let dir: string;
  let dest: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'confd-workflow-'));
    dest = join(dir, 'prometheus.yml');
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  const request = (content: string, extra: Partial<SyncRequest> = {}): SyncRequest => ({
    dest,
    content,
    checkCmdTimeoutMs: 10_000,
    noop: false,
    syncOnly: false,
    keepStageFile: false,
    ...extra,
  });

  it('a refused render touches neither dest nor its backups, and throws GuardError naming the rule', async () => {
    await writeFile(dest, 'scrape_configs: [a, b, c]\n');
    await writeFile(backupPath(dest, 1), 'older\n');
    const before = await stat(dest);
    const guard = { rules: { refuseEmpty: true, requiredKeys: [] }, missingRequired: [] };
    const err = await rejection<GuardError>(syncFile(request('\n', { guard, backups: 3 }), quietLogger));
    expect(err).to.be.instanceOf(GuardError);
    expect(err.message).to.equal(
      `${dest}: render refused by the guard: refuse_empty: the render is only whitespace`,
    );
    const after = await stat(dest);
    expect([after.ino, after.mtimeMs]).to.deep.equal([before.ino, before.mtimeMs]);
    expect(await readFile(backupPath(dest, 1), 'utf8')).to.equal('older\n');
    expect((await readdir(dir)).sort()).to.deep.equal(['prometheus.yml', 'prometheus.yml.bak.1']);
  });

  it('-noop with a refused render gives the diff and the refusal, writing nothing', async () => {
    await writeFile(dest, 'old\n');
    const guard = { rules: { refuseEmpty: true, requiredKeys: [] }, missingRequired: [] };
    const outcome = await syncFile(request('', { guard, noop: true }), quietLogger);
    expect(outcome).to.deep.include({ status: 'would-update', refusal: 'refuse_empty: the render is empty' });
    expect(await readFile(dest, 'utf8')).to.equal('old\n');
  });

  it('backup = 3: after four changes .bak.1 .. .bak.3 hold the three previous versions, with dest’s mode', async () => {
    await writeFile(dest, 'v0\n');
    await chmod(dest, 0o640);
    for (const v of ['v1', 'v2', 'v3', 'v4'])
      await syncFile(request(`${v}\n`, { backups: 3, mode: 0o640 }), quietLogger);
    expect(await readFile(dest, 'utf8')).to.equal('v4\n');
    expect(await readFile(backupPath(dest, 1), 'utf8')).to.equal('v3\n');
    expect(await readFile(backupPath(dest, 2), 'utf8')).to.equal('v2\n');
    expect(await readFile(backupPath(dest, 3), 'utf8')).to.equal('v1\n');
    expect((await readdir(dir)).filter((n) => n.includes('.bak.')).sort()).to.have.length(3);
    expect((await stat(backupPath(dest, 1))).mode & 0o777).to.equal(0o640);
  });

  it('reports what dest held before, and restorePrevious puts it back byte for byte with its mode', async () => {
    const bytes = Buffer.from([0xff, 0xfe, 0x0a, 0x00, 0x41]);
    await writeFile(dest, bytes);
    await chmod(dest, 0o600);
    const outcome = await syncFile(request('new\n', { mode: 0o644 }), quietLogger);
    expect(outcome.status).to.equal('updated');
    if (outcome.status !== 'updated') return;
    expect(outcome.previous?.content.equals(bytes)).to.equal(true);
    await restorePrevious(dest, outcome.previous, quietLogger);
    expect((await readFile(dest)).equals(bytes)).to.equal(true);
    expect((await stat(dest)).mode & 0o777).to.equal(0o600);
  });

  it('restorePrevious removes a dest that did not exist before', async () => {
    const outcome = await syncFile(request('new\n'), quietLogger);
    expect(outcome).to.deep.include({ status: 'updated', previous: undefined });
    await restorePrevious(dest, undefined, quietLogger);
    expect(await readdir(dir)).to.deep.equal([]);
  });
});
