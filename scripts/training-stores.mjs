// Stand-ins for etcd, Consul, Redis and ZooKeeper that answer the calls a `-onetime` read makes, for the
// code cache's training runs (scripts/code-cache.mjs) only: `npm ci` builds dist/ on a machine that may
// run no store, and a cache trained without the store client holds none of its code, which every run of
// that backend then compiles (etcd, 1,000 keys: ~3 ms of a ~66 ms run). They are not stores and not test
// doubles: they serve fixed pairs, hold nothing between runs and answer only the calls below. A call
// they do not know gets the protocol's own refusal (gRPC UNIMPLEMENTED, HTTP 500, a Redis error, a
// ZooKeeper error code), which fails the training run, and so the build, when the client needs the
// answer. The tests run against the real servers (scripts/stores.sh).
//
//   etcd (gRPC over cleartext HTTP/2): Maintenance/Status, and KV/Txn of ranges (the client's read).
//   Consul (HTTP): /v1/status/leader (the agent probe), /v1/kv/<key>, recursive or not.
//   Redis (RESP2, or RESP3 after HELLO 3): ioredis's HELLO, CLIENT SETINFO and INFO (its ready check),
//   PING, GET, SCAN, MGET, HGETALL, QUIT.
//   ZooKeeper (jute over TCP): the session handshake, the `srvr` four-letter word, getData, getChildren,
//   exists, multiRead (3.6+), ping and closeSession.
import { createServer as createHttp2Server } from 'node:http2';
import { createServer as createHttpServer } from 'node:http';
import { createServer as createTcpServer } from 'node:net';
import { Buffer } from 'node:buffer';
import { URL } from 'node:url';
import { BinaryReader, BinaryWriter, WireType } from '@bufbuild/protobuf/wire';

/** Starts the stand-in for `backend` serving `pairs` (absolute keys, sorted); resolves with its node. */
export function startTrainingStore(backend, pairs) {
  if (backend === 'etcdv3') return listen(etcdServer(pairs));
  if (backend === 'consul') return listen(consulServer(pairs));
  if (backend === 'redis') return listen(redisServer(pairs));
  if (backend === 'zookeeper') return listen(zookeeperServer(pairs));
  throw new Error(`training-stores: no stand-in for -backend ${backend}`);
}

async function listen(server) {
  // A server closes once its connections have: a client that left one open must not hold the build.
  const sockets = new Set();
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address();
  const close = () =>
    new Promise((resolve) => {
      server.close(resolve);
      for (const socket of sockets) socket.destroy();
    });
  return { node: `127.0.0.1:${port}`, close };
}

// --------------------------------------------------------------------------------------------- etcd

const REVISION = 7;

function etcdServer(pairs) {
  const server = createHttp2Server();
  server.on('stream', (stream, headers) => {
    const chunks = [];
    stream.on('data', (chunk) => chunks.push(chunk));
    stream.on('end', () => {
      const path = headers[':path'];
      const request = Buffer.concat(chunks).subarray(5); // one message, after its 5-byte gRPC prefix
      let answer;
      if (path === '/etcdserverpb.Maintenance/Status') answer = new BinaryWriter().finish();
      else if (path === '/etcdserverpb.KV/Txn') answer = txnResponse(request, pairs);
      stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
      stream.on('wantTrailers', () =>
        stream.sendTrailers(
          answer
            ? { 'grpc-status': '0' }
            : { 'grpc-status': '12', 'grpc-message': `training stand-in: no ${path}` },
        ),
      );
      if (answer) {
        const frame = Buffer.alloc(5 + answer.length);
        frame.writeUInt32BE(answer.length, 1);
        frame.set(answer, 5);
        stream.end(frame);
      } else stream.end();
    });
  });
  return server;
}

