import { createStoreClient, prepareBackend } from '../backends/factory.js';
import { observeStore } from '../backends/observed-store.js';
import type { StoreClient } from '../backends/store-client.js';
import { configuredSecrets, redactSecrets } from '../config/redact-secrets.js';
import type { Settings } from '../config/settings.js';
import { ConfdError, UsageError, errorMessage } from '../errors.js';
import { EventBus } from '../events/event-bus.js';
import { logEvents } from '../logging/log-events.js';
import type { Logger } from '../logging/logger.js';
import { standardOutput } from '../logging/descriptor-sink.js';
import { SecretMask } from '../logging/secret-mask.js';
import { createLogger, type ClosableLogger } from '../logging/stream-logger.js';
import type { EndpointServer } from '../observe/http-server.js';
import { connectWithRetry } from '../process/connect-store.js';
import { Daemon, probeInterval, type SettingsUpdate } from '../process/daemon.js';
import { runOnetime } from '../process/onetime.js';
import { loadRetryPolicy } from '../retry-policy.js';
import { backendOptions } from './backend-options.js';
import { readCommandLine, type CommandLine } from './command-line.js';
import { configureTemplateEngine } from '../template/engine.js';
import { USAGE_HINT } from './flags.js';
import { Shutdown } from './shutdown.js';
import { readPackageVersion } from './version.js';
import { tuneV8 } from './v8-tuning.js';

/** How long closing the store may take at exit: a dead store must not hold the process. */
const CLOSE_TIMEOUT_MS = 5000;
/** After the shutdown timeout cut the work short, how long it may take to unwind. */
const UNWIND_MS = 5000;

/**
 * A run: the logger, the store connection and onetime or the daemon, from the resolved command line.
 * main() loads this module only when the command line asks for a run.
 */
