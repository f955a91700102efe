import { settingsIgnoredBy } from './backend-settings.js';
import type { SettingKey } from './setting-specs.js';
import type { Settings } from './settings.js';

/**
 * Settings that were set on purpose (flag, CONFD_* variable or confd.toml key, never a default), each with
 * the name it was set under in the layer that won: "-table", "CONFD_TABLE", 'config file x: key "table"'.
 */
export type ExplicitSettings = ReadonlyMap<SettingKey, string>;

/**
 * One warning per explicitly set setting the run will never read: connection settings the chosen backend
 * does not use, and mode settings the chosen mode overrides (-onetime ignores -interval and -watch).
 */
export function ignoredSettingWarnings(settings: Settings, explicit: ExplicitSettings): string[] {
  const warnings = settingsIgnoredBy(settings.backend, explicit.keys()).map(
    (key) => `${explicit.get(key)} has no effect with -backend ${settings.backend}`,
  );
  const named = (key: SettingKey): string | undefined => explicit.get(key);
  const interval = named('interval');
  if (interval && settings.onetime) warnings.push(`${interval} has no effect with -onetime`);
  const watch = named('watch');
  if (watch && settings.watch && settings.onetime) warnings.push(`${watch} has no effect with -onetime`);
  for (const key of ['metricsAddr', 'shutdownTimeoutMs'] as const) {
    const name = named(key);
    if (name && settings.onetime) warnings.push(`${name} has no effect with -onetime`);
  }
  const poll = named('watchPollMs');
  if (poll && (!settings.watch || settings.onetime)) warnings.push(`${poll} has no effect without -watch`);
  const wait = named('wait');
  if (wait && !settings.watch) warnings.push(`${wait} has no effect without -watch`);
  else if (wait && settings.onetime) warnings.push(`${wait} has no effect with -onetime`);
  return warnings;
}
