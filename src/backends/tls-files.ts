import { readFile } from '../fs-async.js';
import { ConfigError, errorMessage } from '../errors.js';
import type { BackendOptions } from './store-client.js';

/** PEM material read from the -client-cert, -client-key and -client-ca-keys files. */
export interface TlsFiles {
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  /** -client-insecure: skip verification of the server's certificate. */
  insecure: boolean;
}

type TlsOptions = Pick<BackendOptions, 'clientCert' | 'clientKey' | 'clientCaKeys' | 'clientInsecure'>;

/** True when any TLS file was given: like confd, that alone switches the connection to TLS. */
export function hasTlsFiles(tls: TlsFiles): boolean {
  return tls.ca !== undefined || tls.cert !== undefined || tls.key !== undefined;
}

/**
 * Reads the TLS files a backend was given. A missing or unreadable file, or a certificate without its key
 * (or the reverse), is a configuration error naming the flag and the file, reported before any connection.
 */
export async function loadTlsFiles(options: TlsOptions, backend: string): Promise<TlsFiles> {
  const certPath = nonEmpty(options.clientCert);
  const keyPath = nonEmpty(options.clientKey);
  if ((certPath === undefined) !== (keyPath === undefined)) {
    const missing = certPath === undefined ? '-client-cert' : '-client-key';
    throw new ConfigError(
      `${backend}: ${missing} is required when the other of -client-cert/-client-key is set`,
    );
  }
  const [ca, cert, key] = await Promise.all([
    readPem(nonEmpty(options.clientCaKeys), '-client-ca-keys', backend),
    readPem(certPath, '-client-cert', backend),
    readPem(keyPath, '-client-key', backend),
  ]);
  const tls: TlsFiles = { insecure: options.clientInsecure };
  if (ca) tls.ca = ca;
  if (cert) tls.cert = cert;
  if (key) tls.key = key;
  return tls;
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}

async function readPem(path: string | undefined, flag: string, backend: string): Promise<Buffer | undefined> {
  if (path === undefined) return undefined;
  try {
    return await readFile(path);
  } catch (err) {
    throw new ConfigError(
      `${backend}: cannot read ${flag} file ${path}: ${errorMessage(err)}`,
      path,
      undefined,
      undefined,
      {
        cause: err,
      },
    );
  }
}
