import { setAll } from '../kv-pairs.js';
import { BackendError, errorMessage, toError } from '../errors.js';
import { cleanKey } from '../key-path.js';
import type { Logger } from '../logging/logger.js';
import { etcdEndpoints } from './etcd-endpoints.js';
import { etcdBackendError, type EtcdErrorContext } from './etcd-errors.js';
import { EtcdGrpc } from './etcd-grpc.js';
import {
  decodeRangeResponse,
  decodeTxnResponse,
  encodeRangeRequest,
  encodeTxnRequest,
  ETCD_METHODS,
  STATUS_REQUEST,
  type RangeRequest,
} from './etcd-proto.js';
import { EtcdPrefixWatch, watchRange, type EtcdWatchSettings } from './etcd-watch.js';
import { SharedWatches, type WatchSource } from './shared-watches.js';
import { resolveSrvNodes } from './srv-nodes.js';
import type {
  BackendOptions,
  KVPairs,
  PrefixWatch,
  RequestOptions,
  StoreClient,
  WatchResult,
} from './store-client.js';
import { hasTlsFiles, loadTlsFiles } from './tls-files.js';
import { concerning, untilAborted } from './watch-event-buffer.js';
import { sameValues, selectUnder, WatchedCopy } from './watched-copy.js';

/** etcd's default --max-txn-ops: no transaction may carry more operations. */
export const ETCD_MAX_TXN_OPS = 128;

/** Tuning and test seams. */
export interface EtcdClientHooks {
  /** How long a watch may stay disconnected while it reconnects; default: the connect timeout. */
  disconnectGraceMs?: number;
  /** Runs before each watch is sent to the server, with the revision it starts at. */
  beforeWatch?(info: { prefix: string; startRevision: number }): void | Promise<void>;
  /**
   * Called after each transaction with the revision it asked for (0 = latest) and the revision it read.
   * May be async; getValues waits for it before the next transaction.
   */
  afterTxn?(info: { requestedRevision: number; revision: number; operations: number }): void | Promise<void>;
}

/** What the gRPC transport requires of Node.js, loaded when it connects (see BackendModule.loadNodeModules). */
export function loadNodeModules(): Promise<unknown> {
  return import('node:http2');
}

/**
 * etcd v3 backend (`-backend etcd` and `-backend etcdv3`), over etcd's gRPC API (see EtcdGrpc). Reads are transactions pinned to one revision, so a single getValues
 * is a consistent snapshot however many keys it reads. Resolves only once the store answered (see
 * checkConnection).
 */
export async function createClient(
  options: BackendOptions,
  logger: Logger,
  hooks: EtcdClientHooks = {},
): Promise<EtcdStoreClient> {
  const backend = options.backend;
  const nodes = await resolveSrvNodes(options);
  const tls = await loadTlsFiles(options, backend);
  const endpoints = etcdEndpoints(nodes, options.scheme, hasTlsFiles(tls), backend);
  const username = options.basicAuth ? (options.username ?? '') : undefined;
  const context: EtcdErrorContext = { backend, endpoints, ...(username !== undefined ? { username } : {}) };
  const grpc = await EtcdGrpc.create({
    endpoints,
    tls,
    requestTimeoutMs: options.requestTimeoutMs,
    ...(username !== undefined ? { credentials: { username, password: options.password ?? '' } } : {}),
  });
  const usesTls = endpoints.some((e) => e.startsWith('https://'));
  if (tls.insecure && usesTls) {
    logger.warn(
      `${backend}: -client-insecure set: the server certificate of ${endpoints.join(', ')} is not verified`,
    );
  }
  logger.debug(
    `${backend}: endpoints ${endpoints.join(', ')}${usesTls ? ' (TLS)' : ''}${username !== undefined ? `, user ${username}` : ''}`,
  );
  const client = new EtcdStoreClient(grpc, context, options.connectTimeoutMs, logger, hooks);
  try {
    await client.checkConnection();
  } catch (err) {
    await client.close();
    throw err;
  }
  return client;
}

export class EtcdStoreClient implements StoreClient {
  private revision = 0;
  private closed = false;
  private readonly watches: SharedWatches<EtcdWatchSource>;

  constructor(
    private readonly grpc: EtcdGrpc,
    private readonly context: EtcdErrorContext,
    private readonly timeoutMs: number,
    private readonly logger: Logger,
    private readonly hooks: EtcdClientHooks = {},
  ) {
    this.watches = new SharedWatches(
      (root) => new EtcdWatchSource(root, this.watchSettings(), (prefix) => this.readPrefix(prefix)),
      context,
    );
  }

  /** The store revision the last getValues read at; 0 before the first read. */
  lastRevision(): number {
    return this.revision;
  }

