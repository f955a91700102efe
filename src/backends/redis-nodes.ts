import { BackendError } from '../errors.js';

export const DEFAULT_REDIS_NODE = '127.0.0.1:6379';

/** Where one Redis server listens: TCP host and port, or a unix socket path; and which database to use. */
export type RedisNode = { node: string; db: number } & ({ host: string; port: number } | { path: string });

/**
 * Parses -node values as confd does: `host:port`, `host:port/db` (database index after the first slash),
 * or the path of a unix socket. An optional `redis://` prefix is tolerated. No node means 127.0.0.1:6379.
 */
export function parseRedisNodes(nodes: readonly string[], backend: string): RedisNode[] {
  const given = nodes.map((n) => n.trim()).filter((n) => n !== '');
  return (given.length > 0 ? given : [DEFAULT_REDIS_NODE]).map((node) => parseNode(node, backend, given));
}

function parseNode(node: string, backend: string, all: readonly string[]): RedisNode {
  if (node.startsWith('/')) return { node, path: node, db: 0 };
  const address = node.replace(/^redis:\/\//i, '');
  const slash = address.indexOf('/');
  const hostPort = slash === -1 ? address : address.slice(0, slash);
  const dbText = slash === -1 ? '' : address.slice(slash + 1);
  if (dbText !== '' && !/^\d+$/.test(dbText)) {
    throw new BackendError(
      `${backend}: invalid database "${dbText}" in node ${node} (use host:port/<number>)`,
      backend,
      all,
    );
  }
  const match = /^(?:\[([^\]]+)\]|([^:]+))(?::(\d+))?$/.exec(hostPort);
  const host = match?.[1] ?? match?.[2];
  const port = Number(match?.[3] ?? 6379);
  if (!host || port < 1 || port > 65535) {
    throw new BackendError(`${backend}: invalid node ${node} (use host:port or host:port/db)`, backend, all);
  }
  return { node, host, port, db: dbText === '' ? 0 : Number(dbText) };
}
