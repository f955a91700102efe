import { isBrokenCircuitError } from 'cockatiel';
import type * as Etcd3 from 'etcd3';
import { BackendError, errorMessage } from '../errors.js';

type Etcd3Module = typeof Etcd3;

export interface EtcdErrorContext {
  backend: string;
  endpoints: readonly string[];
  /** Set when -basic-auth is on: named in authentication and permission errors. */
  username?: string;
  /**
   * The last real connection failure. etcd3 rejects a request whose endpoints are all paused after
   * failures with cockatiel's bare "circuit breaker is open"; the error names this cause instead.
   */
  lastFailure?: () => unknown;
}

/**
 * One clear BackendError for any etcd3/gRPC failure: wrong credentials and denied access say so, anything
 * else names the endpoints and the cause. `doing` describes the operation ("reading /app/db, /app/web").
 */
export function etcdBackendError(
  mod: Etcd3Module,
  err: unknown,
  context: EtcdErrorContext,
  doing: string,
): BackendError {
  if (err instanceof BackendError) return err;
  const { backend, endpoints, username } = context;
  if (isBrokenCircuitError(err)) {
    const cause = context.lastFailure?.();
    if (cause !== undefined && !isBrokenCircuitError(cause))
      return etcdBackendError(mod, cause, context, doing);
    return new BackendError(
      `${backend}: cannot reach ${endpoints.join(', ')} while ${doing}: every endpoint failed recently`,
      backend,
      endpoints,
      { cause: err },
    );
  }
  const at = endpoints.join(', ');
  const user = username ? ` for user ${username}` : '';
  let message: string;
  if (err instanceof mod.EtcdAuthenticationFailedError) {
    message = `${backend}: authentication failed${user} at ${at}`;
  } else if (err instanceof mod.EtcdPermissionDeniedError) {
    message = `${backend}: permission denied${user} ${doing} at ${at}`;
  } else if (/user name is empty/i.test(errorMessage(err))) {
    message = `${backend}: authentication required at ${at}: the server has auth enabled; set -basic-auth, -username and -password`;
  } else if (err instanceof mod.GRPCUnauthenticatedError || err instanceof mod.EtcdInvalidAuthTokenError) {
    message = `${backend}: not authenticated${user} at ${at} (${errorMessage(err)}); check -basic-auth, -username and -password`;
  } else if (err instanceof mod.GRPCUnavailableError || err instanceof mod.GRPCDeadlineExceededError) {
    message = `${backend}: cannot reach ${at} while ${doing}: ${causeText(err)}`;
  } else {
    message = `${backend}: error ${doing} at ${at}: ${causeText(err)}`;
  }
  return new BackendError(message, backend, endpoints, { cause: err });
}

/** grpc-js appends an empty "Resolution note:" to connection errors; it only adds noise to the message. */
function causeText(err: unknown): string {
  return errorMessage(err).replace(/\s*Resolution note:\s*$/, '');
}
