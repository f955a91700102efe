import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventEmitter, once } from 'node:events';
import { descriptorSink, type ByteSink } from '../../../src/logging/descriptor-sink.js';

/** A stand-in for process.stderr that keeps what it was given, in order, and confirms at once. */
class Queue implements ByteSink {
  readonly chunks: Buffer[] = [];
  write(chunk: string | Uint8Array, done: () => void): boolean {
    this.chunks.push(Buffer.from(chunk));
    done();
    return true;
  }
  text(): string {
    return Buffer.concat(this.chunks).toString();
  }
  on(): this {
    return this;
  }
}

const errno = (code: string): NodeJS.ErrnoException => Object.assign(new Error(code), { code });

describe('descriptor sink', () => {
  it('writes each line to the descriptor with one write, in order, and confirms it at once', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sink-'));
    const fd = openSync(join(dir, 'log'), 'w');
    try {
      let opened = false;
      const sink = descriptorSink(fd, () => {
        opened = true;
        return new Queue();
      });
      let confirmed = 0;
      sink.write('first line\n', () => confirmed++);
      sink.write('zweite Zeile: ü€𝄞\n', () => confirmed++);
      expect(confirmed).to.equal(2);
      expect(opened).to.equal(false);
      expect(readFileSync(join(dir, 'log'), 'utf8')).to.equal('first line\nzweite Zeile: ü€𝄞\n');
    } finally {
      closeSync(fd);
      rmSync(dir, { recursive: true });
    }
  });

  it('hands the line a full non-blocking descriptor refused (EAGAIN), and every later one, to the stream', () => {
    const queue = new Queue();
    const tried: string[] = [];
    const sink = descriptorSink(
      2,
      () => queue,
      (_fd, text) => {
        tried.push(text);
        if (tried.length === 2) throw errno('EAGAIN');
        return Buffer.byteLength(text);
      },
    );
    let confirmed = 0;
    for (const line of ['a\n', 'b\n', 'c\n', 'd\n']) sink.write(line, () => confirmed++);
    expect(tried).to.deep.equal(['a\n', 'b\n']);
    expect(queue.text()).to.equal('b\nc\nd\n');
    expect(confirmed).to.equal(4);
  });

  it('hands the rest of a short write to the stream as bytes, so a character cut in two comes out whole', () => {
    const queue = new Queue();
    const line = 'wert: €uro\n';
    // 'wert: ' and the first byte of '€' (three bytes in UTF-8).
    const sink = descriptorSink(
      2,
      () => queue,
      () => 7,
    );
    let confirmed = 0;
    sink.write(line, () => confirmed++);
    sink.write('next\n', () => confirmed++);
    expect(Buffer.concat([Buffer.from(line).subarray(0, 7), ...queue.chunks]).toString()).to.equal(
      `${line}next\n`,
    );
    expect(confirmed).to.equal(2);
  });

  it('drops a line the descriptor fails with another error (EPIPE) and keeps writing to it', () => {
    const tried: string[] = [];
    let opened = false;
    const sink = descriptorSink(
      2,
      () => {
        opened = true;
        return new Queue();
      },
      (_fd, text) => {
        tried.push(text);
        if (tried.length === 1) throw errno('EPIPE');
        return Buffer.byteLength(text);
      },
    );
    let confirmed = 0;
    sink.write('lost\n', () => confirmed++);
    sink.write('kept\n', () => confirmed++);
    expect(tried).to.deep.equal(['lost\n', 'kept\n']);
    expect(opened).to.equal(false);
    expect(confirmed).to.equal(2);
  });

  it('is flushed at once while the descriptor took every line, without making the stream', async () => {
    let opened = false;
    const sink = descriptorSink(
      2,
      () => {
        opened = true;
        return new Queue();
      },
      (_fd, text) => Buffer.byteLength(text),
    );
    sink.write('a\n');
    let flushed = false;
    const done = sink.flushed().then(() => (flushed = true));
    // Resolved before any timer could run: nothing waits on the event loop.
    await Promise.resolve();
    expect(flushed).to.equal(true);
    await done;
    expect(opened).to.equal(false);
  });

  it('is flushed only once the stream that took over has written every line given to it', async () => {
    // A stream that confirms a write only when told to, as a socket does once the kernel took the bytes.
    const pending: (() => void)[] = [];
    const slow: ByteSink = {
      write(_chunk, done) {
        if (done) pending.push(done);
        return false;
      },
      on() {
        return this;
      },
    };
    const sink = descriptorSink(
      1,
      () => slow,
      () => {
        throw errno('EAGAIN');
      },
    );
    const confirmed: string[] = [];
    sink.write('a\n', () => confirmed.push('a'));
    sink.write('b\n', () => confirmed.push('b'));
    let flushed = false;
    const done = sink.flushed().then(() => (flushed = true));
    // Two lines and the flush's own empty write are waiting.
    expect(pending).to.have.length(3);
    for (const confirm of pending.splice(0, 2)) confirm();
    await new Promise((resolve) => setImmediate(resolve));
    expect(flushed).to.equal(false);
    pending.splice(0, 1)[0]?.();
    await done;
    expect(flushed).to.equal(true);
    expect(confirmed).to.deep.equal(['a', 'b']);
  });

  it('drops what the stream that took over fails to write (EPIPE) instead of ending the process', async () => {
    // An EventEmitter throws an 'error' nobody listens for, as process.stdout does (which ends the process).
    class Broken extends EventEmitter implements ByteSink {
      write(_chunk: string | Uint8Array, done?: () => void): boolean {
        this.emit('error', errno('EPIPE'));
        done?.();
        return false;
      }
    }
    const sink = descriptorSink(
      1,
      () => new Broken(),
      () => {
        throw errno('EAGAIN');
      },
    );
    let confirmed = 0;
    sink.write('a\n', () => confirmed++);
    sink.write('b\n', () => confirmed++);
    expect(confirmed).to.equal(2);
    await sink.flushed();
  });

  // A real pipe, non-blocking (the child's stderr is: its loader, tsx, creates process.stderr, which makes
  // it so), that fills before its reader reads any of it: every line must arrive, whole and in order.
  const CHILD = `
    import { createLogger } from ${JSON.stringify(new URL('../../../src/logging/stream-logger.ts', import.meta.url).href)};
    import { descriptorSink } from ${JSON.stringify(new URL('../../../src/logging/descriptor-sink.ts', import.meta.url).href)};
    void process.stderr;
    let queued = false;
    const stream = descriptorSink(2, () => { queued = true; return process.stderr; });
    const logger = createLogger({ level: 'info', stream, hostname: 'h', pid: 1, now: () => new Date(0) });
    for (let i = 0; i < 4000; i++) logger.info('line ' + String(i).padStart(5, '0') + ' ' + 'x'.repeat(200));
    process.stdout.write('queued=' + queued + '\\n');
    await logger.close();
  `;

  it('loses no line on a non-blocking pipe that fills before its reader reads', async function () {
    this.timeout(60_000);
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', CHILD], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stderr.pause();
    const [first] = (await once(child.stdout, 'data')) as [Buffer];
    const chunks: Buffer[] = [];
    child.stderr.on('data', (chunk: Buffer) => chunks.push(chunk));
    child.stderr.resume();
    const [code] = (await once(child, 'close')) as [number];
    expect(code).to.equal(0);
    // The pipe refused a line (EAGAIN), so the rest went through process.stderr.
    expect(first.toString()).to.equal('queued=true\n');
    const lines = Buffer.concat(chunks).toString().split('\n').filter(Boolean);
    expect(lines).to.have.length(4000);
    lines.forEach((line, i) => {
      expect(line).to.equal(
        `1970-01-01T00:00:00Z h confd[1]: INFO line ${String(i).padStart(5, '0')} ${'x'.repeat(200)}`,
      );
    });
  });
});
