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

export function getDataRequest(path: string, watch: boolean): WireRequest<{ data: string; stat: ZkStat }> {
  return new WireRequest(OP_GET_DATA, pathAndFlag(path, watch), (reply) => {
    const data = reply.buffer();
    return { data: data ? data.toString('utf8') : '', stat: reply.stat() };
  });
}

/** GET_CHILDREN (no stat in the reply: nothing here needs it). */
export function getChildrenRequest(path: string, watch: boolean): WireRequest<{ children: string[] }> {
  return new WireRequest(OP_GET_CHILDREN, pathAndFlag(path, watch), (reply) => {
    const count = reply.int();
    const children: string[] = [];
    for (let i = 0; i < count; i += 1) children.push(reply.string());
    return { children };
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
