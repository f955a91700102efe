import { stringArg } from './args.js';
import { defineHelper } from './spec.js';

/**
 * DNS lookups. Answers come from the render's DnsLookups: the first pass queues them, a later pass reads
 * them (see compile-template.ts). A name that does not exist yields an empty list, as in confd; a lookup
 * that gets no answer (timeout, SERVFAIL, unreachable server) fails the render (see dns-lookups.ts).
 */
export const netHelpers = [
  defineHelper('lookupIP', 1, (args, { dns }) => dns.ip(stringArg(args, 0))),
  defineHelper('lookupIPV4', 1, (args, { dns }) =>
    dns.ip(stringArg(args, 0)).filter((ip) => ip.includes('.')),
  ),
  defineHelper('lookupIPV6', 1, (args, { dns }) =>
    dns.ip(stringArg(args, 0)).filter((ip) => ip.includes(':')),
  ),
  defineHelper('lookupSRV', 3, (args, { dns }) =>
    dns.srv(stringArg(args, 0), stringArg(args, 1), stringArg(args, 2)),
  ),
];
