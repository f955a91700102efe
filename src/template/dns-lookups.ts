import { compareGoStrings } from './go-strings.js';
import { goStruct } from './go-struct.js';

/** net.SRV as confd templates see it: `{{Target}}:{{Port}}`. Target is fully qualified ("host.example."). */
export interface SrvRecord {
  readonly Target: string;
  readonly Port: number;
  readonly Priority: number;
  readonly Weight: number;
}

/** Where lookups really go; the system resolver in production, a stub in tests. */
export interface DnsResolver {
  lookupIP(host: string): Promise<string[]>;
  /** `_service._proto.name`, or `name` alone when service and proto are both empty (as Go's LookupSRV). */
  lookupSRV(service: string, proto: string, name: string): Promise<SrvRecord[]>;
}

/**
 * Handlebars helpers are synchronous, DNS is not. A render therefore runs in passes: a lookup whose answer
 * is not known yet returns an empty result and is queued; the caller resolves the queue and renders again,
 * until a pass queues nothing new. Answers live only as long as this object: one per render.
 */
export class DnsLookups {
  private readonly answers = new Map<string, readonly unknown[]>();
  private readonly queued = new Map<string, () => Promise<readonly unknown[]>>();

  constructor(private readonly resolver: DnsResolver) {}

  /** Sorted addresses, or [] when the name does not resolve (confd ignores lookup errors). */
  ip(host: string): string[] {
    return this.answer(`ip\0${host}`, async () =>
      (await this.resolver.lookupIP(host)).sort(compareGoStrings),
    ) as string[];
  }

  /** Records sorted as confd sorts them: by the string Target+Port+Priority+Weight. */
  srv(service: string, proto: string, name: string): SrvRecord[] {
    return this.answer(`srv\0${service}\0${proto}\0${name}`, async () => {
      const records = await this.resolver.lookupSRV(service, proto, name);
      const sortKey = (r: SrvRecord): string => `${r.Target}${r.Port}${r.Priority}${r.Weight}`;
      return records.map((r) => goStruct({ ...r })).sort((a, b) => compareGoStrings(sortKey(a), sortKey(b)));
    }) as SrvRecord[];
  }

  get pending(): boolean {
    return this.queued.size > 0;
  }

  async resolvePending(): Promise<void> {
    const jobs = [...this.queued];
    this.queued.clear();
    await Promise.all(
      jobs.map(async ([key, lookup]) => {
        this.answers.set(key, await lookup().catch(() => []));
      }),
    );
  }

  private answer(key: string, lookup: () => Promise<readonly unknown[]>): unknown[] {
    const known = this.answers.get(key);
    if (known) return [...known];
    this.queued.set(key, lookup);
    return [];
  }
}
