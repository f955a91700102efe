import type { CallContext, Etcd3, IOptions, IRequestOp, ITxnResponse } from 'etcd3';
import type { CallOptions } from '@grpc/grpc-js';
import type * as Etcd3Exports from 'etcd3';
import { BackendError, errorMessage } from '../errors.js';
import { cleanKey, keyIsUnder } from '../key-path.js';
import type { Logger } from '../logging/logger.js';
import { etcdEndpoints } from './etcd-endpoints.js';
import { etcdBackendError, type EtcdErrorContext } from './etcd-errors.js';
import { EtcdFaultHandling } from './etcd-faults.js';
import { EtcdPrefixWatch, WatchReconnectBackoff, watchRange, type EtcdWatchSettings } from './etcd-watch.js';
import { disableServerVerification, etcdCredentials } from './etcd-tls.js';
import { resolveSrvNodes } from './srv-nodes.js';
import type { BackendOptions, KVPairs, StoreClient, WatchOptions, WatchResult } from './store-client.js';
import { hasTlsFiles, loadTlsFiles } from './tls-files.js';
import { untilAborted } from './watch-event-buffer.js';

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

  const [mod, cockatiel] = await Promise.all([import('etcd3'), import('cockatiel')]);
  const faults = new EtcdFaultHandling(
    cockatiel,
    mod.isRecoverableError,
    endpoints.length,
    new WatchReconnectBackoff(),
  );
  const context: EtcdErrorContext = {
    backend,
    endpoints,
    ...(username !== undefined ? { username } : {}),
    lastFailure: () => faults.lastConnectionFailure(),
  };
  const etcdOptions: IOptions = {
    hosts: endpoints,
    // Unary calls (reads, authentication) get the connect budget as deadline so a dead or silent
    // endpoint fails in bounded time; watch streams must stay open.
    defaultCallOptions: (call: CallContext): CallOptions =>
      call.isStream ? {} : { deadline: Date.now() + timeoutMs },
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
  private readonly watches = new Map<string, Promise<EtcdPrefixWatch>>();

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
    const doing = `reading ${describeKeys(bases)}`;
    try {
      return await this.readSnapshot(bases);
    } catch (err) {
      // The pinned revision can be compacted away between two transactions: read again at the newest one.
      if (!/compacted/i.test(errorMessage(err))) throw etcdBackendError(this.mod, err, this.context, doing);
    }
    try {
      return await this.readSnapshot(bases);
    } catch (err) {
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
   * One long-lived etcd watch per prefix, shared by every caller (see EtcdPrefixWatch). `waitIndex` 0 reads
   * the current revision, arms the watch from the next one and returns the revision; a later call resolves
   * with the changes to `keys` after `waitIndex`. A prefix nobody armed yet (or whose watch failed) is
   * watched from `waitIndex` + 1: etcd replays what happened since, so nothing is lost across failures.
   */
  async watchPrefix(prefix: string, keys: readonly string[], options: WatchOptions): Promise<WatchResult> {
    const { waitIndex, signal } = options;
    signal.throwIfAborted();
    if (this.closed) throw this.closedError();
    const root = cleanKey(prefix);
    if (waitIndex <= 0) {
      const current = await untilAborted(this.currentRevision(root), signal);
      await untilAborted(this.prefixWatch(root, current), signal);
      return { index: current };
    }
    const watch = await untilAborted(this.prefixWatch(root, waitIndex), signal);
    return watch.changes.wait(waitIndex, signal, coveredBy(keys));
  }

  private prefixWatch(root: string, startAfter: number): Promise<EtcdPrefixWatch> {
    const existing = this.watches.get(root);
    if (existing) return existing;
    const forget = (): void => {
      if (this.watches.get(root) === opening) this.watches.delete(root);
    };
    const opening = EtcdPrefixWatch.open(root, startAfter, this.watchSettings(), forget);
    opening.catch(forget);
    this.watches.set(root, opening);
    return opening;
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
    const watches = [...this.watches.values()];
    this.watches.clear();
    const ended = Promise.all(
      watches.map((opening) =>
        opening.then(
          (watch) => watch.end(this.closedError()),
          () => undefined,
        ),
      ),
    );
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

/** The filter for one caller: changes to a key equal to or under one of `keys` (all of them when none). */
function coveredBy(keys: readonly string[]): (key: string) => boolean {
  const bases = keys.map(cleanKey);
  if (bases.length === 0) return () => true;
  return (key) => bases.some((base) => keyIsUnder(key, base));
}
