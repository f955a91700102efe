import type { Etcd3, IOptions } from 'etcd3';
import { BackendError } from '../errors.js';
import { hasTlsFiles, type TlsFiles } from './tls-files.js';

/** The etcd3 `credentials` option for the given files; undefined when none was given. */
export function etcdCredentials(tls: TlsFiles): IOptions['credentials'] {
  if (!hasTlsFiles(tls)) return undefined;
  // etcd3 passes these straight to grpc's createSsl, where a missing root certificate means "system roots".
  return {
    rootCertificate: tls.ca as Buffer,
    ...(tls.key ? { privateKey: tls.key } : {}),
    ...(tls.cert ? { certChain: tls.cert } : {}),
  };
}

interface PoolInternals {
  hosts?: Array<{ channelCredentials?: unknown }>;
  authenticator?: { credentials?: unknown };
}

/**
 * -client-insecure: etcd3 offers no option to skip server certificate verification, so the channel
 * credentials it built are swapped for equivalent ones with verification off. The swap touches etcd3
 * internals; if their shape ever changes, this fails loudly instead of silently verifying (or not).
 */
export async function disableServerVerification(
  etcd: Etcd3,
  tls: TlsFiles,
  backend: string,
  endpoints: readonly string[],
): Promise<void> {
  const pool = (etcd as unknown as { pool?: PoolInternals }).pool;
  const hosts = pool?.hosts;
  const authenticator = pool?.authenticator;
  if (
    !hosts ||
    !authenticator ||
    !hosts.every((h) => 'channelCredentials' in h) ||
    !('credentials' in authenticator)
  ) {
    throw new BackendError(
      `${backend}: -client-insecure is not supported by this version of the etcd3 client`,
      backend,
      endpoints,
    );
  }
  const grpc = await import('@grpc/grpc-js');
  const insecure = grpc.credentials.createSsl(tls.ca ?? null, tls.key ?? null, tls.cert ?? null, {
    rejectUnauthorized: false,
    checkServerIdentity: () => undefined,
  });
  for (const host of hosts) host.channelCredentials = insecure;
  authenticator.credentials = insecure;
}
