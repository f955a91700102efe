import type { ClientHttp2Session } from 'node:http2';
import { monotonicMs } from '../monotonic-ms.js';
import { sessionActivity } from './etcd-grpc-call.js';

/**
 * An HTTP/2 PING on a connection that has been quiet for `intervalMs` while carrying a call or a watch, and
 * on one whose call timed out; a PING neither answered nor overtaken by any data within `timeoutMs` drops
 * the connection.
 */
export interface KeepAliveSettings {
  intervalMs: number;
  timeoutMs: number;
  /** No two pings of a connection closer together than this (MIN_PING_GAP_MS unless given). */
  minGapMs?: number;
}

/**
 * etcd's own client as Go confd configures it (DialKeepAliveTime 10 s, DialKeepAliveTimeout 3 s). A peer
 * that goes silent without a reset (its host gone, a firewall dropping packets) leaves a connection that
 * looks open: its watches would wait on it for good and its requests time out one by one until TCP gives
 * up, ~15 minutes later. An unanswered PING ends it: the watches reconnect, the requests dial again.
 */
export const KEEPALIVE: KeepAliveSettings = { intervalMs: 10_000, timeoutMs: 3_000 };

/**
 * etcd's server (grpc-go's enforcement policy: MinTime 5 s, PermitWithoutStream false) counts a ping
 * sooner than 5 s after the last one, or any ping on a connection without streams, as a strike, and sends
 * a client with three away (GOAWAY too_many_pings), taking its watches with it. No two pings of a
 * connection are sent closer together than this.
 */
const MIN_PING_GAP_MS = 5_000;

interface Liveness {
  /** When the last PING was sent (monotonicMs()), or -Infinity. */
  lastPingAt: number;
  /** The PING awaiting its verdict: a late answer to an earlier one must not settle this one. */
  inFlight: object | undefined;
  /** sessionActivity's `received` at the last periodic check: unchanged means a quiet interval. */
  receivedAtCheck: number;
}

/** The keepalive of a client's connections (as grpc-go's client keepalive, with its server's limits). */
export class KeepAlive {
  private readonly state = new WeakMap<ClientHttp2Session, Liveness>();

  constructor(private readonly settings: KeepAliveSettings = KEEPALIVE) {}

  /** Starts the periodic check of a new session; it stops with the session. */
  watch(session: ClientHttp2Session): void {
    this.state.set(session, { lastPingAt: -Infinity, inFlight: undefined, receivedAtCheck: 0 });
    // Unref'd: a -onetime run ends when its work does, not at the next check.
    const checks = setInterval(() => this.check(session), this.settings.intervalMs);
    checks.unref();
    session.once('close', () => clearInterval(checks));
  }

  /**
   * A call on `session` timed out: ping it now (within the rate limit), so a dead connection is dropped
   * before the next call waits on it too.
   */
  probe(session: ClientHttp2Session): void {
    this.ping(session);
  }

  /** Pings a connection that carries something and received nothing since the last check. */
  private check(session: ClientHttp2Session): void {
    const liveness = this.state.get(session);
    const activity = sessionActivity(session);
    if (!liveness) return;
    const quiet = activity.received === liveness.receivedAtCheck;
    liveness.receivedAtCheck = activity.received;
    if (quiet && activity.open > 0) this.ping(session);
  }

  private ping(session: ClientHttp2Session): void {
    const liveness = this.state.get(session);
    if (!liveness || liveness.inFlight) return;
    if (session.connecting || session.destroyed || session.closed) return;
    if (monotonicMs() - liveness.lastPingAt < (this.settings.minGapMs ?? MIN_PING_GAP_MS)) return;
    const { timeoutMs } = this.settings;
    const receivedAtPing = sessionActivity(session).received;
    const attempt = {};
    const done = (): void => {
      clearTimeout(silent);
      if (liveness.inFlight === attempt) liveness.inFlight = undefined;
    };
    const silent = setTimeout(() => {
      // Decided after one more turn of the event loop's I/O phase: an answer already waiting in the
      // socket (a loop blocked for seconds, a paused VM) is read before the timer's verdict stands.
      setImmediate(() => {
        if (liveness.inFlight !== attempt) return;
        liveness.inFlight = undefined;
        // Data that arrived meanwhile (a large answer the PING's ack queues behind) proves the peer alive.
        if (sessionActivity(session).received !== receivedAtPing) return;
        session.destroy(new Error(`no answer to a keepalive ping within ${timeoutMs} ms`));
      }).unref();
    }, timeoutMs);
    silent.unref();
    liveness.inFlight = attempt;
    liveness.lastPingAt = monotonicMs();
    // An error here is the session's own end (destroyed, closed): nothing left to watch.
    if (!session.ping(done)) done();
  }
}
