import type { ZkStat } from './zookeeper-session.js';

/**
 * The ZooKeeper requests this backend makes, encoded and decoded here rather than by node-zookeeper-client.
 * The library's generic jute records cost several buffers and closures per request and per reply (a Stat
 * alone is six 8-byte buffers), which made a read of 10,000 nodes spend most of its time collecting
 * garbage; and it knows nothing of requests newer than ZooKeeper 3.4, such as addWatch. The library still
 * owns the connection: these requests go through its queue (it numbers them, sends them in order, matches
 * each reply to its request and fails them on a connection loss), and their replies are decoded from the
 * reply frame as it arrives (see ZkWire in zookeeper-connection.ts).
 */

// Operation codes of the ZooKeeper protocol.
export const OP_EXISTS = 3;
export const OP_GET_DATA = 4;
export const OP_GET_CHILDREN = 8;
export const OP_REMOVE_WATCHES = 18;
/** Several reads in one request, each answered on its own (ZooKeeper 3.6+). */
export const OP_MULTI_READ = 22;
export const OP_ADD_WATCH = 106;
/**
 * The type the library is told a request has: one whose successful reply it does not decode (it only
 * checks the header), so the body is left to us. Only the library sees it; the server gets the real code.
 */
const OPAQUE_REPLY_TYPE = 101;

/** addWatch mode (ZooKeeper 3.6+). */
export const PERSISTENT_RECURSIVE = 1;
/**
 * removeWatches watcher type "any": every watch this connection has on the path, the persistent one
 * included (3.8 refuses the dedicated persistent types with MARSHALLING_ERROR).
 */
const WATCHER_ANY = 3;

/** Byte offset of a reply's body in its frame: length, xid, zxid, err. */
export const REPLY_BODY_OFFSET = 4 + 4 + 8 + 4;

/** One request as the library's connection manager queues it (its header.xid is set when sent). */
export class WireRequest<T> {
  readonly header = { xid: 0, type: OPAQUE_REPLY_TYPE };
  readonly payload = null;
  /** The decoded body of a successful reply, set before the library hands over the reply. */
  result: T | undefined;

  constructor(
    private readonly op: number,
    private readonly body: Buffer,
    readonly decode: (reply: Reader) => T,
  ) {}

  toBuffer(): Buffer {
    const frame = Buffer.allocUnsafe(12 + this.body.length);
    frame.writeInt32BE(8 + this.body.length, 0);
    frame.writeInt32BE(this.header.xid, 4);
    frame.writeInt32BE(this.op, 8);
    this.body.copy(frame, 12);
    return frame;
  }
}

export interface ZkData {
  data: string;
  stat: ZkStat;
}

export interface ZkChildren {
  children: string[];
}

export function getDataRequest(path: string, watch: boolean): WireRequest<ZkData> {
  return new WireRequest(OP_GET_DATA, pathAndFlag(path, watch), readData);
}

/** GET_CHILDREN (no stat in the reply: nothing here needs it). */
export function getChildrenRequest(path: string, watch: boolean): WireRequest<ZkChildren> {
  return new WireRequest(OP_GET_CHILDREN, pathAndFlag(path, watch), readChildren);
}

function readData(reply: Reader): ZkData {
  const data = reply.buffer();
  return { data: data ? data.toString('utf8') : '', stat: reply.stat() };
}

function readChildren(reply: Reader): ZkChildren {
  const count = reply.int();
  const children: string[] = [];
  for (let i = 0; i < count; i += 1) children.push(reply.string());
  return { children };
}

/** One read of a multiRead, never watched. */
export interface ZkRead {
  op: typeof OP_GET_DATA | typeof OP_GET_CHILDREN;
  path: string;
}

/** A read's answer within a multiRead: its reply, or the error code of that read alone (NO_NODE, NO_AUTH). */
export type ZkReadResult = ZkData | ZkChildren | { error: number };

/** The error of one read of a multiRead, named as the library names its own errors (NO_AUTH[-102]). */
export function readFailure(code: number, codes: object): Error & { code: number } {
  const name = Object.entries(codes).find(([, value]) => value === code)?.[0] ?? 'UNKNOWN';
  return Object.assign(new Error(`${name}[${code}]`), { code });
}

/** A multiRead header's type for a read that failed (its body is the error code). */
const MULTI_ERROR = -1;
/** Bytes of a multiRead header: type, done flag, err. */
const MULTI_HEADER = 4 + 1 + 4;

