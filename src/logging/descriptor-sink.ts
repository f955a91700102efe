import { writeSync } from 'node:fs';

/** Where a logger hands its lines: a Writable stream is one. `done` runs once the text is handed on. */
export interface LineSink {
  write(text: string, done?: () => void): unknown;
}

/** What takes over from a descriptor: process.stderr is one. */
export interface ByteSink {
  write(chunk: string | Uint8Array, done?: () => void): unknown;
  on(event: 'error', listener: (err: Error) => void): unknown;
}

/** A sink of one descriptor, which can say when all it took has been written. */
export interface DescriptorSink extends LineSink {
  /**
   * Resolves once every line written so far is out of this process: at once while the descriptor took
   * each line whole; else when the stream that took over has written the last (or failed to).
   */
  flushed(): Promise<void>;
}

/**
 * Writes each line to a file descriptor with one write(2), as Go's log package writes to os.Stderr, for as
 * long as the descriptor takes every line whole. Creating Node's process.stdout or process.stderr costs
 * ~1.2 ms when it is a pipe (a net.Socket over the descriptor, which it also makes non-blocking; node:net
 * itself on a file-backend run), and a run writes only a few lines. A blocking descriptor (the usual kind)
 * makes the process wait for a slow reader, as confd's stderr does. A line a non-blocking one cannot take
 * whole (EAGAIN from a full pipe, or a short write) goes, with every later one, to `stream()`, which
 * queues them on the event loop: lines keep their order and the loop is not held. A descriptor that fails
 * otherwise (EPIPE: the reader is gone) has nowhere to report it; the line is dropped, and so are the
 * lines the stream fails to write once it has taken over. Node.js opens /dev/null on a standard
 * descriptor that was closed at start, so fd 1 or 2 is never some other file of this process. Node's own
 * modules may still create the streams (node:assert, which node:http2 loads, asks process.stderr whether
 * it is a terminal).
 */
export function descriptorSink(
  fd: number,
  stream: () => ByteSink,
  write: (fd: number, text: string) => number = writeSync,
): DescriptorSink {
  let queued: ByteSink | undefined;
  return {
    flushed() {
      const stream = queued;
      if (!stream) return Promise.resolve();
      // A stream calls back in the order it was written to: an empty write's callback comes after the rest.
      return new Promise((resolve) => void stream.write('', () => resolve()));
    },
    write(text, done) {
      if (queued) return queued.write(text, done);
      let written = 0;
      try {
        written = write(fd, text);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') {
          done?.();
          return;
        }
      }
      if (written === Buffer.byteLength(text)) {
        done?.();
        return;
      }
      queued = stream();
      // The reader may still go away (EPIPE): then the lines are lost, not the run. Unheard, the stream's
      // 'error' would end the process, perhaps between a stage file and its rename. A write's callback
      // still runs after an error, so flushed() resolves.
      queued.on('error', () => undefined);
      // The rest as bytes: a short write may have cut a character in two.
      return queued.write(Buffer.from(text).subarray(written), done);
    },
  };
}

/**
 * This program's stdout and stderr: one sink each, shared by everything that writes there (the logger, the
 * CLI's own lines, -noop's diffs), so that once one has handed over to Node's stream every later write goes
 * after it.
 */
export const standardOutput: DescriptorSink = descriptorSink(1, () => process.stdout);
export const standardError: DescriptorSink = descriptorSink(2, () => process.stderr);

/** Resolves once everything written to stdout and stderr through the sinks above is out of this process. */
export async function standardOutputFlushed(): Promise<void> {
  await Promise.all([standardOutput.flushed(), standardError.flushed()]);
}