  /**
   * When one watched prefix covers every key, the answer comes from the copy its watch keeps in step (see
   * watched-copy.ts): one revision, like a read. Otherwise everything is read in one snapshot; a copy is
   * never mixed with a read, nor two copies (each is at the revision its own stream has reached). A
   * `fresh` read that finds a copy wrong drops it (a stream that stopped delivering, say).
   */
  async getValues(keys: readonly string[], options: RequestOptions = {}): Promise<KVPairs> {
    if (keys.length === 0) return new Map();
    const bases = [...new Set(keys.map(cleanKey))];
    if (!options.fresh) {
      const copied = this.fromOneCopy(bases);
      if (copied) return copied;
    }
    const values = await this.readValues(bases, options.signal);
    if (options.fresh) this.checkCopies(bases, values);
    return values;
  }

  private fromOneCopy(bases: readonly string[]): KVPairs | undefined {
    for (const source of this.watches.sources()) {
      const copied: KVPairs = new Map();
      const complete = bases.every((base) => {
        const values = source.valuesUnder(base);
        if (values) setAll(copied, values);
        return values !== undefined;
      });
      if (complete) return copied;
    }
    return undefined;
  }

  /** Drops the copy of every watch whose values for `bases` differ from what the store just answered. */
  private checkCopies(bases: readonly string[], read: KVPairs): void {
    for (const source of this.watches.sources()) {
      for (const base of bases) {
        const copied = source.valuesUnder(base);
        if (copied && !sameValues(copied, selectUnder(read, base))) {
          source.dropCopy();
          break;
        }
      }
    }
  }

  private async readValues(bases: readonly string[], signal: AbortSignal | undefined): Promise<KVPairs> {
    const doing = `reading ${describeKeys(bases)}`;
    try {
      return await this.readSnapshot(bases, signal);
    } catch (err) {
      if (signal?.aborted) throw err;
      // The pinned revision can be compacted away between two transactions: read again at the newest one.
      if (!/compacted/i.test(errorMessage(err))) throw etcdBackendError(err, this.context, doing);
    }
    try {
      return await this.readSnapshot(bases, signal);
    } catch (err) {
      if (signal?.aborted) throw err;
      throw etcdBackendError(err, this.context, `${doing} (again, after a compaction)`);
    }
  }

  /**
   * Startup check: one cheap request (after authenticating, with -basic-auth), so an unreachable store
   * or wrong credentials are one error when the client is created, not one per resource later.
   */
  async checkConnection(): Promise<void> {
    try {
      // Bounded by the connect timeout: an endpoint that accepts connections and never answers is a store
      // that cannot be reached, reported as such at start.
      const call = { timeoutMs: this.timeoutMs };
      await this.grpc.authenticate(call);
      await this.status(call);
    } catch (err) {
      throw etcdBackendError(err, this.context, 'connecting');
    }
  }

  /** A status request; aborting `signal` cancels it. */
  async ping(options: RequestOptions = {}): Promise<void> {
    try {
      await this.status(options);
    } catch (err) {
      if (options.signal?.aborted) throw err;
      throw etcdBackendError(err, this.context, 'checking the store');
    }
  }

  private status(call: RequestOptions & { timeoutMs?: number }): Promise<void> {
    return this.grpc.call(ETCD_METHODS.status, STATUS_REQUEST, () => undefined, call);
  }

  private async readSnapshot(bases: readonly string[], signal?: AbortSignal): Promise<KVPairs> {
    const ops = bases.flatMap(rangeOps);
    const values: KVPairs = new Map();
    let pinned = 0;
    for (let start = 0; start < ops.length; start += ETCD_MAX_TXN_OPS) {
      const batch = ops.slice(start, start + ETCD_MAX_TXN_OPS).map((op) => pinRevision(op, pinned));
      const request = encodeTxnRequest(batch);
      const revision = await this.grpc.call(
        ETCD_METHODS.txn,
        request,
        (answer) => decodeTxnResponse(answer, values),
        signal ? { signal } : {},
      );
      await this.hooks.afterTxn?.({ requestedRevision: pinned, revision, operations: batch.length });
      if (pinned === 0) pinned = revision;
    }
    this.revision = pinned;
    this.logger.debug(`${this.context.backend}: read ${values.size} values at revision ${pinned}`);
    return values;
  }

  /**
   * One long-lived etcd watch per prefix, shared by every holder (see EtcdPrefixWatch). Arming reads the
   * watched range (so a user who may not read it is told so now, and the watch has its copy of the
   * prefix) and starts the watch from the revision after that read.
   */
  watch(prefix: string, options: RequestOptions = {}): Promise<PrefixWatch> {
    if (this.closed) return Promise.reject(this.closedError());
    return this.watches.acquire(prefix, options.signal);
  }

  private watchSettings(): EtcdWatchSettings {
    return {
      grpc: this.grpc,
      context: this.context,
      logger: this.logger,
      timeoutMs: this.timeoutMs,
      disconnectGraceMs: this.hooks.disconnectGraceMs ?? this.timeoutMs,
      currentRevision: (prefix) => this.currentRevision(prefix),
      ...(this.hooks.beforeWatch ? { beforeWatch: (info) => this.hooks.beforeWatch?.(info) } : {}),
    };
  }

  private closedError(): BackendError {
    return new BackendError(
      `${this.context.backend}: client is closed`,
      this.context.backend,
      this.context.endpoints,
    );
  }

