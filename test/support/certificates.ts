import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';

/**
 * A throwaway CA, a server certificate for 127.0.0.1/localhost and a client certificate, made with openssl
 * in `dir`: ca.crt, server.crt/server.key, client.crt/client.key. The server certificate allows client
 * authentication too, as an etcd member's certificate usually does (etcd's own gRPC gateway dials the
 * server with it under --client-cert-auth).
 */
export async function makeCertificates(dir: string): Promise<void> {
  const openssl = (...args: string[]) => execa('openssl', args, { cwd: dir });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  await openssl(
    'req',
    '-x509',
    ...ec,
    '-keyout',
    'ca.key',
    '-out',
    'ca.crt',
    '-days',
    '2',
    '-subj',
    '/CN=confd-ts test CA',
  );
  for (const [name, usage, san] of [
    ['server', 'serverAuth,clientAuth', 'subjectAltName=IP:127.0.0.1,DNS:localhost'],
    ['client', 'clientAuth', 'subjectAltName=DNS:confd-client'],
  ] as const) {
    await writeFile(join(dir, `${name}.ext`), `${san}\nextendedKeyUsage=${usage}\n`);
    await openssl(
      'req',
      ...ec,
      '-keyout',
      `${name}.key`,
      '-out',
      `${name}.csr`,
      '-subj',
      `/CN=confd-ts ${name}`,
    );
    await openssl(
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      'ca.crt',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-out',
      `${name}.crt`,
      '-days',
      '2',
      '-extfile',
      `${name}.ext`,
    );
  }
}
