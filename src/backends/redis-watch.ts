import type { Redis } from 'ioredis';
import { BackendError, toError } from '../errors.js';
import { cleanKey, keyIsUnder } from '../key-path.js';
import type { Logger } from '../logging/logger.js';
import { changedKeys } from './changed-keys.js';
import { keyspaceChannelPrefix, type RedisKeyMapper } from './redis-keys.js';
import { SharedWatches, type WatchSource } from './shared-watches.js';
import type { KVPairs, PrefixWatch, WatchResult } from './store-client.js';
import { concerning, untilAborted, WatchEventBuffer, type WatchChange } from './watch-event-buffer.js';

/** What the watch needs from the Redis client. */
export interface RedisWatchSource {
  backend: string;
  endpoints: readonly string[];
  keys: RedisKeyMapper;
  logger: Logger;
  /** How often a prefix is read again when the server sends no keyspace notifications. */
  pollIntervalMs: number;
  /** A connection of its own to the first node that accepts one (BackendError otherwise). */
  openConnection(): Promise<Redis>;
  /** The server's notify-keyspace-events flags, or why it would not tell (CONFIG refused). */
  notifyKeyspaceEvents(): Promise<{ flags: string } | { refused: string }>;
  getValues(keys: readonly string[]): Promise<KVPairs>;
}

/**
 * Keyspace notification classes a watch needs: K (keyspace channels), g (DEL, EXPIRE, RENAME ...), $
 * (strings), h (hashes), x (expired keys), e (evicted keys). 'A' stands for g$lshzxet.
 */
const REQUIRED_EVENT_CLASSES = ['K', 'g', '$', 'h', 'x', 'e'];

/** The classes `flags` (a notify-keyspace-events value) lacks for watching; empty when it has them all. */
export function missingEventClasses(flags: string): string[] {
  const set = new Set(flags.includes('A') ? `${flags}g$lshzxet` : flags);
  return REQUIRED_EVENT_CLASSES.filter((c) => !set.has(c));
}

interface Feed {
  readonly changes: WatchEventBuffer;
  /** Stops the feed; its waiters reject with `err`. */
  end(err: unknown): void;
}

/**
 * Redis watches, one per prefix for the whole client. With keyspace notifications on, each prefix is one
 * PSUBSCRIBE pattern on a single subscriber connection and every notification is a change, counted by an
 * index of the client's own (Redis has no revision). With notifications off (confd-ts never turns them on:
 * the server's configuration is its operator's), each prefix is read every poll interval and compared.
 * Index numbers continue across failures, so an index from before a lost connection always asks for a
 * full re-read instead of silently missing what happened meanwhile.
 */
export class RedisWatchHub {
  private index = 0;
  private readonly watches: SharedWatches<RedisPrefixSource>;
  private subscriber: Promise<KeyspaceSubscriber> | undefined;
  private warnedPolling = false;
  private closed = false;

  constructor(private readonly source: RedisWatchSource) {
    this.watches = new SharedWatches((root) => new RedisPrefixSource(root, this), {
      backend: source.backend,
      endpoints: source.endpoints,
    });
  }

  /**
   * Arms the watch on `prefix`. A changed key may be a hash: its fields are under it, so a change is
   * relevant to a holder when it covers one of its keys as well as when it lies under one.
   */
  watch(prefix: string, signal?: AbortSignal): Promise<PrefixWatch> {
    if (this.closed) return Promise.reject(this.error('client is closed'));
    return this.watches.acquire(cleanKey(prefix), signal);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const subscriber = this.subscriber;
    this.subscriber = undefined;
    await Promise.all([
      this.watches.closeAll(this.error('client is closed')),
      subscriber?.then((s) => s.close()).catch(() => undefined),
    ]);
  }

  private nextIndex(): number {
    return ++this.index;
  }

  /** @internal RedisPrefixSource: starts the feed of one prefix. */
  async openFeed(root: string, onEnd: () => void): Promise<Feed> {
    if (!this.subscriber && !(await this.notificationsOn())) {
      return PollFeed.open(root, this.source, () => this.nextIndex(), onEnd);
    }
    return this.subscribe(root, this.subscriber ?? this.startSubscriber(), onEnd);
  }

