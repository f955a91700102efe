import type { Client as ZkLibClient } from 'node-zookeeper-client';
import { Reader, REPLY_BODY_OFFSET, WireRequest } from './zookeeper-requests.js';

/**
 * The parts of node-zookeeper-client's connection manager (not in its typings) that the tweaks below and
 * stopClient (zookeeper-session.ts) rely on. test/integration/library-internals.test.ts checks each of them
 * on a real instance of the pinned version.
 */
export interface ConnectionManagerInternals {
  state: number;
  socket?: {
    destroy(): void;
    cork(): void;
    uncork(): void;
    destroyed?: boolean;
    remoteAddress?: string;
    remotePort?: number;
  };
  connectTimeoutHandler?: NodeJS.Timeout | null;
  connect(): void;
  onSocketConnected(): void;
  onSocketData(buffer: Buffer): void;
  onSocketClosed(): void;
  /** Sent requests awaiting their reply, oldest first (replies come in order). */
  pendingQueue: { request: unknown }[];
  queue(request: object, callback: (error: unknown) => void): void;
  registerDataWatcher(path: string, watcher: (event: never) => void): void;
  registerChildWatcher(path: string, watcher: (event: never) => void): void;
  registerExistenceWatcher(path: string, watcher: (event: never) => void): void;
  /** Routes each notification to the one-shot watchers registered for its path. */
  watcherManager: { emit(event: { type: number; path: string }): void };
}

/** ConnectionManager.STATES.CONNECTED and CONNECTED_READ_ONLY of node-zookeeper-client. */
export const CONNECTED_STATES = new Set([2, 3]);

export function connectionManager(client: ZkLibClient): ConnectionManagerInternals | undefined {
  return (client as unknown as { connectionManager?: ConnectionManagerInternals }).connectionManager;
}

/** host:port of the server the manager is connected to, if it is. */
export function connectedServer(manager: ConnectionManagerInternals): string | undefined {
  const socket = manager.socket;
  if (!socket?.remoteAddress || !CONNECTED_STATES.has(manager.state)) return undefined;
  return `${socket.remoteAddress}:${String(socket.remotePort)}`;
}

/**
 * Hands the library one whole reply frame at a time. Its own reassembly copies the unread rest of a chunk
 * once per reply it takes out of it (Buffer.concat of the remainder with an empty buffer, then a recursive
 * call), which is quadratic in the number of replies per socket read: thousands of pipelined replies then
 * cost seconds of copying and garbage. Given exact frames it never buffers or copies. Must run before
 * connect(): the library binds the handler when it makes each socket, looking it up on the instance.
 */
export function frameReplies(manager: ConnectionManagerInternals): void {
  const deliver = manager.onSocketData.bind(manager);
  const connected = manager.onSocketConnected.bind(manager);
  let chunks: Buffer[] = [];
  let buffered = 0;
  /** Bytes needed before the first frame buffered is whole: a large reply is joined once, not per chunk. */
  let needed = 4;
  const reset = (): void => {
    chunks = [];
    buffered = 0;
    needed = 4;
  };
  manager.onSocketConnected = function () {
    // A new socket starts a new byte stream: nothing of the old one's partial frame belongs to it.
    reset();
    connected();
  };
  manager.onSocketData = function (data: Buffer) {
    chunks.push(data);
    buffered += data.length;
    if (buffered < needed) return;
    const buffer = chunks.length === 1 ? data : Buffer.concat(chunks, buffered);
    const socket = manager.socket;
    let offset = 0;
    needed = 4;
    while (buffer.length - offset >= 4) {
      const end = offset + 4 + buffer.readInt32BE(offset);
      if (end > buffer.length) {
        needed = end - offset;
        break;
      }
      const frame = buffer.subarray(offset, end);
      decodeOwnReply(manager, frame);
      deliver(frame);
      offset = end;
      // The library drops a socket whose replies make no sense to it; the rest of the chunk goes with it.
      if (manager.socket !== socket || socket?.destroyed) {
        reset();
        return;
      }
    }
    const rest = buffer.subarray(offset);
    chunks = rest.length > 0 ? [rest] : [];
    buffered = rest.length;
  };
}

