import type { CallContext, Etcd3, IOptions, IRequestOp, ITxnResponse, IWatchResponse, Watcher } from 'etcd3';
import type { CallOptions } from '@grpc/grpc-js';
import type * as Etcd3Exports from 'etcd3';
import { BackendError, errorMessage } from '../errors.js';
import { cleanKey, keyIsUnder } from '../key-path.js';
import type { Logger } from '../logging/logger.js';
import { etcdEndpoints } from './etcd-endpoints.js';
import { etcdBackendError, type EtcdErrorContext } from './etcd-errors.js';
import { disableServerVerification, etcdCredentials } from './etcd-tls.js';
import { resolveSrvNodes } from './srv-nodes.js';
import type { BackendOptions, KVPairs, StoreClient, WatchOptions } from './store-client.js';
import { hasTlsFiles, loadTlsFiles } from './tls-files.js';

type Etcd3Module = typeof Etcd3Exports;

/** etcd's default --max-txn-ops: no transaction may carry more operations. */
export const ETCD_MAX_TXN_OPS = 128;

/** Test seam: observes every read transaction of getValues. */
export interface EtcdClientHooks {
  /**
   * Called after each transaction with the revision it asked for (0 = latest) and the revision it read.
   * May be async; getValues waits for it before the next transaction.
   */
  afterTxn?(info: { requestedRevision: number; revision: number; operations: number }): void | Promise<void>;
}

/**
 * etcd v3 backend (`-backend etcd` and `-backend etcdv3`). Reads go through gRPC transactions pinned to
 * one revision, so a single getValues is a consistent snapshot however many keys it reads.
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
  const timeoutMs = options.connectTimeoutMs;

  const mod = await import('etcd3');
  const etcdOptions: IOptions = {
    hosts: endpoints,
    // Unary calls (reads, authentication) get the connect budget as deadline so a dead or silent
    // endpoint fails in bounded time; watch streams must stay open.
    defaultCallOptions: (call: CallContext): CallOptions =>
      call.isStream ? {} : { deadline: Date.now() + timeoutMs },
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
  return new EtcdStoreClient(mod, etcd, context, timeoutMs, logger, hooks);
}

export class EtcdStoreClient implements StoreClient {
  private revision = 0;
  private closed = false;
  private readonly watchers = new Set<Watcher>();

  constructor(
    private readonly mod: Etcd3Module,
    private readonly etcd: Etcd3,
    private readonly context: EtcdErrorContext,
    private readonly timeoutMs: number,
    private readonly logger: Logger,
    private readonly hooks: EtcdClientHooks = {},
  ) {}

  /** The store revision the last getValues read at; 0 before the first read. */
  lastRevision(): number {
    return this.revision;
  }

  async getValues(keys: readonly string[]): Promise<KVPairs> {
    if (keys.length === 0) return {};
    const bases = [...new Set(keys.map(cleanKey))];
    try {
      return await this.readSnapshot(bases);
    } catch (err) {
      // The pinned revision can be compacted away between two transactions: read again at the newest one.
      if (/compacted/i.test(errorMessage(err))) return await this.readSnapshot(bases);
      throw etcdBackendError(this.mod, err, this.context, `reading ${describeKeys(bases)}`);
    }
  }

  private async readSnapshot(bases: readonly string[]): Promise<KVPairs> {
    const ops = bases.flatMap((base) => this.rangeOps(base));
    const values: KVPairs = {};
    let pinned = 0;
    for (let start = 0; start < ops.length; start += ETCD_MAX_TXN_OPS) {
      const batch = ops.slice(start, start + ETCD_MAX_TXN_OPS).map((op) => pinRevision(op, pinned));
      const response: ITxnResponse = await this.etcd.kv.txn({ success: batch });
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
   * Resolves with the revision of the first change under `prefix` that concerns one of `keys` after
   * `waitIndex`. With waitIndex 0 there is nothing to wait for: it resolves with the current revision.
   */
  async watchPrefix(prefix: string, keys: readonly string[], options: WatchOptions): Promise<number> {
    options.signal.throwIfAborted();
    if (options.waitIndex <= 0) return this.revision > 0 ? this.revision : await this.currentRevision(prefix);
    const bases = keys.length > 0 ? keys.map(cleanKey) : [cleanKey(prefix)];
    const relevant = (key: string): boolean => bases.some((base) => keyIsUnder(key, base));
    let watcher: Watcher;
    try {
      watcher = await this.createWatcher(prefix, options.waitIndex + 1, options.signal);
    } catch (err) {
      if (options.signal.aborted) throw options.signal.reason;
      throw etcdBackendError(this.mod, err, this.context, `watching ${prefix}`);
    }
    this.watchers.add(watcher);
    let onAbort: (() => void) | undefined;
    try {
      return await new Promise<number>((resolve, reject) => {
        onAbort = () => reject(options.signal.reason);
        options.signal.addEventListener('abort', onAbort, { once: true });
        watcher.on('data', (res: IWatchResponse) => {
          if (res.events.some((ev) => relevant(ev.kv.key.toString('utf8'))))
            resolve(Number(res.header.revision));
        });
        watcher.on('error', (err: Error) => {
          // The server cancelled the watch, e.g. because its start revision was compacted: changes may
          // have been missed, so report the current revision and let the caller read everything again.
          if (/^Watcher canceled|compacted/i.test(err.message)) resolve(this.currentRevision(prefix));
          else reject(etcdBackendError(this.mod, err, this.context, `watching ${prefix}`));
        });
      });
    } finally {
      if (onAbort) options.signal.removeEventListener('abort', onAbort);
      this.watchers.delete(watcher);
      await watcher.cancel().catch(() => undefined);
    }
  }

  private async createWatcher(prefix: string, startRevision: number, signal: AbortSignal): Promise<Watcher> {
    const builder = this.etcd.watch().prefix(prefix).startRevision(String(startRevision));
    const watcher = builder.watcher();
    const connected = new Promise<Watcher>((resolve, reject) => {
      watcher.once('connected', () => resolve(watcher));
      watcher.once('error', reject);
    });
    // etcd3 retries a watch stream forever; a server that stays unreachable must end in an error instead.
    let timer: NodeJS.Timeout | undefined;
    let onAbort: (() => void) | undefined;
    const failed = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`no watch connection within ${this.timeoutMs} ms`)),
        this.timeoutMs,
      );
      onAbort = () => reject(signal.reason);
      signal.addEventListener('abort', onAbort, { once: true });
    });
    try {
      return await Promise.race([connected, failed]);
    } catch (err) {
      await watcher.cancel().catch(() => undefined);
      throw err;
    } finally {
      clearTimeout(timer);
      if (onAbort) signal.removeEventListener('abort', onAbort);
    }
  }

  private async currentRevision(prefix: string): Promise<number> {
    try {
      const response = await this.etcd.kv.range({ key: Buffer.from(prefix), limit: 1, count_only: true });
      return Number(response.header.revision);
    } catch (err) {
      throw etcdBackendError(this.mod, err, this.context, `reading the revision of ${prefix}`);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([...this.watchers].map((w) => w.cancel().catch(() => undefined)));
    this.watchers.clear();
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
