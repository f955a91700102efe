import { BackendError, errorMessage } from '../errors.js';
import { EtcdRequestError, isInvalidToken } from './etcd-grpc-call.js';
import { GRPC_UNAUTHENTICATED } from './etcd-grpc-wire.js';

export interface EtcdErrorContext {
  backend: string;
  endpoints: readonly string[];
  /** Set when -basic-auth is on: named in authentication and permission errors. */
  username?: string;
}

/**
 * One clear BackendError for any failure of an etcd request: wrong credentials and denied access say so,
 * anything else names the endpoints and the cause. `doing` describes the operation ("reading /app/db").
 */
export function etcdBackendError(err: unknown, context: EtcdErrorContext, doing: string): BackendError {
  if (err instanceof BackendError) return err;
  const { backend, endpoints, username } = context;
  const at = endpoints.join(', ');
  const user = username ? ` for user ${username}` : '';
  const said = errorMessage(err);
  let message: string;
  if (/authentication failed/i.test(said)) {
    message = `${backend}: authentication failed${user} at ${at}`;
  } else if (/permission denied/i.test(said)) {
    message = `${backend}: permission denied${user} ${doing} at ${at}`;
  } else if (/user name is empty/i.test(said)) {
    message = `${backend}: authentication required at ${at}: the server has auth enabled; set -basic-auth, -username and -password`;
  } else if (isInvalidToken(err) || (err instanceof EtcdRequestError && err.code === GRPC_UNAUTHENTICATED)) {
    message = `${backend}: not authenticated${user} at ${at} (${said}); check -basic-auth, -username and -password`;
  } else if (err instanceof EtcdRequestError && err.failsOver) {
    message = `${backend}: cannot reach ${at} while ${doing}: ${said}`;
  } else {
    message = `${backend}: error ${doing} at ${at}: ${said}`;
  }
  return new BackendError(message, backend, endpoints, { cause: err });
}