/**
 * Gathers the requests issued in one turn of the event loop into one socket write. The library writes each
 * request on its own (one syscall each); corking until the turn ends lets the socket send them together.
 */
export function batchWrites(manager: ConnectionManagerInternals): () => void {
  let corked: ConnectionManagerInternals['socket'];
  return () => {
    const socket = manager.socket;
    if (!socket || corked === socket || socket.destroyed) return;
    corked = socket;
    socket.cork();
    setImmediate(() => {
      corked = undefined;
      socket.uncork();
    });
  };
}

/**
 * When the reply in `frame` answers one of our own requests (zookeeper-requests.ts), decodes its body onto
 * the request before the library, which only checks its header, hands it over. A body that does not decode
 * leaves no result, which the request reports as an error.
 */
function decodeOwnReply(manager: ConnectionManagerInternals, frame: Buffer): void {
  if (!CONNECTED_STATES.has(manager.state) || frame.length < REPLY_BODY_OFFSET) return;
  const head: unknown = manager.pendingQueue[0]?.request;
  if (!(head instanceof WireRequest)) return;
  const request = head as WireRequest<unknown>;
  if (frame.readInt32BE(4) !== request.header.xid || frame.readInt32BE(16) !== 0) return;
  try {
    request.result = request.decode(new Reader(frame, REPLY_BODY_OFFSET));
  } catch {
    request.result = undefined;
  }
}

/** Sends `request` through the library's queue; `done` gets its decoded reply or the library's error. */
export function send<T>(
  manager: ConnectionManagerInternals,
  request: WireRequest<T>,
  done: (error: unknown, result: T | undefined) => void,
): void {
  manager.queue(request, (error) => done(error, error ? undefined : request.result));
}

/**
 * Calls `listener` with every watch notification the session receives, before the library routes it to
 * its one-shot watchers. The library has no notion of persistent watches (ZooKeeper 3.6+): their
 * notifications reach it like any other, find no one-shot watcher, and would be dropped.
 */
export function tapNotifications(
  manager: ConnectionManagerInternals,
  listener: (event: { type: number; path: string }) => void,
): void {
  const watchers = manager.watcherManager;
  const route = watchers.emit.bind(watchers);
  watchers.emit = (event) => {
    listener({ type: event.type, path: event.path });
    route(event);
  };
}

/** How long a closing session waits for the server's answer before its socket is dropped. */
export const CLOSE_GRACE_MS = 2000;

/**
 * Ends a client for good. A connected one closes its session properly. One that is not connected must not
 * get close(): the library then marks itself CLOSING, and when a reconnect attempt still under way reaches
 * a server, it reads the server's handshake answer as an ordinary reply and throws from a socket handler
 * ("Unknown code: ...", alexguan/node-zookeeper-client#70), which would end the process. Such a client has
 * no session worth closing: its reconnect loop is stopped and its socket dropped instead. Handlers are
 * replaced on the instance, so sockets that a pending attempt opens later get the harmless ones.
 */
export function stopClient(client: ZkLibClient): void {
  const manager = connectionManager(client);
  if (!manager || CONNECTED_STATES.has(manager.state)) {
    client.close();
    // The library ends the socket once the server answers closeSession. A server that never does (stopped,
    // cut off by the network) would hold the process until the socket's idle timeout: a -onetime run from
    // cron would wait that long after its work was done. Its session then ends as a lost one does, when
    // the server expires it. Unref'd: a close the server answers ends the process at once.
    const socket = manager?.socket;
    if (socket) setTimeout(() => socket.destroy(), CLOSE_GRACE_MS).unref();
    return;
  }
  const noop = (): void => undefined;
  manager.connect = noop;
  manager.onSocketData = noop;
  manager.onSocketClosed = noop;
  manager.onSocketConnected = function (this: ConnectionManagerInternals) {
    this.socket?.destroy();
  };
  if (manager.connectTimeoutHandler) clearTimeout(manager.connectTimeoutHandler);
  manager.socket?.destroy();
}
