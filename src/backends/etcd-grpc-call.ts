import type { ClientHttp2Session, ClientHttp2Stream, IncomingHttpHeaders } from 'node:http2';
import { errorMessage } from '../errors.js';
import {
  frame,
  FrameReader,
  GRPC_OK,
  GRPC_UNAUTHENTICATED,
  GRPC_UNAVAILABLE,
  grpcMessage,
  grpcTimeout,
  httpStatusCode,
} from './etcd-grpc-wire.js';
import { abortReason } from './watch-event-buffer.js';

/**
 * One gRPC call on an HTTP/2 session, as the gRPC-over-HTTP/2 protocol has it: a POST to
 * `/<service>/<method>` with `content-type: application/grpc`, each message framed by a compression flag
 * and a 4-byte length, the outcome in the `grpc-status` and `grpc-message` trailers (or in the response
 * headers alone, for an answer with no message). Nothing is compressed: no `grpc-accept-encoding` is
 * sent, so the server sends plain frames.
 */

/**
 * One failed try of an etcd request: `kind` "connection" (refused, reset, TLS), "timeout" (no answer within
 * the deadline) or "server" (etcd answered with an error; `code` is its gRPC status code).
 */
export class EtcdRequestError extends Error {
  constructor(
    message: string,
    readonly endpoint: string,
    readonly kind: 'connection' | 'timeout' | 'server',
    readonly code?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'EtcdRequestError';
  }

  /** Worth trying another endpoint: this one is unreachable, or has no leader. */
  get failsOver(): boolean {
    return this.kind !== 'server' || this.code === GRPC_UNAVAILABLE;
  }
}

/** A request refused because its token expired or the server lost it (a restart): authenticate again. */
export function isInvalidToken(err: unknown): boolean {
  return (
    err instanceof EtcdRequestError &&
    (err.code === GRPC_UNAUTHENTICATED || /invalid auth token/i.test(err.message))
  );
}

export interface GrpcCallOptions {
  endpoint: string;
  /** `/<service>/<method>`. */
  method: string;
  /** Metadata: the auth token, etcd's `hasleader`. */
  metadata: Record<string, string>;
  /** Bound for the whole answer of a unary call, for the response headers of a stream. */
  timeoutMs: number;
  signal?: AbortSignal;
}

/** HTTP/2's CANCEL error code: how a caller that gives up ends its stream. */
const CANCEL = 8;

/** What a session carries and has received, counted here, where every one of its streams is made. */
export interface SessionActivity {
  /** Calls and watches open on it now. */
  open: number;
  /** Responses and data chunks received on it so far: a count that moved means the peer is alive. */
  received: number;
}

const activities = new WeakMap<ClientHttp2Session, SessionActivity>();

function activityOf(session: ClientHttp2Session): SessionActivity {
  let activity = activities.get(session);
  if (!activity) {
    activity = { open: 0, received: 0 };
    activities.set(session, activity);
  }
  return activity;
}

export const sessionActivity: (session: ClientHttp2Session) => Readonly<SessionActivity> = activityOf;

function request(session: ClientHttp2Session, options: GrpcCallOptions, stream: boolean): ClientHttp2Stream {
  const made = session.request(
    {
      ':method': 'POST',
      ':path': options.method,
      'content-type': 'application/grpc',
      te: 'trailers',
      // The server gives up when the caller does: a unary call's deadline travels with it.
      ...(stream ? {} : { 'grpc-timeout': grpcTimeout(options.timeoutMs) }),
      ...options.metadata,
    },
    { endStream: false },
  );
  const activity = activityOf(session);
  activity.open += 1;
  made.once('close', () => (activity.open -= 1));
  const received = (): void => void (activity.received += 1);
  made.on('response', received);
  made.on('data', received);
  return made;
}

/**
 * The outcome a response's headers or trailers carry: undefined for OK (or no status yet), else the
 * server's error. An answer that is not gRPC at all (a proxy's page, an HTTP/2 server that is not etcd)
 * is an error naming its HTTP status, with the gRPC code gRPC maps that status to; its body is not ours
 * to repeat.
 */
function statusError(endpoint: string, headers: IncomingHttpHeaders): EtcdRequestError | undefined {
  const status = headers['grpc-status'];
  if (status === undefined) {
    const http = Number(headers[':status'] ?? 0);
    const type = String(headers['content-type'] ?? '');
    if (http !== 0 && (http !== 200 || !type.startsWith('application/grpc')))
      return new EtcdRequestError(
        `not a gRPC answer (HTTP ${http})`,
        endpoint,
        'server',
        httpStatusCode(http),
      );
    return undefined;
  }
  const code = Number(status);
  if (code === GRPC_OK) return undefined;
  return new EtcdRequestError(
    grpcMessage(headers['grpc-message']) || `gRPC status ${code}`,
    endpoint,
    'server',
    code,
  );
}

/** A failed stream as an EtcdRequestError; an abort stays the signal's reason. */
export function connectionError(endpoint: string, err: unknown): EtcdRequestError {
  if (err instanceof EtcdRequestError) return err;
  return new EtcdRequestError(errorMessage(err), endpoint, 'connection', undefined, { cause: err });
}

export function timeoutError(endpoint: string, timeoutMs: number): EtcdRequestError {
  const message = `deadline exceeded: no answer from ${endpoint} within ${timeoutMs} ms`;
  return new EtcdRequestError(message, endpoint, 'timeout');
}

/**
 * A unary call: sends `message`, resolves with the one message of the answer. Rejects with an
 * EtcdRequestError (the server's status, the deadline, the connection), or the signal's reason when it
 * aborts; the stream is cancelled either way, so no call is left running.
 */
