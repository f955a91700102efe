import type { Redis } from 'ioredis';
import { BackendError } from '../errors.js';
import { cleanKey, keyIsUnder } from '../key-path.js';
import type { Logger } from '../logging/logger.js';
import { changedKeys } from './changed-keys.js';
import { keyspaceChannelPrefix, type RedisKeyMapper } from './redis-keys.js';
import type { KVPairs, WatchOptions, WatchResult } from './store-client.js';
import { untilAborted, WatchEventBuffer, type WatchChange } from './watch-event-buffer.js';

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
  private readonly feeds = new Map<string, Promise<Feed>>();
  private subscriber: Promise<KeyspaceSubscriber> | undefined;
  private warnedPolling = false;
  private closed = false;

  constructor(private readonly source: RedisWatchSource) {}

  /**
   * `waitIndex` 0 arms the watch on `prefix` and returns the index to wait from; otherwise resolves with
   * the changes to `keys` after `waitIndex`. A changed key may be a hash: its fields are under it, so a key
   * is relevant when it covers one of `keys` as well as when it lies under one.
   */
  async watch(prefix: string, keys: readonly string[], options: WatchOptions): Promise<WatchResult> {
    const { waitIndex, signal } = options;
    signal.throwIfAborted();
    if (this.closed) throw this.error('client is closed');
    const feed = await untilAborted(this.feed(cleanKey(prefix)), signal);
    if (waitIndex <= 0) return { index: feed.changes.latest };
    return feed.changes.wait(waitIndex, signal, relatedTo(keys));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const feeds = [...this.feeds.values()];
    this.feeds.clear();
    const subscriber = this.subscriber;
    this.subscriber = undefined;
    const closed = this.error('client is closed');
    await Promise.all([
      ...feeds.map((f) => f.then((feed) => feed.end(closed)).catch(() => undefined)),
      subscriber?.then((s) => s.close()).catch(() => undefined),
    ]);
  }

  private nextIndex(): number {
    return ++this.index;
  }

  private feed(root: string): Promise<Feed> {
    const existing = this.feeds.get(root);
    if (existing) return existing;
    const forget = (): void => {
      if (this.feeds.get(root) === opening) this.feeds.delete(root);
    };
    const opening = this.openFeed(root, forget);
    opening.catch(forget);
    this.feeds.set(root, opening);
    return opening;
  }

  private async openFeed(root: string, onEnd: () => void): Promise<Feed> {
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
    await subscriber.add(
      keys.keyspacePattern(subscriber.db, root),
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
        `${backend}: ${why} at ${endpoints.join(', ')}: watching by reading the keys every ${seconds} s instead. ` +
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

/** The filter for one caller: a change to a key under one of `keys`, or to a key (a hash) holding one. */
function relatedTo(keys: readonly string[]): (key: string) => boolean {
  const bases = keys.map(cleanKey);
  if (bases.length === 0) return () => true;
  return (key) => bases.some((base) => keyIsUnder(key, base) || keyIsUnder(base, key));
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