/** A TxnResponse answering each RangeRequest of the request's success ops from `pairs`. */
function txnResponse(request, pairs) {
  const writer = new BinaryWriter();
  writeHeader(writer);
  writer.tag(2, WireType.Varint).bool(true);
  const reader = new BinaryReader(request);
  while (reader.pos < reader.len) {
    const [field, type] = reader.tag();
    if (field !== 2) {
      reader.skip(type);
      continue;
    }
    const op = new BinaryReader(reader.bytes());
    while (op.pos < op.len) {
      const [opField, opType] = op.tag();
      if (opField !== 1) {
        op.skip(opType);
        continue;
      }
      const { key, rangeEnd } = readRangeRequest(op.bytes());
      // ResponseOp.response_range (1): RangeResponse{header (1), kvs (2), count (4)}.
      writer.tag(3, WireType.LengthDelimited).fork().tag(1, WireType.LengthDelimited).fork();
      writeHeader(writer);
      const found = pairs.filter(([k]) => (rangeEnd === undefined ? k === key : k >= key && k < rangeEnd));
      for (const [k, v] of found) {
        // mvccpb.KeyValue: key (1), create_revision (2), mod_revision (3), version (4), value (5).
        writer.tag(2, WireType.LengthDelimited).fork();
        writer.tag(1, WireType.LengthDelimited).string(k);
        writer.tag(2, WireType.Varint).int64(REVISION).tag(3, WireType.Varint).int64(REVISION);
        writer.tag(4, WireType.Varint).int64(1).tag(5, WireType.LengthDelimited).string(v);
        writer.join();
      }
      writer.tag(4, WireType.Varint).int64(found.length).join().join();
    }
  }
  return writer.finish();
}

/** ResponseHeader: cluster_id (1), member_id (2), revision (3), raft_term (4). */
function writeHeader(writer) {
  writer.tag(1, WireType.LengthDelimited).fork();
  writer.tag(1, WireType.Varint).uint64(1).tag(2, WireType.Varint).uint64(1);
  writer.tag(3, WireType.Varint).int64(REVISION).tag(4, WireType.Varint).uint64(2);
  writer.join();
}

/** RangeRequest's key (1) and range_end (2); the rest (revision, limit) changes nothing here. */
function readRangeRequest(bytes) {
  const reader = new BinaryReader(bytes);
  const range = { key: '', rangeEnd: undefined };
  while (reader.pos < reader.len) {
    const [field, type] = reader.tag();
    if (field === 1) range.key = reader.string();
    else if (field === 2) range.rangeEnd = reader.string();
    else reader.skip(type);
  }
  return range;
}

// ------------------------------------------------------------------------------------------- Consul

function consulServer(pairs) {
  return createHttpServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://consul');
    const answer = (status, body) => {
      res.writeHead(status, { 'content-type': 'application/json', 'x-consul-index': String(REVISION) });
      res.end(body === undefined ? '' : JSON.stringify(body));
    };
    if (url.pathname === '/v1/status/leader') return answer(200, '127.0.0.1:8300');
    if (url.pathname.startsWith('/v1/kv/')) {
      // Consul's keys have no leading '/'; a recursive read is every key that starts with the path.
      const path = decodeURIComponent(url.pathname.slice('/v1/kv/'.length));
      const recurse = url.searchParams.get('recurse') !== null;
      const entries = pairs
        .map(([key, value]) => [key.slice(1), value])
        .filter(([key]) => (recurse ? key.startsWith(path) : key === path))
        .map(([Key, value]) => ({
          Key,
          Value: Buffer.from(value).toString('base64'),
          Flags: 0,
          CreateIndex: REVISION,
          ModifyIndex: REVISION,
          LockIndex: 0,
        }));
      return entries.length === 0 ? answer(404) : answer(200, entries);
    }
    res.writeHead(500, { 'content-type': 'text/plain' });
    res.end(`training stand-in: no ${req.method} ${url.pathname}`);
  });
}

// -------------------------------------------------------------------------------------------- Redis