export function unaryCall(
  session: ClientHttp2Session,
  options: GrpcCallOptions,
  message: Uint8Array,
): Promise<Buffer> {
  const { endpoint, signal, timeoutMs } = options;
  return new Promise<Buffer>((resolve, reject) => {
    if (signal?.aborted) {
      reject(abortReason(signal));
      return;
    }
    const stream = request(session, options, false);
    const reader = new FrameReader();
    const messages: Buffer[] = [];
    let failure: Error | undefined;
    /** Whether the headers or trailers carried a grpc-status: an answer without one did not end. */
    let status = false;
    let settled = false;
    const finish = (err: Error | undefined, answer?: Buffer): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      if (err !== undefined) {
        if (!stream.closed) stream.close(CANCEL);
        reject(err);
      } else resolve(answer as Buffer);
    };
    const timer = setTimeout(() => finish(timeoutError(endpoint, timeoutMs)), timeoutMs);
    const onAbort = (): void => finish(abortReason(signal as AbortSignal));
    signal?.addEventListener('abort', onAbort, { once: true });
    const onStatus = (headers: IncomingHttpHeaders): void => {
      status ||= headers['grpc-status'] !== undefined;
      failure ??= statusError(endpoint, headers);
    };
    stream.on('response', onStatus);
    stream.on('trailers', onStatus);
    stream.on('data', (chunk: Buffer) => {
      try {
        for (const m of reader.push(chunk)) messages.push(m);
      } catch (err) {
        failure ??= new EtcdRequestError(errorMessage(err), endpoint, 'server');
      }
    });
    stream.once('error', (err) => finish(connectionError(endpoint, err)));
    stream.once('close', () => {
      if (failure !== undefined) finish(failure);
      else if (stream.rstCode !== undefined && stream.rstCode !== 0)
        finish(
          connectionError(endpoint, new Error(`stream reset by ${endpoint} (HTTP/2 code ${stream.rstCode})`)),
        );
      // Ended with no status: the answer was cut off on the way (a connection or proxy gone), not given.
      else if (!status)
        finish(
          connectionError(endpoint, new Error(`the answer from ${endpoint} ended without a gRPC status`)),
        );
      else if (reader.partial || messages.length !== 1)
        finish(
          new EtcdRequestError(`an answer of ${messages.length} messages, one expected`, endpoint, 'server'),
        );
      else finish(undefined, messages[0]);
    });
    stream.end(frame(message));
  });
}

/**
 * An open server stream (a watch): the request stays open, so the call lasts until either side ends it.
 * Messages are handed to `read`'s callback as they complete; `onEnd` runs once, with the error (the
 * server's status, the connection's) that ended the stream, or none for a clean end.
 */
export interface GrpcStream {
  readonly endpoint: string;
  read(onMessage: (message: Buffer) => void, onEnd: (err?: Error) => void): void;
  /** Cancels the stream at once: no answer from the server is waited for. */
  destroy(): void;
}

/**
 * Opens a stream and sends `message` on it; resolves once the server answered with its headers (within the
 * deadline), rejects as unaryCall does.
 */
export function openStream(
  session: ClientHttp2Session,
  options: GrpcCallOptions,
  message: Uint8Array,
): Promise<GrpcStream> {
  const { endpoint, signal, timeoutMs } = options;
  return new Promise<GrpcStream>((resolve, reject) => {
    if (signal?.aborted) {
      reject(abortReason(signal));
      return;
    }
    const stream = request(session, options, true);
    let opened = false;
    let ended: { err?: Error } | undefined;
    let consumer: { onMessage: (m: Buffer) => void; onEnd: (err?: Error) => void } | undefined;
    const queued: Buffer[] = [];
    const reader = new FrameReader();
    let failure: EtcdRequestError | undefined;
    const end = (err?: Error): void => {
      if (ended) return;
      ended = { ...(err ? { err } : {}) };
      consumer?.onEnd(err);
    };
    const fail = (err: unknown): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      if (!stream.closed) stream.close(CANCEL);
      reject(err);
    };
    const timer = setTimeout(() => fail(timeoutError(endpoint, timeoutMs)), timeoutMs);
    const onAbort = (): void => fail(abortReason(signal as AbortSignal));
    signal?.addEventListener('abort', onAbort, { once: true });
    stream.on('response', (headers) => {
      failure ??= statusError(endpoint, headers);
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      if (failure) {
        fail(failure);
        return;
      }
      opened = true;
      resolve({
        endpoint,
        read(onMessage, onEnd) {
          consumer = { onMessage, onEnd };
          for (const m of queued.splice(0)) onMessage(m);
          if (ended) onEnd(ended.err);
        },
        destroy() {
          if (!stream.closed) stream.close(CANCEL);
        },
      });
    });
    stream.on('trailers', (trailers: IncomingHttpHeaders) => {
      failure ??= statusError(endpoint, trailers);
    });
    stream.on('data', (chunk: Buffer) => {
      let messages: Buffer[];
      try {
        messages = reader.push(chunk);
      } catch (err) {
        failure ??= new EtcdRequestError(errorMessage(err), endpoint, 'server');
        stream.close(CANCEL);
        return;
      }
      for (const m of messages) {
        if (consumer) consumer.onMessage(m);
        else queued.push(m);
      }
    });
    stream.once('error', (err) => {
      if (!opened) fail(connectionError(endpoint, err));
      else end(failure ?? connectionError(endpoint, err));
    });
    // The server ending its side (its status in the trailers) ends the call: this side, kept open for the
    // call's life, is closed with it.
    stream.once('end', () => {
      if (opened) end(failure);
      if (!stream.closed) stream.close();
    });
    stream.once('close', () => {
      if (!opened) fail(failure ?? connectionError(endpoint, new Error(`stream closed by ${endpoint}`)));
      else end(failure);
    });
    stream.write(frame(message));
  });
}
