import { TemplateError } from '../errors.js';
import type { RenderOptions } from './compiled-template.js';
import { DEFAULT_LOOKUP_TIMEOUT_MS, DnsLookups } from './dns-lookups.js';
import type { KVStore } from './kv-store.js';
import type { RenderContext } from './render-context.js';
import { systemResolver } from './system-resolver.js';

/** A render that keeps queueing new DNS names (each answer naming another) gives up after this many passes. */
const MAX_RENDER_PASSES = 8;

/**
 * Template functions are synchronous, DNS is not: a render runs in passes. A lookup whose answer is not
 * known yet returns an empty result and is queued; a pass that queued lookups ran on empty answers, so its
 * output (or failure) does not count: the queue is resolved and the template renders again, until a pass
 * queues nothing new. Templates without DNS functions render once. Both engines render this way.
 */
export async function renderInPasses(
  path: string,
  store: KVStore,
  options: RenderOptions,
  attempt: (ctx: RenderContext) => string,
): Promise<string> {
  const timeoutMs = options.lookupTimeoutMs ?? DEFAULT_LOOKUP_TIMEOUT_MS;
  const dns = new DnsLookups(options.resolver ?? systemResolver({ timeoutMs }), { timeoutMs });
  const ctx: RenderContext = { store, dns, now: options.now ?? new Date() };
  for (let pass = 1; ; pass++) {
    let output = '';
    let failure: { error: unknown } | undefined;
    try {
      output = attempt(ctx);
    } catch (error) {
      failure = { error };
    }
    if (!dns.pending) {
      if (failure) throw failure.error;
      return output;
    }
    if (pass === MAX_RENDER_PASSES) {
      throw new TemplateError(`${path}: DNS lookups still unresolved after ${pass} render passes`, path);
    }
    await dns.resolvePending();
  }
}
