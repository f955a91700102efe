import { parseFlags } from '../cli/flags.js';
import { versionText } from '../cli/version.js';
import { loadConfigFile } from './config-file.js';
import { settingsFromEnv } from './env-settings.js';
import { DEFAULT_SETTINGS, type Settings } from './settings.js';

export type ResolvedSettings =
  { kind: 'run'; settings: Settings; warnings: string[] } | { kind: 'help' | 'version'; text: string };

export interface ResolveOptions {
  /** Replaces built-in defaults (tests point configFile at a temp dir instead of /etc/confd). */
  defaults?: Partial<Settings>;
}

/**
 * Builds the run configuration: defaults < confd.toml < CONFD_* variables < flags. Upstream confd lets the
 * file override flags; here the command line always wins. Throws UsageError for the command line (exit 2)
 * and ConfigError for the config file or environment (exit 1). No process state is read or changed.
 */
export async function resolveSettings(
  argv: string[],
  env: Record<string, string | undefined>,
  options: ResolveOptions = {},
): Promise<ResolvedSettings> {
  const flags = parseFlags(argv);
  if (flags.kind === 'help') return { kind: 'help', text: flags.text };
  if (flags.kind === 'version') return { kind: 'version', text: await versionText() };

  const defaults: Settings = { ...DEFAULT_SETTINGS, ...options.defaults };
  const fromEnv = settingsFromEnv(env);
  const named = flags.values.configFile ?? fromEnv.configFile;
  const configFile = named ?? defaults.configFile;
  // `-config-file ""` means "no config file", as an empty path never existed for confd either.
  const fromFile =
    configFile === '' ? { values: {}, warnings: [] } : await loadConfigFile(configFile, named !== undefined);

  const merged: Settings = { ...defaults, ...fromFile.values, ...fromEnv, ...flags.values, configFile };
  // Fresh arrays: the defaults' arrays are shared and must never be mutated through a result.
  const settings: Settings = { ...merged, nodes: [...merged.nodes], files: [...merged.files] };
  if (settings.srvDomain && !settings.srvRecord) {
    // confd derives the record from the backend name: -srv-domain example.com -> _etcd._tcp.example.com.
    settings.srvRecord = `_${settings.backend}._tcp.${settings.srvDomain}.`;
  }
  return { kind: 'run', settings, warnings: fromFile.warnings };
}
