import { errorMessage, TemplateError } from '../errors.js';
import type { EventBus } from '../events/event-bus.js';
import type { BatchEvent, ConfdEvent, ResourceOutcome } from '../events/events.js';
import type { Logger } from './logger.js';

/**
 * The log lines of the event stream: what happened to each resource, reload, watch and configuration
 * load, in confd's wording where confd has one ("target config X has been updated"). Returns the
 * unsubscribe function.
 */
export function logEvents(events: EventBus, logger: Logger): () => void {
  return events.subscribe((event) => logEvent(event, logger));
}

function logEvent(event: ConfdEvent, logger: Logger): void {
  switch (event.type) {
    case 'resource': {
      const { dest, id } = event.resource;
      const fields = { dest, resource: id };
      if (event.outcome === 'updated') logger.info(`target config ${dest} has been updated`, fields);
      else if (event.outcome === 'in_sync') logger.debug(`${dest} in sync`, fields);
      else if (event.outcome === 'would_update') logger.info(`noop: ${dest} would change`, fields);
      else {
        const retry = event.retryInMs === undefined ? '' : `; retrying in ${seconds(event.retryInMs)}`;
        const message = errorMessage(event.error);
        const key = event.error instanceof TemplateError ? event.error.key : undefined;
        logger.error(`${dest}: ${message}${retry}`, {
          ...fields,
          ...(key ? { key } : {}),
          error: message,
          reason: event.reason ?? '',
        });
      }
      return;
    }
    case 'reload': {
      const dests = event.resources.map((r) => r.dest).join(', ');
      const what = event.afterRollback ? `${event.step} after the rollback` : event.step;
      if (event.ok) {
        const line = `${what} for ${dests} done in ${Math.round(event.run.durationMs)} ms`;
        if (event.afterRollback) logger.info(line);
        else logger.debug(line);
      } else {
        const message = errorMessage(event.error);
        logger.error(`${what} for ${dests} failed: ${message}`, {
          dest: dests,
          error: message,
          reason: event.step,
        });
      }
      return;
    }
    case 'watch':
      logWatch(event, logger);
      return;
    case 'store':
      if (event.ok) return;
      if (event.op === 'connect') {
        // A daemon waiting for its store: every attempt is worth a line.
        const retry = event.retryInMs === undefined ? '' : `; retrying in ${seconds(event.retryInMs)}`;
        logger.error(`${errorMessage(event.error)}${retry}`, {
          backend: event.backend,
          error: errorMessage(event.error),
        });
      } else {
        logger.debug(`${event.backend}: ${event.op} failed after ${Math.round(event.durationMs)} ms`, {
          backend: event.backend,
          error: errorMessage(event.error),
        });
      }
      return;
    case 'config':
      for (const error of event.errors) if (error !== event.error) logger.error(errorMessage(error));
      if (event.ok) {
        if (event.trigger === 'start') {
          logger.info(`loaded ${event.resources.length} template resources from ${event.source}`);
          return;
        }
        const { added, removed, changed } = event;
        if (added.length + removed.length + changed.length === 0) {
          logger.debug(`configuration re-read (${event.trigger}): nothing changed`);
          return;
        }
        logger.info(
          `configuration reloaded (${event.trigger}): ${event.resources.length} resources, ` +
            `${added.length} added, ${removed.length} removed, ${changed.length} changed`,
        );
      } else {
        logger.error(
          `configuration reload (${event.trigger}) rejected, the running configuration stays: ${errorMessage(event.error)}`,
          { error: errorMessage(event.error) },
        );
      }
      return;
    case 'batch':
      logBatch(event, logger);
      return;
  }
}

function logWatch(event: Extract<ConfdEvent, { type: 'watch' }>, logger: Logger): void {
  const fields = { prefix: event.prefix };
  switch (event.state) {
    case 'armed':
      logger.debug(`watch on ${event.prefix} armed at index ${event.index ?? '?'}`, fields);
      return;
    case 'fired':
      logger.debug(
        `watch on ${event.prefix}: ${event.changedKeys === undefined ? 'changes not itemised' : `${event.changedKeys} key(s) changed`}, ` +
          `${event.resources ?? 0} resource(s) to render`,
        fields,
      );
      return;
    case 'failed': {
      const retry = event.retryInMs === undefined ? '' : `; retrying in ${seconds(event.retryInMs)}`;
      const message = errorMessage(event.error);
      logger.warn(`watch on ${event.prefix} failed: ${message}${retry}`, { ...fields, error: message });
      return;
    }
    case 'released':
      logger.debug(`watch on ${event.prefix} released`, fields);
      return;
  }
}

/** One line that tells an operator (or a CI log) what a batch did. */
export function summarize(counts: Readonly<Record<ResourceOutcome, number>>, loadFailures: number): string {
  const failed = counts.failed + loadFailures;
  const total = counts.updated + counts.in_sync + counts.would_update + failed;
  const parts = [`${counts.updated} updated`, `${counts.in_sync} in sync`];
  if (counts.would_update > 0) parts.push(`${counts.would_update} would change`);
  parts.push(`${failed} failed`);
  return `${total} resource${total === 1 ? '' : 's'}: ${parts.join(', ')}`;
}

function logBatch(event: BatchEvent, logger: Logger): void {
  const line = summarize(event.counts, event.loadFailures);
  const failed = event.counts.failed + event.loadFailures > 0;
  if (event.mode === 'onetime') {
    if (failed) logger.error(line);
    else logger.info(line);
    return;
  }
  const prefix = event.mode === 'watch' ? 'watch: ' : '';
  const quiet = !event.first && !failed && event.counts.updated === 0 && event.counts.would_update === 0;
  if (quiet) logger.debug(`${prefix}${line}`);
  else logger.info(`${prefix}${line}`);
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)}s`;
}
