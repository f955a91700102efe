/**
 * grpc-js (under etcd3) sets the TLS servername to the endpoint's IP address, which makes Node print a
 * DEP0123 deprecation notice on every https://<IP> etcd connection: noise to an operator, and nothing they
 * can act on. Every other process warning is still printed the way Node prints it.
 */
const SILENCED = new Set(['DEP0123']);

interface WarningSource {
  removeAllListeners(event: 'warning'): unknown;
  on(event: 'warning', listener: (warning: Error & { code?: string }) => void): unknown;
}

export function installWarningFilter(
  source: WarningSource = process,
  write: (line: string) => void = (line) => process.stderr.write(line),
  pid: number = process.pid,
): void {
  source.removeAllListeners('warning');
  source.on('warning', (warning) => {
    if (warning.code && SILENCED.has(warning.code)) return;
    write(`(node:${pid}) ${warning.code ? `[${warning.code}] ` : ''}${warning.name}: ${warning.message}\n`);
  });
}
