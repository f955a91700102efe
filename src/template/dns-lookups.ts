import { compareGoStrings } from './go-strings.js';
import { goStruct } from './go-struct.js';

/** net.SRV as confd templates see it: `{{Target}}:{{Port}}`. Target is fully qualified ("host.example."). */
export interface SrvRecord {
  readonly Target: string;
  readonly Port: number;
  readonly Priority: number;
  readonly Weight: number;
}

/**
 * Where lookups really go; the system resolver in production, a stub in tests. A failure rejects with an
 * error whose `code` is the resolver's (ENOTFOUND, ENODATA, ETIMEOUT, ESERVFAIL, EAI_AGAIN...). `signal`
 * aborts when the lookup's deadline has passed: the answer is no longer wanted.
 */
export interface DnsResolver {
  lookupIP(host: string, signal?: AbortSignal): Promise<string[]>;
  /** `_service._proto.name`, or `name` alone when service and proto are both empty (as Go's LookupSRV). */
  lookupSRV(service: string, proto: string, name: string, signal?: AbortSignal): Promise<SrvRecord[]>;
}

export const DEFAULT_LOOKUP_TIMEOUT_MS = 10_000;

/**
 * Resolver codes that are an answer, not a failure: the name does not exist (NXDOMAIN; getaddrinfo's
 * EAI_NONAME/EAI_NODATA, which Node reports as ENOTFOUND) or holds no record of the type asked (ENODATA).
 * These yield the empty list, as in confd (a Consul DNS service without healthy instances answers
 * NXDOMAIN). Every other code (a timeout, SERVFAIL, a refused or unreachable server, EAI_AGAIN) means no
 * answer was obtained, and the render fails instead of writing a file as if the name had no addresses.
 */
const NO_RECORDS = new Set(['ENOTFOUND', 'ENODATA']);

/** A lookup that got no answer. `query` is the name asked for; `code` the resolver's error code. */
export class DnsLookupError extends Error {
  constructor(
    readonly kind: 'IP' | 'SRV',
    readonly query: string,
    readonly code: string,
    detail?: string,
    options?: { cause?: unknown },
  ) {
    super(
      `DNS ${kind === 'SRV' ? 'SRV ' : ''}lookup of ${JSON.stringify(query)} failed: ${code}${detail ? ` (${detail})` : ''}`,
      options,
    );
    this.name = 'DnsLookupError';
  }
}

type Answer = { readonly records: readonly unknown[] } | { readonly error: DnsLookupError };

interface QueuedLookup {
  readonly kind: 'IP' | 'SRV';
  readonly query: string;
  readonly run: (signal: AbortSignal) => Promise<readonly unknown[]>;
}

export interface DnsLookupsOptions {
  /** Deadline for each lookup; a lookup still unanswered then fails with ETIMEOUT. */
  timeoutMs?: number;
}

/**
 * Handlebars helpers are synchronous, DNS is not. A render therefore runs in passes: a lookup whose answer
 * is not known yet returns an empty result and is queued; the caller resolves the queue and renders again,
 * until a pass queues nothing new. Answers (and failures) live only as long as this object: one per render.
 */
export class DnsLookups {
  private readonly answers = new Map<string, Answer>();
  private readonly queued = new Map<string, QueuedLookup>();
  private readonly timeoutMs: number;

  constructor(
    private readonly resolver: DnsResolver,
    options: DnsLookupsOptions = {},
  ) {
    this.timeoutMs = options.timeoutMs ?? DEFAULT_LOOKUP_TIMEOUT_MS;
  }

  /** Sorted addresses; [] when the name does not exist. Throws DnsLookupError when the lookup failed. */
  ip(host: string): string[] {
    return this.answer(`ip\0${host}`, {
      kind: 'IP',
      query: host,
      run: async (signal) => (await this.resolver.lookupIP(host, signal)).sort(compareGoStrings),
    }) as string[];
  }

  /** Records sorted as confd sorts them: by the string Target+Port+Priority+Weight. */
  srv(service: string, proto: string, name: string): SrvRecord[] {
    return this.answer(`srv\0${service}\0${proto}\0${name}`, {
      kind: 'SRV',
      query: service === '' && proto === '' ? name : `_${service}._${proto}.${name}`,
      run: async (signal) => {
        const records = await this.resolver.lookupSRV(service, proto, name, signal);
        const sortKey = (r: SrvRecord): string => `${r.Target}${r.Port}${r.Priority}${r.Weight}`;
        return records
          .map((r) => goStruct({ ...r }))
          .sort((a, b) => compareGoStrings(sortKey(a), sortKey(b)));
      },
    }) as SrvRecord[];
  }

  get pending(): boolean {
    return this.queued.size > 0;
  }

  /** Runs every queued lookup, each within its deadline. Never rejects: failures are kept as answers. */
  async resolvePending(): Promise<void> {
    const jobs = [...this.queued];
    this.queued.clear();
    await Promise.all(
      jobs.map(async ([key, lookup]) => {
        this.answers.set(key, await this.settle(lookup));
      }),
    );
  }

  private async settle(lookup: QueuedLookup): Promise<Answer> {
    const controller = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        controller.abort();
        reject(
          new DnsLookupError(lookup.kind, lookup.query, 'ETIMEOUT', `no answer within ${this.timeoutMs} ms`),
        );
      }, this.timeoutMs);
    });
    try {
      return { records: await Promise.race([lookup.run(controller.signal), deadline]) };
    } catch (err) {
      if (err instanceof DnsLookupError) return { error: err };
      const code = errorCode(err);
      if (code !== undefined && NO_RECORDS.has(code)) return { records: [] };
      return {
        error: new DnsLookupError(
          lookup.kind,
          lookup.query,
          code ?? 'EFAIL',
          code ? undefined : err instanceof Error ? err.message : String(err),
          { cause: err },
        ),
      };
    } finally {
      clearTimeout(timer);
    }
  }

  private answer(key: string, lookup: QueuedLookup): unknown[] {
    const known = this.answers.get(key);
    if (known) {
      if ('error' in known) throw known.error;
      return [...known.records];
    }
    this.queued.set(key, lookup);
    return [];
  }
}

function errorCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code !== '' ? code : undefined;
}