  /** The values under `prefix` and the revision they were read at: where its watch starts from. */
  private async readPrefix(prefix: string): Promise<{ revision: number; copy: WatchedCopy }> {
    try {
      const { start, end } = watchRange(prefix);
      const request = encodeRangeRequest({ key: start, rangeEnd: end });
      const values: KVPairs = new Map();
      const revision = await this.grpc.call(ETCD_METHODS.range, request, (answer) =>
        decodeRangeResponse(answer, values),
      );
      const copy = new WatchedCopy(prefix);
      for (const [key, value] of values) copy.put(key, value);
      return { revision, copy };
    } catch (err) {
      throw etcdBackendError(err, this.context, `reading ${prefix}`);
    }
  }

  private async currentRevision(prefix: string): Promise<number> {
    try {
      // Over the range a watch on the prefix covers: a user who may not watch it is told so here.
      const { start, end } = watchRange(prefix);
      const request = encodeRangeRequest({ key: start, rangeEnd: end, limit: 1, countOnly: true });
      return await this.grpc.call(ETCD_METHODS.range, request, (answer) =>
        decodeRangeResponse(answer, new Map()),
      );
    } catch (err) {
      throw etcdBackendError(err, this.context, `reading the revision of ${prefix}`);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const ended = this.watches.closeAll(this.closedError());
    // Every socket goes at once, streams and requests still waiting for an answer alike: a silent server
    // cannot hold close() up, and a watch still being opened fails now instead of at its deadline.
    this.grpc.close();
    await ended;
  }
}

/** The key itself plus everything under `key/`: the path-boundary rule, so /app/db never matches /app/dbx. */
function rangeOps(base: string): RangeRequest[] {
  const prefix = base === '/' ? '/' : `${base}/`;
  const under: RangeRequest = { key: prefix, rangeEnd: prefixEnd(prefix) };
  if (base === '/') return [under];
  return [{ key: base }, under];
}

/** The end of the range of keys starting with `prefix` (its last byte plus one; prefixes here end in '/'). */
function prefixEnd(prefix: string): string {
  return `${prefix.slice(0, -1)}${String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1)}`;
}

function pinRevision(op: RangeRequest, revision: number): RangeRequest {
  return revision === 0 ? op : { ...op, revision };
}

function describeKeys(keys: readonly string[]): string {
  const shown = keys.slice(0, 3).join(', ');
  return keys.length > 3 ? `${shown} and ${keys.length - 3} more` : shown;
}

/** One watched prefix: the EtcdPrefixWatch behind it, opened once; a failed one stays failed. */
class EtcdWatchSource implements WatchSource {
  private opening: Promise<EtcdPrefixWatch> | undefined;
  private failure: Error | undefined;

  constructor(
    private readonly root: string,
    private readonly settings: EtcdWatchSettings,
    private readonly readPrefix: (prefix: string) => Promise<{ revision: number; copy: WatchedCopy }>,
  ) {}

  /** The watch, once open: what valuesUnder asks. */
  private opened: EtcdPrefixWatch | undefined;
  /** The read that armed the watch: its copy goes to the watch, which starts after its revision. */
  private armedWith: WatchedCopy | undefined;

  get failed(): boolean {
    return this.failure !== undefined;
  }

  /**
   * Reads the prefix and starts the watch after that read. A later holder joining the watch gets the
   * revision the copy has reached if that is older than its own read: the copy is what it renders from,
   * so the changes between the two must still wake it.
   */
  async arm(signal: AbortSignal): Promise<number> {
    const { revision, copy } = await untilAborted(this.readPrefix(this.root), signal);
    this.armedWith ??= copy;
    const watch = await untilAborted(this.open(revision), signal);
    return Math.min(revision, watch.copyRevision ?? revision);
  }

  valuesUnder(base: string): KVPairs | undefined {
    return this.failure === undefined ? this.opened?.valuesUnder(base) : undefined;
  }

  dropCopy(): void {
    this.opened?.dropCopy();
  }

  async wait(afterIndex: number, keys: readonly string[], signal: AbortSignal): Promise<WatchResult> {
    if (this.failure !== undefined) throw this.failure;
    const watch = await untilAborted(this.open(afterIndex), signal);
    return watch.changes.wait(afterIndex, signal, concerning(keys));
  }

  close(err: BackendError): Promise<void> {
    this.failure ??= toError(err);
    return this.opening?.then((watch) => watch.end(err)).catch(() => undefined) ?? Promise.resolve();
  }

  private open(startAfter: number): Promise<EtcdPrefixWatch> {
    this.opening ??= EtcdPrefixWatch.open(
      this.root,
      startAfter,
      this.settings,
      (err) => {
        this.failure ??= toError(err);
      },
      this.armedWith,
    );
    this.opening.then(
      (watch) => (this.opened = watch),
      () => undefined,
    );
    this.opening.catch((err: unknown) => {
      this.failure ??= toError(err);
    });
    return this.opening;
  }
}
