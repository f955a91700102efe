import { BackendError, errorMessage } from '../errors.js';
import type { Logger } from '../logging/logger.js';

/** The slice of the `consul` package's client this backend uses (its typings omit timeout and ctx). */
export interface ConsulApi {
  status: { leader(options: { timeout: number }): Promise<unknown> };
  kv: { get(options: ConsulGetOptions): Promise<unknown> };
  destroy(): void;
}

export interface ConsulGetOptions {
  key: string;
  recurse?: boolean;
  /** Blocking query: wait until the index passes this value. */
  index?: string;
  wait?: string;
  /** Absolute request timeout in ms. */
  timeout: number;
  /** An EventEmitter: `includeResponse` makes get resolve [response, body]; emitting 'cancel' aborts. */
  ctx?: unknown;
}

export interface ConsulAgent {
  /** The -node value as given, used in messages and BackendError.endpoints. */
  endpoint: string;
  /** For plain reads, over a bounded socket pool. */
  api: ConsulApi;
  /** For blocking queries, which hold a connection for the whole wait and must not starve plain reads. */
  watchApi: ConsulApi;
}

const BACKEND = 'consul';

const CONNECTION_ERRORS = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
  'ECONNABORTED',
]);

/** True for failures of the transport (nothing or nobody answered), as opposed to an HTTP error answer. */
export function isConnectionError(err: unknown): boolean {
  const e = err as { code?: unknown; isTimeout?: unknown } | null;
  return e?.isTimeout === true || (typeof e?.code === 'string' && CONNECTION_ERRORS.has(e.code));
}

/**
 * The agents named by -node, in order. Requests go to the first agent that answers; when it stops answering
 * the agents are probed again and the request is retried once on the new choice.
 */
export class ConsulAgents {
  private chosen: ConsulAgent | undefined;
  private selecting: Promise<ConsulAgent> | undefined;

  constructor(
    private readonly agents: readonly ConsulAgent[],
    private readonly connectTimeoutMs: number,
    private readonly logger: Logger,
  ) {}

  get endpoints(): string[] {
    return this.agents.map((agent) => agent.endpoint);
  }

  /**
   * Probes every agent at once (GET /v1/status/leader, which needs no ACL token) and keeps the first in -node
   * order that answered, so the result does not depend on which one happened to be fastest. Bounded by the
   * connect timeout as a whole.
   */
  select(): Promise<ConsulAgent> {
    this.selecting ??= this.probeAll().finally(() => {
      this.selecting = undefined;
    });
    return this.selecting;
  }

  private async probeAll(): Promise<ConsulAgent> {
    const attempts = this.agents.map((agent) =>
      agent.api.status.leader({ timeout: this.connectTimeoutMs }).then(
        () => undefined,
        (err: unknown) => (isConnectionError(err) ? err : undefined),
      ),
    );
    const failures: string[] = [];
    for (const [i, agent] of this.agents.entries()) {
      const err = await attempts[i];
      if (err === undefined) {
        this.chosen = agent;
        this.logger.debug(`consul: using agent ${agent.endpoint}`);
        return agent;
      }
      failures.push(`${agent.endpoint}: ${describe(err)}`);
    }
    throw new BackendError(
      `${BACKEND}: no agent answered at ${this.endpoints.join(',')} within ${this.connectTimeoutMs} ms (${failures.join('; ')})`,
      BACKEND,
      this.endpoints,
    );
  }

  async run<T>(call: (agent: ConsulAgent) => Promise<T>): Promise<T> {
    const agent = this.chosen ?? (await this.select());
    try {
      return await call(agent);
    } catch (err) {
      if (!isConnectionError(err) || this.agents.length === 1) throw this.transportError(err, agent);
      this.logger.warn(
        `consul: agent ${agent.endpoint} stopped answering (${describe(err)}), trying the others`,
      );
      if (this.chosen === agent) this.chosen = undefined;
      const next = this.chosen ?? (await this.select());
      try {
        return await call(next);
      } catch (retryErr) {
        throw this.transportError(retryErr, next);
      }
    }
  }

  private transportError(err: unknown, agent: ConsulAgent): unknown {
    if (!isConnectionError(err)) return err;
    return new BackendError(
      `${BACKEND}: agent ${agent.endpoint} did not answer: ${describe(err)}`,
      BACKEND,
      this.endpoints,
      {
        cause: err,
      },
    );
  }

  destroy(): void {
    for (const agent of this.agents) {
      agent.api.destroy();
      agent.watchApi.destroy();
    }
  }
}

function describe(err: unknown): string {
  const e = err as { code?: unknown; isTimeout?: unknown } | null;
  if (e?.isTimeout === true) return 'timed out';
  return typeof e?.code === 'string' ? e.code : errorMessage(err);
}
