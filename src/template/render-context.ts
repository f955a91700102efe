import type { DnsLookups } from './dns-lookups.js';
import type { KVStore } from './kv-store.js';

/** Everything one render's helpers may read. Built per render, never shared between renders. */
export interface RenderContext {
  readonly store: KVStore;
  readonly dns: DnsLookups;
  /** The moment `datetime` reports: fixed for the whole render, so DNS re-render passes agree. */
  readonly now: Date;
}
