import type { SrvRecord } from 'node:dns';
import { BackendError, errorMessage } from '../errors.js';
import type { BackendOptions } from './store-client.js';

/** Looks up the SRV records of one DNS name. Injectable so tests need no DNS server. */
export type SrvResolver = (record: string) => Promise<SrvRecord[]>;

type SrvOptions = Pick<BackendOptions, 'backend' | 'nodes' | 'srvDomain' | 'srvRecord' | 'connectTimeoutMs'>;

/**
 * The SRV record to look up, as confd builds it: -srv-record as given, else `_<backend>._tcp.<srv-domain>.`;
 * undefined when neither flag is set.
 */
export function srvRecordName(
  options: Pick<BackendOptions, 'backend' | 'srvDomain' | 'srvRecord'>,
): string | undefined {
  if (options.srvRecord) return options.srvRecord;
  if (options.srvDomain) return `_${options.backend}._tcp.${options.srvDomain.replace(/\.$/, '')}.`;
  return undefined;
}

/**
 * The backend's nodes: from DNS SRV when -srv-domain or -srv-record is set (the answer replaces -node, as in
 * confd), else `options.nodes` unchanged. Answers become `host:port`, ordered by priority then by weight
 * (highest first) so the preferred server is tried first.
 */
export async function resolveSrvNodes(options: SrvOptions, resolver?: SrvResolver): Promise<string[]> {
  const record = srvRecordName(options);
  if (record === undefined) return options.nodes;
  const resolve = resolver ?? (await systemResolver(options.connectTimeoutMs));
  let answers: SrvRecord[];
  try {
    answers = await resolve(record);
  } catch (err) {
    throw new BackendError(
      `${options.backend}: cannot get nodes from SRV record ${record}: ${errorMessage(err)}`,
      options.backend,
      [record],
      { cause: err },
    );
  }
  if (answers.length === 0) {
    throw new BackendError(`${options.backend}: SRV record ${record} has no targets`, options.backend, [
      record,
    ]);
  }
  return [...answers]
    .sort((a, b) => a.priority - b.priority || b.weight - a.weight)
    .map((srv) => joinHostPort(srv.name.replace(/\.$/, ''), srv.port));
}

async function systemResolver(timeoutMs: number): Promise<SrvResolver> {
  const { Resolver } = await import('node:dns/promises');
  // A per-try timeout keeps a dead DNS server from hanging startup beyond the connect budget.
  const resolver = new Resolver({ timeout: Math.max(1, Math.floor(timeoutMs / 2)), tries: 2 });
  return (record) => resolver.resolveSrv(record);
}

function joinHostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}
