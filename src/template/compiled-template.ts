import type { DnsResolver } from './dns-lookups.js';
import type { KVStore } from './kv-store.js';

export interface RenderOptions {
  /** Where DNS helpers look names up; the system resolver by default. */
  resolver?: DnsResolver;
  /** The time `datetime` reports; now by default. */
  now?: Date;
  /**
   * Deadline for each DNS lookup a helper makes (`-request-timeout`); 10 s by default. A lookup still
   * unanswered then fails the render with ETIMEOUT.
   */
  lookupTimeoutMs?: number;
}

/** A template ready to render, whichever engine compiled it: the processors only see this. */
export interface CompiledTemplate {
  readonly path: string;
  /** Renders against one store. Safe to call repeatedly and concurrently: nothing is kept between renders. */
  render(store: KVStore, options?: RenderOptions): Promise<string>;
}