/**
 * MULTI_READ (ZooKeeper 3.6+): the reads in order, each after a header (its op, not done, err -1), ended by a
 * header marked done. The server answers every read on its own, in the same order (a missing node fails
 * that read only), and ends its answer the same way. A reply whose reads do not match the request's, one
 * for one and op for op, does not decode.
 */
export function multiReadRequest(reads: readonly ZkRead[]): WireRequest<ZkReadResult[]> {
  let size = MULTI_HEADER;
  for (const read of reads) size += MULTI_HEADER + 4 + Buffer.byteLength(read.path) + 1;
  const body = Buffer.allocUnsafe(size);
  let offset = 0;
  const header = (type: number, done: boolean): void => {
    offset = body.writeInt32BE(type, offset);
    offset = body.writeUInt8(done ? 1 : 0, offset);
    offset = body.writeInt32BE(-1, offset);
  };
  for (const read of reads) {
    header(read.op, false);
    const length = body.write(read.path, offset + 4);
    body.writeInt32BE(length, offset);
    offset = body.writeUInt8(0, offset + 4 + length);
  }
  header(-1, true);
  return new WireRequest(OP_MULTI_READ, body, (reply) => {
    const results: ZkReadResult[] = [];
    for (;;) {
      const type = reply.int();
      const done = reply.bool();
      reply.int();
      if (done) break;
      const op = reads[results.length]?.op;
      if (type === MULTI_ERROR) results.push({ error: reply.int() });
      else if (type !== op) throw new Error(`multiRead reply ${results.length}: op ${type}, asked ${op}`);
      else results.push(type === OP_GET_DATA ? readData(reply) : readChildren(reply));
    }
    if (results.length !== reads.length) throw new Error('multiRead reply: not one answer per read');
    return results;
  });
}

export function existsRequest(path: string, watch: boolean): WireRequest<ZkStat> {
  return new WireRequest(OP_EXISTS, pathAndFlag(path, watch), (reply) => reply.stat());
}

export function addWatchRequest(path: string, mode: number): WireRequest<true> {
  return new WireRequest(OP_ADD_WATCH, pathAndInt(path, mode), () => true);
}

export function removeRecursiveWatchRequest(path: string): WireRequest<true> {
  return new WireRequest(OP_REMOVE_WATCHES, pathAndInt(path, WATCHER_ANY), () => true);
}

function pathAndInt(path: string, value: number): Buffer {
  const length = Buffer.byteLength(path);
  const body = Buffer.allocUnsafe(4 + length + 4);
  body.writeInt32BE(length, 0);
  body.write(path, 4);
  body.writeInt32BE(value, 4 + length);
  return body;
}

function pathAndFlag(path: string, flag: boolean): Buffer {
  const length = Buffer.byteLength(path);
  const body = Buffer.allocUnsafe(4 + length + 1);
  body.writeInt32BE(length, 0);
  body.write(path, 4);
  body.writeUInt8(flag ? 1 : 0, 4 + length);
  return body;
}

/** Reads jute fields off a reply body in order. */
export class Reader {
  constructor(
    private readonly frame: Buffer,
    private offset: number,
  ) {}

  bool(): boolean {
    return this.frame.readUInt8(this.offset++) !== 0;
  }

  int(): number {
    const value = this.frame.readInt32BE(this.offset);
    this.offset += 4;
    return value;
  }

  /** A 64-bit zxid as a number: exact while the epoch stays below 2^21. */
  long(): number {
    const value = this.frame.readUInt32BE(this.offset) * 2 ** 32 + this.frame.readUInt32BE(this.offset + 4);
    this.offset += 8;
    return value;
  }

  buffer(): Buffer | undefined {
    const length = this.int();
    if (length < 0) return undefined;
    const value = this.frame.subarray(this.offset, this.offset + length);
    this.offset += length;
    return value;
  }

  string(): string {
    return this.buffer()?.toString('utf8') ?? '';
  }

  /** czxid, mzxid, ctime, mtime, version, cversion, aversion, ephemeralOwner, dataLength, numChildren, pzxid. */
  stat(): ZkStat {
    const czxid = this.long();
    const mzxid = this.long();
    this.offset += 8 + 8 + 4 + 4 + 4 + 8 + 4;
    const numChildren = this.int();
    const pzxid = this.long();
    return { czxid, mzxid, pzxid, numChildren };
  }
}