export async function runConfd(
  resolved: Extract<CommandLine, { kind: 'run' }>,
  argv: string[],
  env: NodeJS.ProcessEnv,
): Promise<number> {
  const { settings } = resolved;
  const secrets = await configuredSecrets(settings, env);
  const logger = createLogger({ level: settings.logLevel, format: settings.logFormat, secrets });
  try {
    // The run's default engine; a resource's own `engine` key wins (see template/engine.ts).
    configureTemplateEngine(settings.templateEngine);
    await logStart(settings, logger);
    for (const warning of resolved.warnings) logger.warn(warning);
    // Everything the run loads of Node.js before its V8 flags, which would cost it the code cache of each
    // Node.js module loaded afterwards; before its store's library, whose load the flags keep smaller.
    await prepareBackend(settings.backend);
    tuneV8(settings, env);
    return await run(settings, logger, argv, env, new SecretMask(secrets));
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

async function logStart(settings: Settings, logger: Logger): Promise<void> {
  logger.info(`starting confd-ts -- version ${await readPackageVersion()}`);
  logger.info(`log level set to: ${settings.logLevel}`);
  // Node URLs may carry credentials (http://user:pass@host): log the redacted form only.
  const nodes = redactSecrets(settings).nodes;
  logger.info(`backend ${settings.backend}${nodes.length ? `, nodes ${nodes.join(', ')}` : ''}`, {
    backend: settings.backend,
  });
  logger.debug(`settings: ${JSON.stringify(redactSecrets(settings))}`);
}

async function run(
  settings: Settings,
  logger: ClosableLogger,
  argv: string[],
  env: NodeJS.ProcessEnv,
  mask: SecretMask,
) {
  const events = new EventBus((err) => logger.error(`event subscriber failed: ${errorMessage(err)}`));
  logEvents(events, logger);
  // -noop shows the change: the diff goes to stdout, the log line to stderr.
  events.on('resource', (event) => {
    if (event.diff === undefined) return;
    const refused =
      event.refusal === undefined ? '' : `# ${event.resource.dest}: would be refused: ${event.refusal}\n`;
    standardOutput.write(`${event.diff.endsWith('\n') ? event.diff : `${event.diff}\n`}${refused}`);
  });
  const connect = (s: Settings) => async (): Promise<StoreClient> => {
    const options = backendOptions(s);
    const store = await createStoreClient(options, logger);
    return observeStore(store, {
      backend: s.backend,
      endpoints: redactSecrets(s).nodes,
      requestTimeoutMs: s.requestTimeoutMs,
      events,
    });
  };
  const modes = { noop: settings.noop, syncOnly: settings.syncOnly, keepStageFile: settings.keepStageFile };
  const shutdown = new Shutdown(logger, settings.shutdownTimeoutMs);

  if (settings.onetime) {
    shutdown.install();
    try {
      // Onetime fails fast: CI wants the exit code now, not a retry loop.
      const store = await connect(settings)();
      try {
        const code = await runOnetime({
          confdir: settings.confdir,
          prefix: settings.prefix,
          store,
          modes,
          logger,
          events,
          signal: shutdown.stop.signal,
          cancel: shutdown.kill.signal,
          lookupTimeoutMs: settings.requestTimeoutMs,
        });
        return shutdown.signal ? shutdown.exitCode() : code;
      } finally {
        await closeQuietly(store, logger);
      }
    } finally {
      shutdown.uninstall();
    }
  }

  const endpoints = settings.metricsAddr
    ? await startEndpoints(settings, events, mask, () => !shutdown.stop.signal.aborted, logger)
    : undefined;
  let daemon: Daemon | undefined;
  shutdown.install(() => {
    if (daemon) void daemon.reload('signal');
    else logger.info('not started yet: nothing to reload');
  });
  try {
    const policy = await loadRetryPolicy();
    const store = await connectWithRetry(connect(settings), {
      backend: settings.backend,
      events,
      policy,
      signal: shutdown.stop.signal,
    });
    if (!store) return 0;
    let current = settings;
    daemon = new Daemon({
      mode: settings.watch ? 'watch' : 'interval',
      confdir: settings.confdir,
      prefix: settings.prefix,
      intervalMs: settings.interval * 1000,
      ...(settings.wait ? { wait: settings.wait } : {}),
      modes,
      store,
      logger,
      events,
      policy,
      cancel: shutdown.kill.signal,
      probeIntervalMs: probeInterval(settings.requestTimeoutMs),
      lookupTimeoutMs: settings.requestTimeoutMs,
      rereadSettings: async (): Promise<SettingsUpdate> => {
        const next = await readCommandLine(argv, env);
        if (next.kind !== 'run') throw new ConfdError('the command line no longer resolves to a run');
        const update = settingsUpdate(current, next.settings, connect, logger);
        logger.setLevel(next.settings.logLevel);
        current = next.settings;
        return update;
      },
    });
    const running = daemon.run(shutdown.stop.signal);
    await Promise.race([running, unwound(shutdown.kill.signal, UNWIND_MS)]);
    await closeQuietly(daemon.storeClient, logger);
    return 0;
  } finally {
    shutdown.uninstall();
    await endpoints?.close();
  }
}

/** -metrics-addr: status and metrics subscribe to the event stream before anything happens. */
async function startEndpoints(
  settings: Settings,
  events: EventBus,
  mask: SecretMask,
  alive: () => boolean,
  logger: Logger,
): Promise<EndpointServer> {
  const [{ createMetrics }, { StatusBoard }, { EndpointServer }] = await Promise.all([
    import('../observe/metrics.js'),
    import('../observe/status-board.js'),
    import('../observe/http-server.js'),
  ]);
  const status = new StatusBoard(
    events,
    {
      version: await readPackageVersion(),
      backend: settings.backend,
      nodes: redactSecrets(settings).nodes,
      mode: settings.watch ? 'watch' : 'interval',
      startTime: new Date(),
    },
    (text) => mask.mask(text),
  );
  const server = new EndpointServer({ metrics: await createMetrics(events), status, alive });
  const bound = await server.listen(settings.metricsAddr ?? '');
  logger.info(`metrics server started on ${bound}`);
  return server;
}

/** What a reload may change live; anything else needs a restart, and says so. */
function settingsUpdate(
  before: Settings,
  after: Settings,
  connect: (s: Settings) => () => Promise<StoreClient>,
  logger: Logger,
): SettingsUpdate {
  const update: SettingsUpdate = { prefix: after.prefix, ...(after.wait ? { wait: after.wait } : {}) };
  if (JSON.stringify(backendOptions(before)) !== JSON.stringify(backendOptions(after)))
    update.connect = connect(after);
  const live = new Set<keyof Settings>(['prefix', 'wait', 'logLevel', 'configFile']);
  for (const key of Object.keys({ ...before, ...after }) as (keyof Settings)[]) {
    if (live.has(key) || key in backendOptions(after)) continue;
    if (JSON.stringify(before[key]) !== JSON.stringify(after[key]))
      logger.warn(`reload: a change to "${key}" takes effect after a restart`);
  }
  return update;
}

/** Resolves `ms` after `signal` aborted: how long the work cut short may take to unwind. */
function unwound(signal: AbortSignal, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const start = (): void => void setTimeout(resolve, ms).unref();
    if (signal.aborted) start();
    else signal.addEventListener('abort', start, { once: true });
  });
}

async function closeQuietly(store: StoreClient, logger: Logger): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      store.close(),
      new Promise<void>((resolve) => (timer = setTimeout(resolve, CLOSE_TIMEOUT_MS))),
    ]);
  } catch (err) {
    logger.debug(`closing the store client: ${errorMessage(err)}`);
  } finally {
    clearTimeout(timer);
  }
}