  private async subscribe(
    root: string,
    starting: Promise<KeyspaceSubscriber>,
    onEnd: () => void,
  ): Promise<Feed> {
    const subscriber = await starting;
    const changes = new WatchEventBuffer(this.nextIndex());
    const { keys } = this.source;
    const pattern = keys.keyspacePattern(subscriber.db, root);
    await subscriber.add(
      pattern,
      (name) => {
        const key = keys.toKey(name);
        if (keyIsUnder(key, root)) changes.record([{ index: this.nextIndex(), key }]);
      },
      (err) => {
        changes.fail(err);
        onEnd();
      },
    );
    if (this.closed) throw this.error('client is closed');
    return {
      changes,
      end: (err) => {
        changes.fail(err);
        onEnd();
        void subscriber.remove(pattern);
      },
    };
  }

  private startSubscriber(): Promise<KeyspaceSubscriber> {
    const starting = KeyspaceSubscriber.open(this.source, () => {
      if (this.subscriber === starting) this.subscriber = undefined;
    });
    starting.catch(() => {
      if (this.subscriber === starting) this.subscriber = undefined;
    });
    this.subscriber = starting;
    return starting;
  }

  /** Asked each time a subscriber is about to start: the server may have been reconfigured or replaced. */
  private async notificationsOn(): Promise<boolean> {
    const { backend, endpoints, logger, pollIntervalMs } = this.source;
    const answer = await this.source.notifyKeyspaceEvents();
    const seconds = pollIntervalMs / 1000;
    let why: string;
    if ('refused' in answer) {
      why = `cannot read notify-keyspace-events (${answer.refused})`;
    } else {
      const missing = missingEventClasses(answer.flags);
      if (missing.length === 0) {
        this.warnedPolling = false;
        return true;
      }
      why = `keyspace notifications are off or incomplete (notify-keyspace-events is "${answer.flags}", lacking ${missing.join('')})`;
    }
    if (!this.warnedPolling) {
      this.warnedPolling = true;
      logger.warn(
        `${backend}: ${why} at ${endpoints.join(', ')}: watching by reading the keys every ${seconds} s instead (-watch-poll). ` +
          'To be told of changes at once, set "notify-keyspace-events KA" in redis.conf ' +
          '(or run CONFIG SET notify-keyspace-events KA); confd-ts does not change the server configuration itself.',
      );
    }
    return false;
  }

  private error(what: string): BackendError {
    const { backend, endpoints } = this.source;
    return new BackendError(`${backend}: ${what}`, backend, endpoints);
  }
}

/** One watched prefix: its feed (a pattern subscription or a poll), opened once; a failed one stays failed. */
class RedisPrefixSource implements WatchSource {
  private opening: Promise<Feed> | undefined;
  private failure: Error | undefined;

  constructor(
    private readonly root: string,
    private readonly hub: RedisWatchHub,
  ) {}

  get failed(): boolean {
    return this.failure !== undefined;
  }

  async arm(signal: AbortSignal): Promise<number> {
    const feed = await untilAborted(this.open(), signal);
    return feed.changes.latest;
  }

  async wait(afterIndex: number, keys: readonly string[], signal: AbortSignal): Promise<WatchResult> {
    if (this.failure !== undefined) throw this.failure;
    const feed = await untilAborted(this.open(), signal);
    return feed.changes.wait(afterIndex, signal, concerning(keys));
  }

  close(err: BackendError): Promise<void> {
    this.failure ??= toError(err);
    return this.opening?.then((feed) => feed.end(err)).catch(() => undefined) ?? Promise.resolve();
  }

  private open(): Promise<Feed> {
    if (!this.opening) {
      const ended = (): void => {
        this.failure ??= new BackendError('redis: the watch ended', 'redis');
      };
      this.opening = this.hub.openFeed(this.root, ended);
      this.opening.catch((err: unknown) => {
        this.failure ??= toError(err);
      });
    }
    return this.opening;
  }
}

