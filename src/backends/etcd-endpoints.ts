import { BackendError } from '../errors.js';

export const DEFAULT_ETCD_NODE = '127.0.0.1:2379';

/**
 * etcd endpoints as the base URLs its HTTP/2 connections go to. A node may be `http(s)://host:port` or
 * `host:port`; the latter takes -scheme, or https when TLS files were given (they switch the connection to
 * TLS, as in confd).
 */
export function etcdEndpoints(
  nodes: readonly string[],
  scheme: 'http' | 'https',
  tlsFiles: boolean,
  backend: string,
): string[] {
  const given = nodes.map((n) => n.trim()).filter((n) => n !== '');
  const defaultScheme = tlsFiles ? 'https' : scheme;
  return (given.length > 0 ? given : [DEFAULT_ETCD_NODE]).map((node) => {
    const match = /^([a-z][a-z0-9+.-]*):\/\/([^/]+)\/?$/i.exec(node);
    if (!match) {
      if (node.includes('/')) throw new BackendError(`${backend}: invalid node ${node}`, backend, given);
      return `${defaultScheme}://${node}`;
    }
    const nodeScheme = (match[1] ?? '').toLowerCase();
    if (nodeScheme !== 'http' && nodeScheme !== 'https') {
      throw new BackendError(
        `${backend}: unsupported scheme in node ${node} (use http or https)`,
        backend,
        given,
      );
    }
    return `${nodeScheme}://${match[2] ?? ''}`;
  });
}