function redisServer(pairs) {
  const values = new Map(pairs);
  const names = pairs.map(([key]) => key);
  const bulk = (text) => `$${Buffer.byteLength(text)}\r\n${text}\r\n`;
  const array = (items) => `*${items.length}\r\n${items.join('')}`;
  // Per connection: RESP2 until the client asks HELLO 3 (ioredis 6 does), then RESP3's null and maps.
  const answer = ([command = '', ...args], connection) => {
    const nil = connection.resp3 ? '_\r\n' : '$-1\r\n';
    const value = (name) => (values.has(name) ? bulk(values.get(name)) : nil);
    switch (command.toUpperCase()) {
      case 'HELLO':
        connection.resp3 = args[0] === '3';
        return `${connection.resp3 ? '%3' : '*6'}\r\n${bulk('server')}${bulk('redis')}${bulk('version')}${bulk('7.0.0')}${bulk('proto')}:${connection.resp3 ? 3 : 2}\r\n`;
      case 'CLIENT':
      case 'QUIT':
        return '+OK\r\n';
      case 'PING':
        return '+PONG\r\n';
      case 'INFO':
        return bulk('# Server\r\nredis_version:7.0.0\r\n# Persistence\r\nloading:0\r\n');
      case 'GET':
        return value(args[0]);
      case 'MGET':
        return array(args.map(value));
      case 'HGETALL':
        // Every name here holds a string: what HGETALL answers for one.
        if (values.has(args[0]))
          return '-WRONGTYPE Operation against a key holding the wrong kind of value\r\n';
        return connection.resp3 ? '%0\r\n' : '*0\r\n';
      case 'SCAN': {
        // One page, the whole keyspace: SCAN 0 MATCH <glob> COUNT <n>.
        const at = args.findIndex((a) => a.toUpperCase() === 'MATCH');
        const match = globRegExp(at < 0 ? '*' : (args[at + 1] ?? '*'));
        return array([bulk('0'), array(names.filter((name) => match.test(name)).map(bulk))]);
      }
      default:
        return `-ERR training stand-in: no ${command}\r\n`;
    }
  };
  return createTcpServer((socket) => {
    const connection = { resp3: false };
    let buffer = Buffer.alloc(0);
    socket.on('data', (chunk) => {
      buffer = Buffer.concat([buffer, chunk]);
      for (;;) {
        const request = readRequest(buffer);
        if (!request) return;
        buffer = buffer.subarray(request.end);
        socket.write(answer(request.args, connection));
        if (request.args[0]?.toUpperCase() === 'QUIT') socket.end();
      }
    });
    socket.on('error', () => socket.destroy());
  });
}

/** One RESP request (an array of bulk strings) at the start of `buffer`, or undefined until it is whole. */
function readRequest(buffer) {
  const line = (from) => {
    const end = buffer.indexOf('\r\n', from);
    return end < 0 ? undefined : { text: buffer.toString('latin1', from, end), next: end + 2 };
  };
  const head = line(0);
  if (!head) return undefined;
  if (!head.text.startsWith('*')) throw new Error(`training stand-in: not a RESP array: ${head.text}`);
  const args = [];
  let at = head.next;
  for (let i = 0; i < Number(head.text.slice(1)); i += 1) {
    const size = line(at);
    if (!size) return undefined;
    const length = Number(size.text.slice(1));
    if (buffer.length < size.next + length + 2) return undefined;
    args.push(buffer.toString('utf8', size.next, size.next + length));
    at = size.next + length + 2;
  }
  return { args, end: at };
}

/** A MATCH glob as a regular expression: `*`, `?` and backslash escapes (the patterns the client sends). */
function globRegExp(glob) {
  let source = '';
  for (let i = 0; i < glob.length; i += 1) {
    const c = glob[i];
    if (c === '*') source += '.*';
    else if (c === '?') source += '.';
    else {
      const literal = c === '\\' && i + 1 < glob.length ? glob[++i] : c;
      source += literal.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    }
  }
  return new RegExp(`^${source}$`, 's');
}

// ---------------------------------------------------------------------------------------- ZooKeeper

const ZK = { exists: 3, getData: 4, getChildren: 8, ping: 11, multiRead: 22, closeSession: -11 };
const NO_NODE = -101;
const UNIMPLEMENTED = -6;