interface PatternListener {
  onKey(name: string): void;
  onLost(err: BackendError): void;
}

/** One subscriber connection carrying one keyspace pattern per watched prefix. */
class KeyspaceSubscriber {
  private readonly patterns = new Map<string, PatternListener>();
  private closing = false;

  private constructor(
    private readonly conn: Redis,
    private readonly source: RedisWatchSource,
    readonly db: number,
  ) {
    const channelPrefix = keyspaceChannelPrefix(db);
    conn.on('pmessage', (pattern: string, channel: string) => {
      if (channel.startsWith(channelPrefix))
        this.patterns.get(pattern)?.onKey(channel.slice(channelPrefix.length));
    });
  }

  static async open(source: RedisWatchSource, onLost: () => void): Promise<KeyspaceSubscriber> {
    const conn = await source.openConnection();
    const subscriber = new KeyspaceSubscriber(conn, source, conn.options.db ?? 0);
    conn.once('end', () => {
      onLost();
      if (subscriber.closing) return;
      // Notifications sent while no one listened are gone: every watch on this connection must re-read.
      const lost = new BackendError(
        `${source.backend}: lost the keyspace notification connection to ${source.endpoints.join(', ')}`,
        source.backend,
        source.endpoints,
      );
      for (const listener of subscriber.patterns.values()) listener.onLost(lost);
      subscriber.patterns.clear();
    });
    return subscriber;
  }

  async add(
    pattern: string,
    onKey: (name: string) => void,
    onLost: (err: BackendError) => void,
  ): Promise<void> {
    this.patterns.set(pattern, { onKey, onLost });
    try {
      await this.conn.psubscribe(pattern);
    } catch (err) {
      this.patterns.delete(pattern);
      const { backend, endpoints } = this.source;
      throw new BackendError(
        `${backend}: cannot subscribe to ${pattern} at ${endpoints.join(', ')}: ${(err as Error).message}`,
        backend,
        endpoints,
        { cause: err },
      );
    }
  }

  /** The prefix was released: stop receiving its notifications. */
  async remove(pattern: string): Promise<void> {
    if (!this.patterns.delete(pattern) || this.closing || this.conn.status !== 'ready') return;
    await this.conn.punsubscribe(pattern).catch(() => undefined);
  }

  close(): void {
    this.closing = true;
    if (this.conn.status !== 'end') this.conn.disconnect();
  }
}

/** A prefix read every poll interval; each read that differs from the last is one change, per changed key. */
class PollFeed implements Feed {
  private timer: NodeJS.Timeout | undefined;
  private ended = false;

  private constructor(
    private readonly root: string,
    private readonly source: RedisWatchSource,
    private snapshot: KVPairs,
    readonly changes: WatchEventBuffer,
    private readonly nextIndex: () => number,
    private readonly onEnd: () => void,
  ) {}

  static async open(
    root: string,
    source: RedisWatchSource,
    nextIndex: () => number,
    onEnd: () => void,
  ): Promise<PollFeed> {
    const snapshot = await source.getValues([root]);
    const feed = new PollFeed(root, source, snapshot, new WatchEventBuffer(nextIndex()), nextIndex, onEnd);
    feed.schedule();
    return feed;
  }

  end(err: unknown): void {
    if (this.ended) return;
    this.ended = true;
    clearTimeout(this.timer);
    this.changes.fail(err);
    this.onEnd();
  }

  private schedule(): void {
    this.timer = setTimeout(() => void this.poll(), this.source.pollIntervalMs);
  }

  private async poll(): Promise<void> {
    let values: KVPairs;
    try {
      values = await this.source.getValues([this.root]);
    } catch (err) {
      this.end(err);
      return;
    }
    if (this.ended) return;
    const changed = changedKeys(this.snapshot, values);
    this.snapshot = values;
    if (changed.length > 0) {
      const index = this.nextIndex();
      this.changes.record(changed.map((key): WatchChange => ({ index, key })));
    }
    this.schedule();
  }
}
