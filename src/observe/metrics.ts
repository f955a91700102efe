import type { Registry } from 'prom-client';
import type { EventBus } from '../events/event-bus.js';
import type { ConfdEvent } from '../events/events.js';

export interface Metrics {
  /** The exposition text and its content type. */
  render(): Promise<{ body: string; contentType: string }>;
}

const SECONDS = (ms: number): number => ms / 1000;

/** Render and command durations: milliseconds to a minute. */
const DURATION_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

/**
 * The Prometheus metrics, kept from the event stream. This is the only module that imports prom-client,
 * and it is loaded only when -metrics-addr is set. Counters are labelled as documented in
 * docs/operations.md; a resource that is removed by a reload takes its per-dest series with it.
 */
export async function createMetrics(events: EventBus): Promise<Metrics> {
  const client = await import('prom-client');
  const registry: Registry = new client.Registry();
  client.collectDefaultMetrics({ register: registry });
  const registers = [registry];

  const syncs = new client.Counter({
    name: 'confd_template_syncs_total',
    help: 'Template resources rendered and synced, by destination and result (updated, in_sync, failed).',
    labelNames: ['dest', 'result'],
    registers,
  });
  const failures = new client.Counter({
    name: 'confd_template_failures_total',
    help: 'Template resource failures, by destination and reason (store, missing_key, template, check, write, reload, guard, timeout).',
    labelNames: ['dest', 'reason'],
    registers,
  });
  const render = new client.Histogram({
    name: 'confd_template_render_duration_seconds',
    help: 'Time spent rendering one template.',
    buckets: DURATION_BUCKETS,
    registers,
  });
  const commands = new client.Histogram({
    name: 'confd_command_duration_seconds',
    help: 'Duration of check_cmd and reload_cmd runs, by type and destination.',
    labelNames: ['type', 'dest'],
    buckets: DURATION_BUCKETS,
    registers,
  });
  const lastSuccess = new client.Gauge({
    name: 'confd_last_sync_success_timestamp_seconds',
    help: 'When the destination was last found or made current (Unix time).',
    labelNames: ['dest'],
    registers,
  });
  const requests = new client.Counter({
    name: 'confd_backend_requests_total',
    help: 'Requests to the store, by backend, operation (connect, read, watch, ping) and result (ok, error).',
    labelNames: ['backend', 'op', 'result'],
    registers,
  });
  const requestDuration = new client.Histogram({
    name: 'confd_backend_request_duration_seconds',
    help: 'Duration of store requests, by backend and operation.',
    labelNames: ['backend', 'op'],
    buckets: DURATION_BUCKETS,
    registers,
  });
  const up = new client.Gauge({
    name: 'confd_backend_up',
    help: '1 while the store answers, 0 once a request or watch failed (until one succeeds again).',
    registers,
  });
  const watchEvents = new client.Counter({
    name: 'confd_watch_events_total',
    help: 'Changes reported by the store watch of each prefix.',
    labelNames: ['prefix'],
    registers,
  });
  const resources = new client.Gauge({
    name: 'confd_resources',
    help: 'Template resources running.',
    registers,
  });
  const reloads = new client.Counter({
    name: 'confd_config_reloads_total',
    help: 'Configuration reloads (SIGHUP, conf.d or templates changed), by result (success, failure).',
    labelNames: ['result'],
    registers,
  });
  const lastReload = new client.Gauge({
    name: 'confd_config_last_reload_successful',
    help: '1 when the last configuration (re)load was applied, 0 when it was rejected.',
    registers,
  });

  // Both results exist from the start, so an alert on failures has a series to watch before the first one.
  reloads.inc({ result: 'success' }, 0);
  reloads.inc({ result: 'failure' }, 0);

  const dests = new Set<string>();
  const apply = (event: ConfdEvent): void => {
    switch (event.type) {
      case 'resource': {
        const { dest } = event.resource;
        if (event.renderMs !== undefined) render.observe(SECONDS(event.renderMs));
        if (event.check) commands.observe({ type: 'check', dest }, SECONDS(event.check.durationMs));
        if (event.outcome === 'would_update') return;
        syncs.inc({ dest, result: event.outcome });
        if (event.outcome === 'failed') failures.inc({ dest, reason: event.reason ?? 'write' });
        else lastSuccess.set({ dest }, Date.now() / 1000);
        return;
      }
      case 'reload':
        for (const { dest } of event.resources)
          commands.observe({ type: event.step, dest }, SECONDS(event.run.durationMs));
        return;
      case 'store':
        requests.inc({ backend: event.backend, op: event.op, result: event.ok ? 'ok' : 'error' });
        requestDuration.observe({ backend: event.backend, op: event.op }, SECONDS(event.durationMs));
        up.set(event.ok ? 1 : 0);
        return;
      case 'watch':
        if (event.state === 'fired') watchEvents.inc({ prefix: event.prefix });
        else if (event.state === 'failed') up.set(0);
        else if (event.state === 'armed') up.set(1);
        return;
      case 'config': {
        if (event.trigger !== 'start') reloads.inc({ result: event.ok ? 'success' : 'failure' });
        lastReload.set(event.ok ? 1 : 0);
        if (!event.ok) return;
        resources.set(event.resources.length);
        const current = new Set(event.resources.map((ref) => ref.dest));
        for (const dest of dests) {
          if (current.has(dest)) continue;
          lastSuccess.remove({ dest });
          dests.delete(dest);
        }
        for (const dest of current) dests.add(dest);
        return;
      }
      case 'batch':
        return;
    }
  };
  events.subscribe(apply);
  return {
    render: async () => ({ body: await registry.metrics(), contentType: registry.contentType }),
  };
}
