import { expect } from 'chai';
import {
  createServer,
  type Http2Server,
  type IncomingHttpHeaders,
  type ServerHttp2Session,
  type ServerHttp2Stream,
} from 'node:http2';
import { constants } from 'node:http2';
import {
  connect,
  createServer as createTcpServer,
  type AddressInfo,
  type Server,
  type Socket,
} from 'node:net';
import { once } from 'node:events';
import { EtcdRequestError } from '../../../src/backends/etcd-grpc-call.js';
import { frame, FrameReader, grpcTimeout } from '../../../src/backends/etcd-grpc-wire.js';
import { EtcdGrpc } from '../../../src/backends/etcd-grpc.js';

type Handler = (stream: ServerHttp2Stream, headers: IncomingHttpHeaders, message: Buffer) => void;

/** An HTTP/2 server that plays etcd's gRPC server with `handler`, one request message per call. */
async function fakeEtcd(handler: Handler): Promise<{ endpoint: string; server: Http2Server }> {
  const server = createServer();
  server.on('stream', (stream, headers) => {
    const reader = new FrameReader();
    let answered = false;
    stream.on('data', (chunk: Buffer) => {
      for (const message of reader.push(chunk)) {
        if (answered) continue;
        answered = true;
        handler(stream, headers, message);
      }
    });
    stream.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

/** Answers with `message` and grpc-status 0. */
function ok(stream: ServerHttp2Stream, message: Buffer): void {
  stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
  stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
  stream.end(frame(message));
}

const echo = (message: Buffer): Buffer => message;

/**
 * A TCP proxy in front of `endpoint` whose `freeze()` stops forwarding on the connections it has (a peer
 * gone silent without a reset: its host vanished, a firewall drops its packets); new ones pass. With
 * `dropPingAcks`, the server's answers to PINGs never reach the client (an ack stuck behind a slow link),
 * every other HTTP/2 frame does.
 */
async function freezingProxy(
  endpoint: string,
  { dropPingAcks = false } = {},
): Promise<{ endpoint: string; server: Server; freeze(): void }> {
  const target = new URL(endpoint);
  const frozen = new Set<Socket>();
  const open: Socket[] = [];
  const server = createTcpServer((client) => {
    const upstream = connect(Number(target.port), target.hostname);
    open.push(client);
    let pending = Buffer.alloc(0);
    const toClient = (d: Buffer): void => {
      if (!dropPingAcks) return void client.write(d);
      // HTTP/2 frames: a 9-byte header (length 3, type 1, flags 1, stream 4), then the payload.
      pending = Buffer.concat([pending, d]);
      while (pending.length >= 9) {
        const size = 9 + pending.readUIntBE(0, 3);
        if (pending.length < size) break;
        const isPingAck = pending[3] === 0x6 && ((pending[4] ?? 0) & 0x1) === 0x1;
        if (!isPingAck) client.write(pending.subarray(0, size));
        pending = pending.subarray(size);
      }
    };
    client.on('data', (d: Buffer) => void (frozen.has(client) || upstream.write(d)));
    upstream.on('data', (d: Buffer) => void (frozen.has(client) || toClient(d)));
    for (const socket of [client, upstream]) socket.on('error', () => undefined);
    client.on('close', () => upstream.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    server,
    freeze: () => open.splice(0).forEach((socket) => frozen.add(socket)),
  };
}

/** Opens a watch-like stream on `grpc`; `ended` resolves with how it ended. */
async function openWatch(grpc: EtcdGrpc): Promise<{ ended: Promise<Error | undefined> }> {
  const stream = await grpc.stream('/etcdserverpb.Watch/Watch', Buffer.from('watch'));
  return { ended: new Promise((resolve) => stream.read(() => undefined, resolve)) };
}

/** Answers a watch with its headers and keeps it open; `ok` otherwise. */
const watchOrEcho: Handler = (stream, headers, message) => {
  if (headers[':path'] === '/etcdserverpb.Watch/Watch')
    stream.respond({ ':status': 200, 'content-type': 'application/grpc' });
  else ok(stream, message);
};

describe('etcd gRPC calls (EtcdGrpc against a fake HTTP/2 server)', () => {
  const servers: Http2Server[] = [];
  const clients: EtcdGrpc[] = [];
  const serve = async (handler: Handler): Promise<string> => {
    const { endpoint, server } = await fakeEtcd(handler);
    servers.push(server);
    return endpoint;
  };
  const client = async (endpoints: string[], extra: Partial<Parameters<typeof EtcdGrpc.create>[0]> = {}) => {
    const grpc = await EtcdGrpc.create({
      endpoints,
      tls: { insecure: false },
      requestTimeoutMs: 300,
      ...extra,
    });
    clients.push(grpc);
    return grpc;
  };
  const failure = async (call: Promise<unknown>): Promise<EtcdRequestError> => {
    try {
      await call;
    } catch (err) {
      expect(err).to.be.instanceOf(EtcdRequestError);
      return err as EtcdRequestError;
    }
    throw new Error('the call succeeded');
  };
  /** The error an aborted call rejected with (the signal's reason). */
  const aborted = async (call: Promise<unknown>): Promise<Error> => {
    try {
      await call;
    } catch (err) {
      return err as Error;
    }
    throw new Error('the call succeeded');
  };

  const proxies: Server[] = [];

  afterEach(() => {
    clients.splice(0).forEach((c) => c.close());
    servers.splice(0).forEach((s) => s.close());
    proxies.splice(0).forEach((p) => p.close());
  });

  it('sends a framed POST to the method with the gRPC headers, and decodes the one answer', async () => {
    let seen: IncomingHttpHeaders | undefined;
    const endpoint = await serve((stream, headers, message) => {
      seen = headers;
      ok(stream, Buffer.concat([message, Buffer.from('!')]));
    });
    const grpc = await client([endpoint]);
    const answer = await grpc.call('/etcdserverpb.KV/Range', Buffer.from('ask'), (b) =>
      Buffer.from(b).toString(),
    );
    expect(answer).to.equal('ask!');
    expect(seen).to.include({
      ':method': 'POST',
      ':path': '/etcdserverpb.KV/Range',
      'content-type': 'application/grpc',
      te: 'trailers',
      'grpc-timeout': '300m',
    });
    expect(seen?.token).to.equal(undefined);
  });

  it("reports the server's status and its percent-encoded message; a trailers-only answer too", async () => {
    const endpoint = await serve((stream) => {
      stream.respond(
        {
          ':status': 200,
          'content-type': 'application/grpc',
          'grpc-status': '7',
          'grpc-message': 'etcdserver: permission denied %E2%9C%97',
        },
        { endStream: true },
      );
    });
    const err = await failure((await client([endpoint])).call('/m', Buffer.alloc(0), echo));
    expect(err.kind).to.equal('server');
    expect(err.code).to.equal(7);
    expect(err.message).to.equal('etcdserver: permission denied ✗');
    expect(err.failsOver).to.equal(false);
  });

  it('names the HTTP status of an answer that is not gRPC, without repeating its body', async () => {
    const endpoint = await serve((stream) => {
      stream.respond({ ':status': 404, 'content-type': 'text/html' });
      stream.end('<html>secret page</html>');
    });
    const err = await failure((await client([endpoint])).call('/m', Buffer.alloc(0), echo));
    expect(err.message).to.equal('not a gRPC answer (HTTP 404)');
  });

  it('fails a call with no answer at its deadline, as a timeout that fails over', async () => {
    const endpoint = await serve(() => undefined);
    const err = await failure((await client([endpoint])).call('/m', Buffer.alloc(0), echo));
    expect(err.kind).to.equal('timeout');
    expect(err.message).to.match(/deadline exceeded: no answer from http:\/\/127\.0\.0\.1:\d+ within 300 ms/);
    expect(err.failsOver).to.equal(true);
  });

  it('fails over from a silent endpoint to one that answers, and stays there', async () => {
    let silentCalls = 0;
    const silent = await serve(() => void (silentCalls += 1));
    const live = await serve((stream, _headers, message) => ok(stream, message));
    const grpc = await client([silent, live]);
    expect(Buffer.from(await grpc.call('/m', Buffer.from('a'), echo)).toString()).to.equal('a');
    expect(Buffer.from(await grpc.call('/m', Buffer.from('b'), echo)).toString()).to.equal('b');
    expect(silentCalls).to.equal(1);
  });

  it('rejects an aborted call with the signal’s reason', async () => {
    const endpoint = await serve(() => undefined);
    const grpc = await client([endpoint]);
    const controller = new AbortController();
    const call = grpc.call('/m', Buffer.alloc(0), echo, { signal: controller.signal });
    setImmediate(() => controller.abort());
    expect((await aborted(call)).name).to.equal('AbortError');
  });

  it('rejects an answer of two messages or of a message cut short', async () => {
    const two = await serve((stream) => {
      stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
      stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
      stream.end(Buffer.concat([frame(Buffer.from('a')), frame(Buffer.from('b'))]));
    });
    expect((await failure((await client([two])).call('/m', Buffer.alloc(0), echo))).message).to.match(
      /2 messages/,
    );
    const cut = await serve((stream) => {
      stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
      stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
      stream.end(frame(Buffer.from('abcdef')).subarray(0, 7));
    });
    expect((await failure((await client([cut])).call('/m', Buffer.alloc(0), echo))).message).to.match(
      /0 messages/,
    );
  });

  it('goes again on a new connection when the server closed the one it had (a restart)', async () => {
    const sessions = new Set<ServerHttp2Session>();
    const { endpoint, server } = await fakeEtcd((stream, _headers, message) => {
      sessions.add(stream.session as ServerHttp2Session);
      ok(stream, message);
    });
    servers.push(server);
    const sockets: Socket[] = [];
    server.on('connection', (socket: Socket) => sockets.push(socket));
    const grpc = await client([endpoint]);
    await grpc.call('/m', Buffer.from('1'), echo);
    // The server drops the connection without a word (no GOAWAY).
    for (const socket of sockets) socket.destroy();
    expect(Buffer.from(await grpc.call('/m', Buffer.from('2'), echo)).toString()).to.equal('2');
    expect(sessions.size).to.equal(2);
  });

  it('sends the token as metadata, and authenticates again once when it is refused as invalid', async () => {
    const tokens: Array<string | undefined> = [];
    let issued = 0;
    const endpoint = await serve((stream, headers, message) => {
      if (headers[':path'] === '/etcdserverpb.Auth/Authenticate') {
        issued += 1;
        // AuthenticateResponse.token (2): "t1", then "t2".
        ok(stream, Buffer.from([0x12, 2, 0x74, 0x30 + issued]));
        return;
      }
      const token = headers.token as string | undefined;
      tokens.push(token);
      if (token === 't1' && issued === 1) {
        stream.respond(
          {
            ':status': 200,
            'content-type': 'application/grpc',
            'grpc-status': '16',
            'grpc-message': 'etcdserver: invalid auth token',
          },
          { endStream: true },
        );
        return;
      }
      ok(stream, message);
    });
    const grpc = await client([endpoint], { credentials: { username: 'app', password: 'pw' } });
    await grpc.authenticate();
    expect(Buffer.from(await grpc.call('/m', Buffer.from('x'), echo)).toString()).to.equal('x');
    expect(tokens).to.deep.equal(['t1', 't2']);
    expect(issued).to.equal(2);
  });

  it('opens a stream with hasleader, hands its messages over as they come, and reports its end', async () => {
    let seen: IncomingHttpHeaders | undefined;
    const endpoint = await serve((stream, headers) => {
      seen = headers;
      stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
      stream.write(Buffer.concat([frame(Buffer.from('created')), frame(Buffer.from('event'))]));
      setTimeout(() => {
        stream.on('wantTrailers', () =>
          stream.sendTrailers({ 'grpc-status': '14', 'grpc-message': 'etcdserver: no leader' }),
        );
        stream.end();
      }, 20);
    });
    const grpc = await client([endpoint]);
    const stream = await grpc.stream('/etcdserverpb.Watch/Watch', Buffer.from('watch'));
    const messages: string[] = [];
    const ended = await new Promise<Error | undefined>((resolve) =>
      stream.read((m) => messages.push(m.toString()), resolve),
    );
    expect(seen?.hasleader).to.equal('true');
    expect(seen?.['grpc-timeout']).to.equal(undefined);
    expect(messages).to.deep.equal(['created', 'event']);
    expect(ended).to.be.instanceOf(EtcdRequestError);
    expect((ended as EtcdRequestError).code).to.equal(14);
  });

  it('writes the deadline in at most 8 digits, in the largest unit it needs (gRPC’s limit)', () => {
    expect(grpcTimeout(300)).to.equal('300m');
    expect(grpcTimeout(0.2)).to.equal('1m');
    expect(grpcTimeout(99_999_999)).to.equal('99999999m');
    expect(grpcTimeout(100_000_000)).to.equal('100000S');
    expect(grpcTimeout(2_147_483_647)).to.equal('2147484S');
    expect(grpcTimeout(1e12)).to.equal('16666667M');
  });

  it('fails over from a proxy’s 503 (UNAVAILABLE), and takes its 404 as UNIMPLEMENTED', async () => {
    const unavailable = await serve((stream) => {
      stream.respond({ ':status': 503, 'content-type': 'text/plain' });
      stream.end('upstream down');
    });
    const live = await serve((stream, _headers, message) => ok(stream, message));
    const grpc = await client([unavailable, live]);
    expect(Buffer.from(await grpc.call('/m', Buffer.from('a'), echo)).toString()).to.equal('a');
    const missing = await serve((stream) => {
      stream.respond({ ':status': 404 });
      stream.end();
    });
    const err = await failure((await client([missing])).call('/m', Buffer.alloc(0), echo));
    expect(err.code).to.equal(12);
    expect(err.failsOver).to.equal(false);
  });

  it('takes an answer that ends without a grpc-status as cut off (a connection failure), not as given', async () => {
    const endpoint = await serve((stream, _headers, message) => {
      stream.respond({ ':status': 200, 'content-type': 'application/grpc' });
      stream.end(frame(message));
    });
    const err = await failure((await client([endpoint])).call('/m', Buffer.from('a'), echo));
    expect(err.kind).to.equal('connection');
    expect(err.message).to.match(/ended without a gRPC status/);
    expect(err.failsOver).to.equal(true);
  });

  it('goes again on the same connection when only its stream was refused, leaving the others on it', async () => {
    const sessions = new Set<ServerHttp2Session>();
    let refused = 0;
    let slow: (() => void) | undefined;
    const endpoint = await serve((stream, headers, message) => {
      sessions.add(stream.session as ServerHttp2Session);
      if (headers[':path'] === '/refuse' && refused++ === 0) stream.close(constants.NGHTTP2_REFUSED_STREAM);
      else if (headers[':path'] === '/slow') slow = () => ok(stream, message);
      else watchOrEcho(stream, headers, message);
    });
    const grpc = await client([endpoint], { requestTimeoutMs: 5_000 });
    const watch = await openWatch(grpc);
    let watchEnded = false;
    void watch.ended.then(() => (watchEnded = true));
    const pending = grpc.call('/slow', Buffer.from('s'), echo);
    expect(Buffer.from(await grpc.call('/refuse', Buffer.from('r'), echo)).toString()).to.equal('r');
    slow?.();
    expect(Buffer.from(await pending).toString()).to.equal('s');
    expect(refused).to.equal(2);
    expect(sessions.size).to.equal(1);
    expect(watchEnded).to.equal(false);
  });

  it('drops a connection that stops answering pings: its watch ends and the next call dials again', async () => {
    const { endpoint, server } = await fakeEtcd(watchOrEcho);
    servers.push(server);
    const proxy = await freezingProxy(endpoint);
    proxies.push(proxy.server);
    const grpc = await client([proxy.endpoint], {
      keepAlive: { intervalMs: 20, timeoutMs: 50, minGapMs: 0 },
    });
    await grpc.call('/m', Buffer.from('1'), echo);
    const watch = await openWatch(grpc);
    proxy.freeze();
    const ended = await watch.ended;
    expect(ended?.message).to.match(/no answer to a keepalive ping within 50 ms/);
    expect(Buffer.from(await grpc.call('/m', Buffer.from('2'), echo)).toString()).to.equal('2');
  });

  it('pings a connection whose call timed out, and dials again once the ping goes unanswered', async () => {
    const { endpoint, server } = await fakeEtcd(watchOrEcho);
    servers.push(server);
    const proxy = await freezingProxy(endpoint);
    proxies.push(proxy.server);
    // No periodic ping in this test's time: only the timeout's.
    const grpc = await client([proxy.endpoint], { keepAlive: { intervalMs: 3_600_000, timeoutMs: 50 } });
    await grpc.call('/m', Buffer.from('1'), echo);
    proxy.freeze();
    const redial = once(proxy.server, 'connection');
    expect((await failure(grpc.call('/m', Buffer.from('2'), echo))).kind).to.equal('timeout');
    // The unanswered ping closes the frozen connection; the next call makes a new one.
    const next = grpc.call('/m', Buffer.from('3'), echo);
    await redial;
    expect(Buffer.from(await next).toString()).to.equal('3');
  });

  it('never pings a connection that carries nothing (etcd sends such a client away)', async () => {
    const pings = new Map<ServerHttp2Session, number>();
    let idleSession: ServerHttp2Session | undefined;
    let busyPinged: (() => void) | undefined;
    const { endpoint, server } = await fakeEtcd((stream, headers, message) => {
      if (headers[':path'] === '/idle') idleSession = stream.session as ServerHttp2Session;
      watchOrEcho(stream, headers, message);
    });
    servers.push(server);
    server.on('session', (session: ServerHttp2Session) =>
      session.on('ping', () => {
        pings.set(session, (pings.get(session) ?? 0) + 1);
        if (session !== idleSession && (pings.get(session) ?? 0) >= 3) busyPinged?.();
      }),
    );
    // The server's own PING is a marker on the idle connection: its answer comes after every frame the
    // client sent before it, so any client ping sent earlier has been counted when the answer arrives.
    const counted = async (): Promise<number> => {
      const session = idleSession as ServerHttp2Session;
      await new Promise<void>((resolve, reject) =>
        session.ping((error) => (error ? reject(error) : resolve())),
      );
      return pings.get(session) ?? 0;
    };
    const keepAlive = { intervalMs: 5, timeoutMs: 1_000, minGapMs: 0 };
    const idle = await client([endpoint], { keepAlive });
    await idle.call('/idle', Buffer.from('1'), echo);
    // The call was open while it lasted: a ping during it (a loaded machine, a quiet 5 ms) is correct.
    const duringCall = await counted();
    // A second client with a watch is the clock: three of its pings, and the idle client's interval,
    // made before it with the same period, has come round at least twice.
    const busy = await client([endpoint], { keepAlive });
    const pinged = new Promise<void>((resolve) => (busyPinged = resolve));
    await openWatch(busy);
    await pinged;
    expect(await counted()).to.equal(duringCall);
  });

  it('keeps a connection whose ping answer is late while data keeps arriving on it', async () => {
    let sending: NodeJS.Timeout | undefined;
    const { endpoint, server } = await fakeEtcd((stream, headers, message) => {
      if (headers[':path'] !== '/etcdserverpb.Watch/Watch') return ok(stream, message);
      stream.respond({ ':status': 200, 'content-type': 'application/grpc' });
      sending = setInterval(() => stream.write(frame(Buffer.from('event'))), 15);
      stream.on('close', () => clearInterval(sending));
    });
    servers.push(server);
    const proxy = await freezingProxy(endpoint, { dropPingAcks: true });
    proxies.push(proxy.server);
    const grpc = await client([proxy.endpoint], {
      keepAlive: { intervalMs: 10, timeoutMs: 40, minGapMs: 0 },
    });
    const stream = await grpc.stream('/etcdserverpb.Watch/Watch', Buffer.from('watch'));
    let events = 0;
    let twenty: (() => void) | undefined;
    const ended = new Promise<Error | undefined>((resolve) =>
      stream.read(() => void (++events === 20 && twenty?.()), resolve),
    );
    let endedEarly = false;
    void ended.then(() => (endedEarly = events < 20));
    // Twenty events take ~300 ms: several pings went unanswered meanwhile, each overtaken by data.
    await new Promise<void>((resolve) => (twenty = resolve));
    expect(endedEarly).to.equal(false);
    // The data stops: the next ping goes unanswered with nothing else arriving, and the connection goes.
    clearInterval(sending);
    expect((await ended)?.message).to.match(/no answer to a keepalive ping within 40 ms/);
  });

  it('sends no second ping within the minimum gap (etcd counts pings closer than 5 s as abuse)', async () => {
    let pings = 0;
    const { endpoint, server } = await fakeEtcd((stream, headers, message) => {
      if (headers[':path'] !== '/silent') ok(stream, message);
    });
    servers.push(server);
    server.on('session', (session: ServerHttp2Session) => session.on('ping', () => void (pings += 1)));
    const grpc = await client([endpoint], {
      requestTimeoutMs: 100,
      keepAlive: { intervalMs: 3_600_000, timeoutMs: 1_000, minGapMs: 3_600_000 },
    });
    await grpc.call('/m', Buffer.from('1'), echo);
    for (const n of ['2', '3'])
      expect((await failure(grpc.call('/silent', Buffer.from(n), echo))).kind).to.equal('timeout');
    // A ping sent before this call reaches the server before it (one connection, in order).
    await grpc.call('/m', Buffer.from('4'), echo);
    expect(pings).to.equal(1);
  });

  it('fetches the token once for concurrent callers: one caller’s abort is its own', async () => {
    let release: (() => void) | undefined;
    const endpoint = await serve((stream, headers, message) => {
      if (headers[':path'] === '/etcdserverpb.Auth/Authenticate')
        release = () => ok(stream, Buffer.from([0x12, 2, 0x74, 0x31]));
      else ok(stream, message);
    });
    const grpc = await client([endpoint], {
      credentials: { username: 'app', password: 'pw' },
      requestTimeoutMs: 5_000,
    });
    const controller = new AbortController();
    const first = grpc.call('/m', Buffer.from('a'), echo, { signal: controller.signal });
    const second = grpc.call('/m', Buffer.from('b'), echo);
    controller.abort();
    expect((await aborted(first)).name).to.equal('AbortError');
    while (release === undefined) await new Promise((r) => setImmediate(r));
    release();
    expect(Buffer.from(await second).toString()).to.equal('b');
  });
});
