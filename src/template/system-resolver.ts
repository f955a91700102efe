import type * as Dns from 'node:dns/promises';
import { DEFAULT_LOOKUP_TIMEOUT_MS } from './dns-lookups.js';
import type { DnsResolver, SrvRecord } from './dns-lookups.js';

/** c-ares waits t on the first try and about twice that on the next: t + 2t fits the deadline. */
const SRV_TRIES = 2;

export interface SystemResolverOptions {
  /** The lookup deadline the SRV query timeouts are sized to. */
  timeoutMs?: number;
  /** Name servers for SRV queries ("127.0.0.1:5353"); the system's (resolv.conf) by default. */
  servers?: readonly string[];
}

/**
 * The operating system's view of DNS, as Go's resolver gives confd: addresses through getaddrinfo (so
 * /etc/hosts counts), SRV records from the configured name servers. getaddrinfo has no timeout and cannot
 * be cancelled: DnsLookups stops waiting at its deadline and the call finishes (or not) on its own. SRV
 * queries get c-ares timeouts sized to the deadline and are cancelled when it passes.
 */
export function systemResolver(options: SystemResolverOptions = {}): DnsResolver {
  const timeoutMs = options.timeoutMs ?? DEFAULT_LOOKUP_TIMEOUT_MS;
  return {
    async lookupIP(host) {
      const { lookup } = await loadDns();
      const addresses = await lookup(host, { all: true, verbatim: true });
      return addresses.map((a) => a.address);
    },
    async lookupSRV(service, proto, name, signal) {
      const { Resolver } = await loadDns();
      // One resolver per query, so cancelling it at the deadline cancels nothing else.
      const resolver = new Resolver({
        timeout: Math.max(1, Math.floor(timeoutMs / (2 ** SRV_TRIES - 1))),
        tries: SRV_TRIES,
      });
      if (options.servers) resolver.setServers(options.servers);
      const cancel = (): void => resolver.cancel();
      signal?.addEventListener('abort', cancel, { once: true });
      try {
        const fqdn = service === '' && proto === '' ? name : `_${service}._${proto}.${name}`;
        const records = await resolver.resolveSrv(fqdn);
        return records.map((r): SrvRecord => ({
          // Go reports targets fully qualified, with the trailing dot.
          Target: r.name.endsWith('.') ? r.name : `${r.name}.`,
          Port: r.port,
          Priority: r.priority,
          Weight: r.weight,
        }));
      } finally {
        signal?.removeEventListener('abort', cancel);
      }
    },
  };
}

/** Loaded on the first lookup: most templates make none, and the module is ~1 ms of a cold start. */
function loadDns(): Promise<typeof Dns> {
  return import('node:dns/promises');
}
