import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readFile } from '../../src/fs-async.js';

describe('fs-async readFile', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'confd-fs-async-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('reads a regular file whole, as text or as bytes', async () => {
    const file = join(dir, 'data.yaml');
    writeFileSync(file, 'key: välue\n');
    expect(await readFile(file, 'utf8')).to.equal('key: välue\n');
    expect((await readFile(file)).equals(Buffer.from('key: välue\n'))).to.equal(true);
  });

  it('rejects as fs.readFile does, with the code and the path', async () => {
    const missing = join(dir, 'missing.yaml');
    const err = (await readFile(missing, 'utf8').then(
      () => undefined,
      (e: unknown) => e,
    )) as NodeJS.ErrnoException;
    expect(err.code).to.equal('ENOENT');
    expect(err.message).to.contain(missing);
  });

  it('reads what a writer that was waiting on a FIFO writes, once', async () => {
    const fifo = join(dir, 'fifo');
    execFileSync('mkfifo', [fifo]);
    // A writer blocked in open(2) until a reader comes, which then writes and closes at once.
    const writer = writeFile(fifo, 'written before the read');
    expect(await readFile(fifo, 'utf8')).to.equal('written before the read');
    await writer;
  });

  it('reads a FIFO without holding the event loop until its writer comes', async () => {
    const fifo = join(dir, 'fifo');
    execFileSync('mkfifo', [fifo]);
    const reading = readFile(fifo, 'utf8');
    // Runs only if the read above left the event loop free.
    await new Promise((resolve) => setImmediate(resolve));
    await writeFile(fifo, 'from the writer');
    expect(await reading).to.equal('from the writer');
  });
});
