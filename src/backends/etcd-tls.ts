import type { ConnectionOptions } from 'node:tls';
import { hasTlsFiles, type TlsFiles } from './tls-files.js';

/**
 * TLS options of an etcd connection for the given TLS files. Without -client-ca-keys the system roots
 * verify the server; -client-insecure turns verification off (certificate chain and host name alike).
 */
export function etcdTlsOptions(tls: TlsFiles): ConnectionOptions {
  const options: ConnectionOptions = {};
  if (hasTlsFiles(tls)) {
    if (tls.ca) options.ca = tls.ca;
    if (tls.cert) options.cert = tls.cert;
    if (tls.key) options.key = tls.key;
  }
  if (tls.insecure) {
    options.rejectUnauthorized = false;
    options.checkServerIdentity = () => undefined;
  }
  return options;
}
