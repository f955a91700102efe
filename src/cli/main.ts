import { createStoreClient } from '../backends/factory.js';
import type { StoreClient } from '../backends/store-client.js';
import { redactSecrets } from '../config/redact-secrets.js';
import { resolveSettings } from '../config/resolve-settings.js';
import type { Settings } from '../config/settings.js';
import { ConfdError, UsageError, errorMessage } from '../errors.js';
import type { Logger } from '../logging/logger.js';
import { createLogger } from '../logging/winston-logger.js';
import { runInterval } from '../process/interval.js';
import { connectWithRetry } from '../process/connect-store.js';
import { runOnetime } from '../process/onetime.js';
import { watchConfdir } from '../process/watch.js';
import { configureTemplateEngine } from '../template/engine.js';
import { USAGE_HINT } from './flags.js';
import { installWarningFilter } from './warning-filter.js';

/** Exit codes: 0 success, 1 a resource or the setup failed, 2 bad command line. */
export async function main(argv: string[]): Promise<number> {
  installWarningFilter();
  let resolved: Awaited<ReturnType<typeof resolveSettings>>;
  try {
    resolved = await resolveSettings(argv, process.env);
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`confd: ${err.message}\n${USAGE_HINT}\n`);
      return 2;
    }
    process.stderr.write(`confd: ${errorMessage(err)}\n`);
    return 1;
  }
  if (resolved.kind !== 'run') {
    process.stdout.write(resolved.text.endsWith('\n') ? resolved.text : `${resolved.text}\n`);
    return 0;
  }

  const { settings } = resolved;
  const logger = await createLogger({ level: settings.logLevel });
  for (const warning of resolved.warnings) logger.warn(warning);
  logger.debug(`settings: ${JSON.stringify(redactSecrets(settings))}`);
  try {
    return await run(settings, logger);
  } catch (err) {
    // A backend can only judge some settings once chosen (-backend file without -file): still a usage error.
    if (err instanceof UsageError) {
      logger.error(`${err.message}. ${USAGE_HINT}`);
      return 2;
    }
    // Expected failures (bad backend, unreachable store, bad conf.d) are one line; anything else is a bug
    // and keeps its stack for the report.
    logger.error(
      err instanceof ConfdError
        ? err.message
        : err instanceof Error
          ? (err.stack ?? err.message)
          : String(err),
    );
    return 1;
  } finally {
    await logger.close();
  }
}

async function run(settings: Settings, logger: Logger): Promise<number> {
  configureTemplateEngine(settings.templateEngine);
  // Node URLs may carry credentials (http://user:pass@host): log the redacted form only.
  const nodes = redactSecrets(settings).nodes;
  logger.info(
    `Starting confd-ts (backend ${settings.backend}${nodes.length ? `, nodes ${nodes.join(',')}` : ''})`,
  );
  const modes = { noop: settings.noop, syncOnly: settings.syncOnly, keepStageFile: settings.keepStageFile };
  const connect = () => createStoreClient(settings, logger);

  if (settings.onetime) {
    // Onetime fails fast: CI wants the exit code now, not a retry loop.
    const store = await connect();
    try {
      return await runOnetime(settings.confdir, settings.prefix, store, modes, logger);
    } finally {
      await closeQuietly(store, logger);
    }
  }

  await runUntilSignalled(async (signal) => {
    const store = await connectWithRetry(connect, logger, signal);
    if (!store) return;
    try {
      if (settings.watch) {
        // -interval stays meaningful with -watch: a full re-render every N seconds (default 600) as a safety
        // net for anything a watch could miss; files already in sync are not touched, so it costs only reads.
        const options = { wait: settings.wait, resyncIntervalMs: settings.interval * 1000 };
        await watchConfdir(settings.confdir, settings.prefix, store, modes, logger, signal, options);
      } else {
        await runInterval(settings.confdir, settings.prefix, settings.interval, store, modes, logger, signal);
      }
    } finally {
      await closeQuietly(store, logger);
    }
  }, logger);
  return 0;
}

/** SIGINT/SIGTERM stop the daemon once the resource in flight is done; a second signal exits at once. */
async function runUntilSignalled(
  loop: (signal: AbortSignal) => Promise<void>,
  logger: Logger,
): Promise<void> {
  const controller = new AbortController();
  const onSignal = (signal: NodeJS.Signals) => {
    if (controller.signal.aborted) {
      logger.warn(`${signal} again: exiting without waiting for the current pass`);
      process.exit(130);
    }
    logger.info(`${signal} received: finishing the resource in flight, then exiting`);
    controller.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    await loop(controller.signal);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

async function closeQuietly(store: StoreClient, logger: Logger): Promise<void> {
  try {
    await store.close();
  } catch (err) {
    logger.debug(`closing the store client: ${errorMessage(err)}`);
  }
}
