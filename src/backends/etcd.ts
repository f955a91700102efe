import type { CallContext, Etcd3, IOptions, IRequestOp, ITxnResponse } from 'etcd3';
import type { CallOptions } from '@grpc/grpc-js';
import type * as Etcd3Exports from 'etcd3';
import { BackendError, errorMessage, toError } from '../errors.js';
import { cleanKey } from '../key-path.js';
import type { Logger } from '../logging/logger.js';
import { etcdEndpoints } from './etcd-endpoints.js';
import { etcdBackendError, type EtcdErrorContext } from './etcd-errors.js';
import { EtcdFaultHandling } from './etcd-faults.js';
import { EtcdPrefixWatch, watchRange, type EtcdWatchSettings } from './etcd-watch.js';
import { disableServerVerification, etcdCredentials } from './etcd-tls.js';
import { retryBackoff } from '../retry-policy.js';
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

type Etcd3Module = typeof Etcd3Exports;

/** etcd's default --max-txn-ops: no transaction may carry more operations. */
export const ETCD_MAX_TXN_OPS = 128;

/** Tuning and test seams. */
export interface EtcdClientHooks {
  /** How long a watch may stay disconnected while etcd3 reconnects it; default: the connect timeout. */
  disconnectGraceMs?: number;
  /** Runs before each watch is sent to the server, with the revision it starts at. */
  beforeWatch?(info: { prefix: string; startRevision: number }): void | Promise<void>;
  /**
   * Called after each transaction with the revision it asked for (0 = latest) and the revision it read.
   * May be async; getValues waits for it before the next transaction.
   */
  afterTxn?(info: { requestedRevision: number; revision: number; operations: number }): void | Promise<void>;
}

