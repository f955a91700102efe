import { lookup, Resolver } from 'node:dns/promises';
import type { DnsResolver, SrvRecord } from './dns-lookups.js';

/**
 * The operating system's view of DNS, as Go's resolver gives confd: addresses through getaddrinfo (so
 * /etc/hosts counts), SRV records from the configured name servers with a bounded wait.
 */
export function systemResolver(): DnsResolver {
  let resolver: Resolver | undefined;
  return {
    async lookupIP(host) {
      const addresses = await lookup(host, { all: true, verbatim: true });
      return addresses.map((a) => a.address);
    },
    async lookupSRV(service, proto, name) {
      resolver ??= new Resolver({ timeout: 5000, tries: 2 });
      const fqdn = service === '' && proto === '' ? name : `_${service}._${proto}.${name}`;
      const records = await resolver.resolveSrv(fqdn);
      return records.map((r): SrvRecord => ({
        // Go reports targets fully qualified, with the trailing dot.
        Target: r.name.endsWith('.') ? r.name : `${r.name}.`,
        Port: r.port,
        Priority: r.priority,
        Weight: r.weight,
      }));
    },
  };
}
