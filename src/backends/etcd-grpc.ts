import type * as Http2 from 'node:http2';
import type { ClientHttp2Session, SecureClientSessionOptions } from 'node:http2';
import { EndpointRotation } from './etcd-faults.js';
import {
  EtcdRequestError,
  isInvalidToken,
  openStream,
  unaryCall,
  type GrpcCallOptions,
  type GrpcStream,
} from './etcd-grpc-call.js';
import { GRPC_FAILED_PRECONDITION } from './etcd-grpc-wire.js';
import { decodeAuthenticateResponse, encodeAuthenticateRequest, ETCD_METHODS } from './etcd-proto.js';
import { KeepAlive, type KeepAliveSettings } from './etcd-keepalive.js';
import { etcdTlsOptions } from './etcd-tls.js';
import type { TlsFiles } from './tls-files.js';
import { untilAborted } from './watch-event-buffer.js';

export { EtcdRequestError } from './etcd-grpc-call.js';

export interface EtcdGrpcOptions {
  endpoints: readonly string[];
  tls: TlsFiles;
  /** Bound for each try of a request (and for a stream to answer). */
  requestTimeoutMs: number;
  /** -basic-auth: requests carry a token got from these credentials. */
  credentials?: { username: string; password: string };
  /** Liveness pings on each connection (default KEEPALIVE, etcd-keepalive.ts). */
  keepAlive?: KeepAliveSettings;
}

/** What a caller sets on one request: its abort signal, and a deadline per try other than the default. */
export interface EtcdCall {
  signal?: AbortSignal;
  timeoutMs?: number;
}

type Token = string | undefined;

/**
 * Flow-control windows: HTTP/2's default of 64 KiB would make a 10,000-key answer (400 KB) wait for the
 * client's window updates a dozen times over; these let a large read arrive in one go.
 */
const STREAM_WINDOW = 8 << 20;
const SESSION_WINDOW = 32 << 20;

/**
 * etcd's own protocol: gRPC over HTTP/2, on node:http2, one connection per endpoint carrying every
 * request and watch of the client. Requests fail over to the next endpoint as EndpointRotation orders
 * them. With credentials, a token from Auth/Authenticate goes in the `token` metadata; a request refused
 * for an invalid (expired) token authenticates again once. The token and the password never appear in an
 * error.
 *
 * Why not @grpc/grpc-js: loading it costs ~25 ms (~17 ms bundled) of a 60 ms budget for a whole
 * `-onetime` run, and what this client needs of gRPC (unary calls, one server stream, metadata, status
 * trailers) is its plain framing (etcd-grpc-call.ts) over Node's own HTTP/2.
 */
export class EtcdGrpc {
  private readonly rotation: EndpointRotation;
  private readonly sessions = new Map<string, ClientHttp2Session>();
  private token: Promise<Token> | undefined;
  /** What `token` resolved to: a refusal of this value means it must be renewed. */
  private lastToken: Token;
  private readonly keepAlive: KeepAlive;
  private closed = false;

  private constructor(
    private readonly options: EtcdGrpcOptions,
    private readonly http2: typeof Http2,
  ) {
    this.rotation = new EndpointRotation(options.endpoints);
    this.keepAlive = new KeepAlive(options.keepAlive);
  }

  /** Loads node:http2, which brings node:tls with it (used only when an endpoint is https). */
  static async create(options: EtcdGrpcOptions): Promise<EtcdGrpc> {
    return new EtcdGrpc(options, await import('node:http2'));
  }

  /** A unary call: resolves with the decoded answer; rejects with an EtcdRequestError. */
  async call<T>(
    method: string,
    message: Uint8Array,
    decode: (bytes: Buffer) => T,
    call: EtcdCall = {},
  ): Promise<T> {
    const token = await this.currentToken(call);
    const once = async (endpoint: string, given: Token): Promise<T> =>
      decode(await this.unaryOnce(endpoint, method, message, given, call));
    try {
      return await this.failover((endpoint) => once(endpoint, token), call);
    } catch (err) {
      if (token === undefined || !isInvalidToken(err)) throw err;
      return this.failover(async (endpoint) => once(endpoint, await this.renewToken(token, call)), call);
    }
  }

  /**
   * Opens a stream (a watch) and sends `message` on it: resolves once etcd answered with its headers
   * (within the request deadline). `hasleader` (etcd's WithRequireLeader): a member cut off from its
   * cluster cancels the stream instead of keeping it open and silent, and the watch is opened again on a
   * member that has a leader.
   */
  async stream(method: string, message: Uint8Array): Promise<GrpcStream> {
    const token = await this.currentToken();
    return this.failover((endpoint) => {
      const options = this.callOptions(endpoint, method, token, {}, true);
      return this.onSession(endpoint, (session) => openStream(session, options, message));
    });
  }

  /** Authenticates now when credentials are set (so wrong ones fail at start). */
  async authenticate(call: EtcdCall = {}): Promise<void> {
    await this.currentToken(call);
  }

  /** Destroys every connection, with the requests and streams on it; later requests fail at once. */
  close(): void {
    this.closed = true;
    for (const session of this.sessions.values()) session.destroy();
    this.sessions.clear();
  }

