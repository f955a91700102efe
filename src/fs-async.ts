import * as fs from 'node:fs';
import { promisify } from 'node:util';

/*
 * The file-system calls this program awaits, as promises of Node's callback API, not node:fs/promises:
 * loading that module loads its FileHandle machinery too (readline, file watchers, directory streams),
 * ~1.1 ms of every run (2% of a one-shot read of 1,000 keys). Same arguments, results and errors (an
 * ErrnoException with code and path). Each call is one request to libuv's thread pool, except readdir
 * with `recursive`, which Node 20 walks synchronously before calling back (as conf.d's loading is anyway).
 */
export const lstat = promisify(fs.lstat);
export const mkdir = promisify(fs.mkdir);
export const readdir = promisify(fs.readdir);
export const rename = promisify(fs.rename);
export const rm = promisify(fs.rm);
export const stat = promisify(fs.stat);
export const unlink = promisify(fs.unlink);

/**
 * A whole file. A regular file is read synchronously (as conf.d and templates are) and handed over as a
 * promise: what is read this way is local configuration (a data file, a certificate, /etc/passwd, a pid
 * file), and a synchronous read makes no thread-pool round trip; fs.readFile would also load Node's
 * ReadFileContext at its first call, for the file backend after the run has set its V8 flags (see
 * cli/v8-tuning.ts). Anything else (a FIFO, a process substitution's pipe, a device) is read by the thread
 * pool, as it may wait for a writer: the event loop must not. Told apart by stat, which opens nothing (an
 * open and close of a FIFO would let a waiting writer write into a pipe whose content the close then
 * discards). A failure is a rejection, as from fs.readFile.
 */
export function readFile(path: fs.PathLike, encoding: BufferEncoding): Promise<string>;
export function readFile(path: fs.PathLike): Promise<Buffer>;
export async function readFile(path: fs.PathLike, encoding?: BufferEncoding): Promise<string | Buffer> {
  const regular = fs.statSync(path, { throwIfNoEntry: false })?.isFile() ?? false;
  if (regular) return encoding === undefined ? fs.readFileSync(path) : fs.readFileSync(path, encoding);
  // Also a missing file: its error is then fs.readFile's own, naming the open that failed.
  return encoding === undefined ? readWaiting(path) : readWaiting(path, encoding);
}

const readWaiting = promisify(fs.readFile);
