import { BackendError, errorMessage } from '../errors.js';
import type { Logger } from '../logging/logger.js';
import type { ConsulEntry } from './consul-kv.js';

/** One call's deadline (the whole answer, ms) and abort signal. */
export interface ConsulCall {
  timeoutMs: number;
  signal?: AbortSignal;
}

export interface ConsulKvQuery {
  recurse?: boolean;
  /** Blocking query: answer once the index passes this value (or `waitS` has passed). */
  index?: number;
  waitS?: number;
}

export interface ConsulKvAnswer {
  /** The entries, Values decoded; undefined when there are none (404). */
  entries: ConsulEntry[] | undefined;
  /** X-Consul-Index (0 when absent). */
  index: number;
}

/**
 * The two calls of Consul's HTTP API this backend makes (ConsulHttp). Failures: Node's error for the
 * connection (its `code`), an error with `isTimeout` at the deadline, a ConsulResponseError
 * (`statusCode`) for an error answer, the signal's reason on abort.
 */
export interface ConsulApi {
  /** GET /v1/status/leader: the leader's address, "" while the cluster has none. */
  leader(call: ConsulCall): Promise<unknown>;
  /** GET /v1/kv/<key>. */
  kv(key: string, query: ConsulKvQuery, call: ConsulCall): Promise<ConsulKvAnswer>;
  destroy(): void;
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

/** Node's codes for a certificate it will not accept (besides the ERR_SSL_* and ERR_TLS_* families). */
const CERTIFICATE_ERRORS = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'CERT_SIGNATURE_FAILURE',
  'HOSTNAME_MISMATCH',
]);

/**
 * True when TLS failed: the handshake (EPROTO, typically https against a plain-http agent) or the check of
 * the agent's certificate. Such an agent cannot serve us with these settings, however often we ask.
 */
export function isTlsError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code !== 'string') return false;
  return (
    code === 'EPROTO' ||
    code.startsWith('ERR_SSL_') ||
    code.startsWith('ERR_TLS_') ||
    CERTIFICATE_ERRORS.has(code)
  );
}

/** Failures of the agent itself rather than answers about a request: another -node may do better. */
function isAgentFailure(err: unknown): boolean {
  return isConnectionError(err) || isTlsError(err);
}

/** Turns an error that is not an agent failure (an HTTP error answer, a cancel) into the caller's error. */
export type AnswerError = (err: unknown, agent: ConsulAgent) => unknown;

/**
 * The agents named by -node, in order. Requests go to the first agent that works; when it stops answering
 * (or fails TLS) the agents are probed again and the request is retried once on the new choice.
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
   * order that works, so the result does not depend on which one happened to be fastest. Bounded by the
   * connect timeout as a whole. Only a 2xx answer naming a leader counts: a 404 (another HTTP server, such
   * as etcd), a TLS failure or an agent without a leader would make every read after it fail or come back
   * empty.
   */
  select(): Promise<ConsulAgent> {
    this.selecting ??= this.probeAll().finally(() => {
      this.selecting = undefined;
    });
    return this.selecting;
  }

  private async probeAll(): Promise<ConsulAgent> {
    const attempts = this.agents.map((agent) => this.probe(agent));
    const failures: string[] = [];
    for (const [i, agent] of this.agents.entries()) {
      const failure = await attempts[i];
      if (failure === undefined) {
        this.chosen = agent;
        this.logger.debug(`consul: using agent ${agent.endpoint}`);
        return agent;
      }
      if (i < this.agents.length - 1) {
        this.logger.warn(`consul: skipping agent ${agent.endpoint}: ${failure}`);
      }
      failures.push(`${agent.endpoint}: ${failure}`);
    }
    throw new BackendError(
      `${BACKEND}: no working agent at ${this.endpoints.join(',')} (connect timeout ${this.connectTimeoutMs} ms; ${failures.join('; ')})`,
      BACKEND,
      this.endpoints,
    );
  }

  /** Why `agent` cannot be used, or undefined when it works. */
  private async probe(agent: ConsulAgent): Promise<string | undefined> {
    let leader: unknown;
    try {
      leader = await agent.api.leader({ timeoutMs: this.connectTimeoutMs });
    } catch (err) {
      return describe(err);
    }
    // Consul answers "" while its cluster has no leader; KV reads then fail with HTTP 500.
    if (typeof leader !== 'string' || leader === '') return 'answered, but its cluster has no leader';
    return undefined;
  }

  /**
   * Runs `call` on the chosen agent. Agent failures become a BackendError naming the agent; every other
   * error goes through `answerError` with the agent that gave it, so messages can say where.
   */
  async run<T>(call: (agent: ConsulAgent) => Promise<T>, answerError: AnswerError): Promise<T> {
    const agent = this.chosen ?? (await this.select());
    try {
      return await call(agent);
    } catch (err) {
      if (!isAgentFailure(err) || this.agents.length === 1) throw this.failure(err, agent, answerError);
      this.logger.warn(`consul: agent ${agent.endpoint} failed (${describe(err)}), trying the others`);
      if (this.chosen === agent) this.chosen = undefined;
      const next = this.chosen ?? (await this.select());
      try {
        return await call(next);
      } catch (retryErr) {
        throw this.failure(retryErr, next, answerError);
      }
    }
  }

  private failure(err: unknown, agent: ConsulAgent, answerError: AnswerError): unknown {
    if (!isAgentFailure(err)) return answerError(err, agent);
    const what = isTlsError(err) ? 'failed' : 'did not answer';
    return new BackendError(
      `${BACKEND}: agent ${agent.endpoint} ${what}: ${describe(err)}`,
      BACKEND,
      this.endpoints,
      { cause: err },
    );
  }

  destroy(): void {
    for (const agent of this.agents) {
      agent.api.destroy();
      agent.watchApi.destroy();
    }
  }
}

/** One line on why a request to an agent failed. */
function describe(err: unknown): string {
  const e = err as { code?: unknown; isTimeout?: unknown; statusCode?: unknown } | null;
  if (e?.isTimeout === true) return 'timed out';
  const message = errorMessage(err);
  if (isTlsError(err)) {
    return `TLS error (${String(e?.code)}: ${message}); check -scheme and -client-ca-keys`;
  }
  if (isConnectionError(err)) return String(e?.code);
  if (typeof e?.statusCode !== 'number') return message;
  const hints: Record<number, string> = {
    401: '; check -basic-auth credentials',
    404: '; is it a Consul agent?',
  };
  return `HTTP ${e.statusCode}: ${message}${hints[e.statusCode] ?? ''}`;
}