/**
 * etcd v3 backend (`-backend etcd` and `-backend etcdv3`). Reads go through gRPC transactions pinned to
 * one revision, so a single getValues is a consistent snapshot however many keys it reads. Resolves only
 * once the store answered (see checkConnection).
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
  const timeoutMs = options.connectTimeoutMs;
  const requestTimeoutMs = options.requestTimeoutMs;

  const [mod, cockatiel] = await Promise.all([import('etcd3'), import('cockatiel')]);
  const faults = new EtcdFaultHandling(
    cockatiel,
    mod.isRecoverableError,
    endpoints.length,
    // etcd3 re-opens a dropped watch stream on its own; it must manage within the disconnect grace.
    retryBackoff(cockatiel, Math.min(1000, timeoutMs)),
  );
  const context: EtcdErrorContext = {
    backend,
    endpoints,
    ...(username !== undefined ? { username } : {}),
    lastFailure: () => faults.lastConnectionFailure(),
  };
  const etcdOptions: IOptions = {
    hosts: endpoints,
    // Unary calls (reads, authentication) get the request deadline so a dead or silent endpoint fails in
    // bounded time; watch streams must stay open.
    defaultCallOptions: (call: CallContext): CallOptions =>
      call.isStream ? {} : { deadline: Date.now() + requestTimeoutMs },
    faultHandling: faults.options,
  };
  const credentials = etcdCredentials(tls);
  if (credentials) etcdOptions.credentials = credentials;
  if (username !== undefined) etcdOptions.auth = { username, password: options.password ?? '' };

  let etcd: Etcd3;
  try {
    etcd = new mod.Etcd3(etcdOptions);
  } catch (err) {
    throw new BackendError(
      `${backend}: cannot create client for ${endpoints.join(', ')}: ${errorMessage(err)}`,
      backend,
      endpoints,
      {
        cause: err,
      },
    );
  }
  const usesTls = credentials !== undefined || endpoints.some((e) => e.startsWith('https://'));
  if (tls.insecure && usesTls) {
    try {
      await disableServerVerification(etcd, tls, backend, endpoints);
    } catch (err) {
      etcd.close();
      throw err;
    }
    logger.warn(
      `${backend}: -client-insecure set: the server certificate of ${endpoints.join(', ')} is not verified`,
    );
  }
  logger.debug(
    `${backend}: endpoints ${endpoints.join(', ')}${usesTls ? ' (TLS)' : ''}${username !== undefined ? `, user ${username}` : ''}`,
  );
  const client = new EtcdStoreClient(mod, etcd, context, timeoutMs, logger, hooks);
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
    private readonly mod: Etcd3Module,
    private readonly etcd: Etcd3,
    private readonly context: EtcdErrorContext,
    private readonly timeoutMs: number,
    private readonly logger: Logger,
    private readonly hooks: EtcdClientHooks = {},
  ) {
    this.watches = new SharedWatches(
      (root) => new EtcdWatchSource(root, this.watchSettings(), (prefix) => this.currentRevision(prefix)),
      context,
    );
  }

  /** The store revision the last getValues read at; 0 before the first read. */
  lastRevision(): number {
    return this.revision;
  }

  async getValues(keys: readonly string[], options: RequestOptions = {}): Promise<KVPairs> {
    if (keys.length === 0) return {};
    const { signal } = options;
    const bases = [...new Set(keys.map(cleanKey))];
    const doing = `reading ${describeKeys(bases)}`;
    try {
      return await this.readSnapshot(bases, signal);
    } catch (err) {
      if (signal?.aborted) throw err;
      // The pinned revision can be compacted away between two transactions: read again at the newest one.
      if (!/compacted/i.test(errorMessage(err))) throw etcdBackendError(this.mod, err, this.context, doing);
    }
    try {
      return await this.readSnapshot(bases, signal);
    } catch (err) {
      if (signal?.aborted) throw err;
      throw etcdBackendError(this.mod, err, this.context, `${doing} (again, after a compaction)`);
    }
  }

  /**
   * Startup check: one cheap request (after authenticating, with -basic-auth), so an unreachable store
   * or wrong credentials are one error when the client is created, not one per resource later.
   */
  async checkConnection(): Promise<void> {
    try {
      await this.etcd.maintenance.status();
    } catch (err) {
      throw etcdBackendError(this.mod, err, this.context, 'connecting');
    }
  }

  /** gRPC calls cannot be cancelled through etcd3, but they carry a deadline; `signal` stops the wait. */
  async ping(options: RequestOptions = {}): Promise<void> {
    const status = this.etcd.maintenance.status();
    try {
      await (options.signal ? untilAborted(status, options.signal) : status);
    } catch (err) {
      if (options.signal?.aborted) throw err;
      throw etcdBackendError(this.mod, err, this.context, 'checking the store');
    }
  }

  private async readSnapshot(bases: readonly string[], signal?: AbortSignal): Promise<KVPairs> {
    const ops = bases.flatMap((base) => this.rangeOps(base));
    const values: KVPairs = {};
    let pinned = 0;
    for (let start = 0; start < ops.length; start += ETCD_MAX_TXN_OPS) {
      const batch = ops.slice(start, start + ETCD_MAX_TXN_OPS).map((op) => pinRevision(op, pinned));
      const txn = this.etcd.kv.txn({ success: batch });
      const response: ITxnResponse = await (signal ? untilAborted(txn, signal) : txn);
      const revision = Number(response.header.revision);
      for (const op of response.responses) {
        for (const kv of op.response_range?.kvs ?? [])
          values[kv.key.toString('utf8')] = kv.value.toString('utf8');
      }
      await this.hooks.afterTxn?.({ requestedRevision: pinned, revision, operations: batch.length });
      if (pinned === 0) pinned = revision;
    }
    this.revision = pinned;
    this.logger.debug(
      `${this.context.backend}: read ${Object.keys(values).length} values at revision ${pinned}`,
    );
    return values;
  }

  /** The key itself plus everything under `key/`: the path-boundary rule, so /app/db never matches /app/dbx. */
  private rangeOps(base: string): IRequestOp[] {
    const prefix = base === '/' ? '/' : `${base}/`;
    const under: IRequestOp = {
      request_range: { key: Buffer.from(prefix), range_end: this.mod.Range.prefix(prefix).end },
    };
    if (base === '/') return [under];
    return [{ request_range: { key: Buffer.from(base) } }, under];
  }

  /**
   * One long-lived etcd watch per prefix, shared by every holder (see EtcdPrefixWatch). Arming reads the
   * current revision over the watched range (so a user who may not read it is told so now) and starts the
   * watch from the next one.
   */
  watch(prefix: string, options: RequestOptions = {}): Promise<PrefixWatch> {
    if (this.closed) return Promise.reject(this.closedError());
    return this.watches.acquire(prefix, options.signal);
  }

  private watchSettings(): EtcdWatchSettings {
    return {
      mod: this.mod,
      etcd: this.etcd,
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

  private async currentRevision(prefix: string): Promise<number> {
    try {
      // Over the range a watch on the prefix covers: a user who may not watch it is told so here.
      const { start, end } = watchRange(prefix);
      const response = await this.etcd.kv.range({
        key: Buffer.from(start),
        range_end: Buffer.from(end),
        limit: 1,
        count_only: true,
      });
      return Number(response.header.revision);
    } catch (err) {
      throw etcdBackendError(this.mod, err, this.context, `reading the revision of ${prefix}`);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const ended = this.watches.closeAll(this.closedError());
    // Cancelling needs an answer from the server; a dead one must not hold close() up.
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([ended, new Promise<void>((ok) => (timer = setTimeout(ok, this.timeoutMs)))]);
    clearTimeout(timer);
    this.etcd.close();
  }
}

function pinRevision(op: IRequestOp, revision: number): IRequestOp {
  return revision === 0 ? op : { request_range: { ...op.request_range, revision } };
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
    private readonly currentRevision: (prefix: string) => Promise<number>,
  ) {}

  get failed(): boolean {
    return this.failure !== undefined;
  }

  async arm(signal: AbortSignal): Promise<number> {
    const current = await untilAborted(this.currentRevision(this.root), signal);
    await untilAborted(this.open(current), signal);
    return current;
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
    this.opening ??= EtcdPrefixWatch.open(this.root, startAfter, this.settings, (err) => {
      this.failure ??= toError(err);
    });
    this.opening.catch((err: unknown) => {
      this.failure ??= toError(err);
    });
    return this.opening;
  }
}