function zookeeperServer(pairs) {
  // The tree the pairs make: every key a node holding its value, every prefix of one a node without data.
  const data = new Map([['/', '']]);
  const children = new Map([['/', new Set()]]);
  for (const [key, value] of pairs) {
    const parts = key.split('/').filter(Boolean);
    for (let i = 1; i <= parts.length; i += 1) {
      const path = `/${parts.slice(0, i).join('/')}`;
      const parent = i === 1 ? '/' : `/${parts.slice(0, i - 1).join('/')}`;
      if (!data.has(path)) data.set(path, '');
      if (!children.has(path)) children.set(path, new Set());
      children.get(parent).add(parts[i - 1]);
    }
    data.set(key, value);
  }
  /** One read's reply body, or an error code. */
  const read = (op, path) => {
    if (!data.has(path)) return NO_NODE;
    const writer = new JuteWriter();
    if (op === ZK.getData)
      writer.buffer(Buffer.from(data.get(path))).stat(data.get(path), children.get(path));
    else if (op === ZK.getChildren) writer.strings([...children.get(path)].sort());
    else if (op === ZK.exists) writer.stat(data.get(path), children.get(path));
    else return UNIMPLEMENTED;
    return writer.bytes();
  };
  const reply = (xid, err, body = Buffer.alloc(0)) => {
    const head = new JuteWriter().int(xid).long(1).int(err).bytes();
    return frame(Buffer.concat([head, body]));
  };
  const answer = (request) => {
    const xid = request.readInt32BE(0);
    const op = request.readInt32BE(4);
    const body = new JuteReader(request.subarray(8));
    if (op === ZK.ping || op === ZK.closeSession) return reply(xid, 0);
    if (op === ZK.multiRead) {
      const writer = new JuteWriter();
      for (;;) {
        const type = body.int();
        const done = body.bool();
        body.int();
        if (done) break;
        const path = body.string();
        body.bool(); // watch: a multiRead's reads never are
        const result = read(type, path);
        if (typeof result === 'number') writer.int(-1).bool(false).int(result).int(result);
        else writer.int(type).bool(false).int(0).raw(result);
      }
      return reply(xid, 0, writer.int(-1).bool(true).int(-1).bytes());
    }
    const result = read(op, body.string());
    return typeof result === 'number' ? reply(xid, result) : reply(xid, 0, result);
  };
  return createTcpServer((socket) => {
    let buffer = Buffer.alloc(0);
    let connected = false;
    socket.on('data', (chunk) => {
      buffer = Buffer.concat([buffer, chunk]);
      if (!connected && buffer.toString('latin1', 0, 4) === 'srvr') {
        socket.end('Zookeeper version: 3.8.0-training, built on 1970-01-01\nMode: standalone\n');
        return;
      }
      while (buffer.length >= 4 && buffer.length >= 4 + buffer.readInt32BE(0)) {
        const request = buffer.subarray(4, 4 + buffer.readInt32BE(0));
        buffer = buffer.subarray(4 + request.length);
        if (!connected) {
          // ConnectResponse: protocolVersion, timeOut, sessionId, passwd.
          connected = true;
          const timeOut = request.readInt32BE(12);
          const response = new JuteWriter().int(0).int(timeOut).long(0x7e57).buffer(Buffer.alloc(16, 1));
          socket.write(frame(response.bytes()));
        } else {
          socket.write(answer(request));
          // As a server does: the connection ends with the session.
          if (request.readInt32BE(4) === ZK.closeSession) socket.end();
        }
      }
    });
    socket.on('error', () => socket.destroy());
  });
}

const frame = (body) => Buffer.concat([new JuteWriter().int(body.length).bytes(), body]);

/** ZooKeeper's jute encoding: big-endian ints and longs, length-prefixed buffers and strings. */
class JuteWriter {
  parts = [];
  int(n) {
    const b = Buffer.alloc(4);
    b.writeInt32BE(n);
    return this.raw(b);
  }
  long(n) {
    const b = Buffer.alloc(8);
    b.writeBigInt64BE(BigInt(n));
    return this.raw(b);
  }
  bool(v) {
    return this.raw(Buffer.from([v ? 1 : 0]));
  }
  buffer(b) {
    return this.int(b.length).raw(b);
  }
  strings(list) {
    this.int(list.length);
    for (const s of list) this.buffer(Buffer.from(s));
    return this;
  }
  /** Stat: czxid, mzxid, ctime, mtime, version, cversion, aversion, ephemeralOwner, dataLength, numChildren, pzxid. */
  stat(value, kids) {
    this.long(1).long(1).long(0).long(0).int(0).int(0).int(0).long(0);
    return this.int(Buffer.byteLength(value)).int(kids.size).long(1);
  }
  raw(b) {
    this.parts.push(b);
    return this;
  }
  bytes() {
    return Buffer.concat(this.parts);
  }
}

class JuteReader {
  constructor(buffer) {
    this.buffer = buffer;
    this.at = 0;
  }
  int() {
    this.at += 4;
    return this.buffer.readInt32BE(this.at - 4);
  }
  bool() {
    this.at += 1;
    return this.buffer[this.at - 1] !== 0;
  }
  string() {
    const length = this.int();
    this.at += length;
    return this.buffer.toString('utf8', this.at - length, this.at);
  }
}
