import { ConfigError, UsageError } from '../errors.js';
import { loadConfigFile } from './config-file.js';
import { settingsFromEnv } from './env-settings.js';
import { ignoredSettingWarnings, type ExplicitSettings } from './ignored-settings.js';
import { SETTING_SPECS } from './setting-specs.js';
import { DEFAULT_SETTINGS, type Settings } from './settings.js';

export interface ResolvedSettings {
  settings: Settings;
  /** Config file oddities and explicitly set settings the run ignores; main() logs them at WARN. */
  warnings: string[];
}

export interface ResolveOptions {
  /** Replaces built-in defaults (tests point configFile at a temp dir instead of /etc/confd). */
  defaults?: Partial<Settings>;
}

/**
 * Builds the run configuration: defaults < confd.toml < CONFD_* variables < flags. `flags` holds only what
 * the command line set (the face parses argv and hands it down). Upstream confd lets the file override
 * flags; here the command line always wins. Throws UsageError for a flag (exit 2) and ConfigError for the
 * config file or environment (exit 1). No process state is read or changed.
 */
export async function resolveSettings(
  flags: Readonly<Partial<Settings>>,
  env: Record<string, string | undefined>,
  options: ResolveOptions = {},
): Promise<ResolvedSettings> {
  const defaults: Settings = { ...DEFAULT_SETTINGS, ...options.defaults };
  const fromEnv = settingsFromEnv(env);
  const named = flags.configFile ?? fromEnv.configFile;
  const configFile = named ?? defaults.configFile;
  // `-config-file ""` means "no config file", as an empty path never existed for confd either.
  const fromFile =
    configFile === '' ? { values: {}, warnings: [] } : await loadConfigFile(configFile, named !== undefined);

  const merged: Settings = { ...defaults, ...fromFile.values, ...fromEnv, ...flags, configFile };
  // Fresh arrays: the defaults' arrays are shared and must never be mutated through a result.
  const settings: Settings = { ...merged, nodes: [...merged.nodes], files: [...merged.files] };
  if (settings.srvDomain && !settings.srvRecord) {
    // confd derives the record from the backend name: -srv-domain example.com -> _etcd._tcp.example.com.
    settings.srvRecord = `_${settings.backend}._tcp.${settings.srvDomain}.`;
  }
  const explicit = explicitSettings(flags, fromEnv, fromFile.values, configFile);
  rejectNodeCredentials(settings.nodes, explicit.get('nodes') ?? '-node');
  return {
    settings,
    warnings: [...fromFile.warnings, ...ignoredSettingWarnings(settings, explicit)],
  };
}

/**
 * user:password@ in a node address would be quoted by every connection error and shown in process lists;
 * none of the backends can use it anyway. Refused without echoing the address.
 */
function rejectNodeCredentials(nodes: readonly string[], source: string): void {
  if (!nodes.some((node) => /^[a-z][a-z0-9+.-]*:\/\/[^/@]*@/i.test(node))) return;
  const message = `${source}: a node address must not carry credentials (user:password@); use -username and -password (with -basic-auth for etcd and Consul)`;
  if (source.startsWith('-')) throw new UsageError(message, 'node');
  throw new ConfigError(message);
}

/** Names each setting a layer set after the layer that wins (flags over CONFD_* over confd.toml). */
function explicitSettings(
  flags: Readonly<Partial<Settings>>,
  env: Partial<Settings>,
  file: Partial<Settings>,
  configFile: string,
): ExplicitSettings {
  const named = new Map<keyof Settings, string>();
  for (const spec of SETTING_SPECS) {
    if (Object.hasOwn(flags, spec.key)) named.set(spec.key, `-${spec.flag}`);
    else if (Object.hasOwn(env, spec.key)) named.set(spec.key, spec.envVar);
    else if (Object.hasOwn(file, spec.key)) {
      named.set(spec.key, `config file ${configFile}: key "${spec.tomlKeys[0] ?? spec.flag}"`);
    }
  }
  return named;
}