  /**
   * The endpoint's connection, opened on first use and again after it failed, was closed by the server, or
   * the server announced it is going away (GOAWAY: it finishes what it has, and takes nothing new).
   */
  private session(endpoint: string): ClientHttp2Session {
    const open = this.sessions.get(endpoint);
    if (open && !open.closed && !open.destroyed) return open;
    const session = this.http2.connect(endpoint, {
      settings: { initialWindowSize: STREAM_WINDOW },
      ...(endpoint.startsWith('https://') ? this.tlsOptions() : {}),
    });
    const forget = (): void => {
      if (this.sessions.get(endpoint) === session) this.sessions.delete(endpoint);
    };
    // A connection's failure is its requests' (each rejects with it); the session's own event is not an
    // error of its own to report.
    session.on('error', forget);
    session.on('goaway', forget);
    session.on('close', forget);
    session.once('connect', () => session.setLocalWindowSize(SESSION_WINDOW));
    this.keepAlive.watch(session);
    this.sessions.set(endpoint, session);
    return session;
  }

  private tlsOptions(): SecureClientSessionOptions {
    return etcdTlsOptions(this.options.tls);
  }

  private callOptions(
    endpoint: string,
    method: string,
    token: Token,
    call: EtcdCall,
    stream = false,
  ): GrpcCallOptions {
    const metadata: Record<string, string> = {};
    if (token !== undefined) metadata.token = token;
    if (stream) metadata.hasleader = 'true';
    return {
      endpoint,
      method,
      metadata,
      timeoutMs: call.timeoutMs ?? this.options.requestTimeoutMs,
      ...(call.signal ? { signal: call.signal } : {}),
    };
  }

  /** One call to one endpoint (see onSession). */
  private unaryOnce(
    endpoint: string,
    method: string,
    message: Uint8Array,
    token: Token,
    call: EtcdCall,
  ): Promise<Buffer> {
    const options = this.callOptions(endpoint, method, token, call);
    return this.onSession(endpoint, (session) => unaryCall(session, options, message), call.signal);
  }

  /**
   * Runs a call (every one of this client is a read, or opens a watch) on the endpoint's connection. One
   * that fails on a connection made earlier goes again once: on a new connection when the server closed
   * the old one meanwhile (a restart) and the session had not noticed yet, on the same one when only the
   * call's own stream was reset (REFUSED_STREAM), so one stream's failure never ends the watches and
   * calls sharing its connection. After a timeout, a connection not even made yet is dropped (the next
   * call dials again instead of waiting on the same attempt), and a made one is pinged.
   */
  private async onSession<T>(
    endpoint: string,
    run: (session: ClientHttp2Session) => Promise<T>,
    signal?: AbortSignal,
  ): Promise<T> {
    const session = this.session(endpoint);
    const reused = !session.connecting;
    try {
      return await run(session);
    } catch (err) {
      if (signal?.aborted || !(err instanceof EtcdRequestError)) throw err;
      if (err.kind === 'timeout') {
        if (session.connecting) session.destroy();
        else this.keepAlive.probe(session);
      }
      if (err.kind !== 'connection' || !reused || this.closed) throw err;
      return run(this.session(endpoint));
    }
  }

  /**
   * The token for a request, fetched once for every request waiting on it: bounded by the deadline of
   * `call`, never by its signal, which only stops this caller waiting (another's abort is not ours).
   */
  private currentToken(call: EtcdCall = {}): Promise<Token> {
    if (!this.options.credentials) return Promise.resolve(undefined);
    if (this.token === undefined) {
      const token = this.fetchToken(call.timeoutMs === undefined ? {} : { timeoutMs: call.timeoutMs });
      this.token = token;
      // A failed authentication is not kept: the next request tries again.
      token.then(
        (value) => {
          if (this.token === token) this.lastToken = value;
        },
        () => {
          if (this.token === token) this.token = undefined;
        },
      );
    }
    return call.signal ? untilAborted(this.token, call.signal) : this.token;
  }

  /** The token `stale` was refused: a new one, shared by every request that saw the same refusal. */
  private renewToken(stale: Token, call: EtcdCall = {}): Promise<Token> {
    if (this.lastToken === stale) {
      this.lastToken = undefined;
      this.token = undefined;
    }
    return this.currentToken(call);
  }

  private async fetchToken(call: EtcdCall = {}): Promise<Token> {
    const { username, password } = this.options.credentials ?? { username: '', password: '' };
    const request = encodeAuthenticateRequest(username, password);
    try {
      const answer = await this.failover(
        async (endpoint) =>
          decodeAuthenticateResponse(
            await this.unaryOnce(endpoint, ETCD_METHODS.authenticate, request, undefined, call),
          ),
        call,
      );
      return answer.token;
    } catch (err) {
      // As etcd's own client does: credentials for a server without auth are not an error.
      if (
        err instanceof EtcdRequestError &&
        err.code === GRPC_FAILED_PRECONDITION &&
        /not enabled/.test(err.message)
      )
        return undefined;
      throw err;
    }
  }

  /** Runs `attempt` on each endpoint in turn until one answers; the last failure when none does. */
  private async failover<T>(attempt: (endpoint: string) => Promise<T>, call: EtcdCall = {}): Promise<T> {
    let last: unknown;
    for (const endpoint of this.rotation.order()) {
      call.signal?.throwIfAborted();
      if (this.closed) throw new EtcdRequestError('the client is closed', endpoint, 'server');
      try {
        const result = await attempt(endpoint);
        this.rotation.succeeded(endpoint);
        return result;
      } catch (err) {
        if (call.signal?.aborted || !(err instanceof EtcdRequestError) || !err.failsOver) throw err;
        this.rotation.failed(endpoint);
        last = err;
      }
    }
    throw last;
  }
}
