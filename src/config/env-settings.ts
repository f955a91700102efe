import { ConfigError } from '../errors.js';
import { SETTING_SPECS } from './setting-specs.js';
import { InvalidValue, assignSetting, parseSettingText } from './setting-values.js';
import type { Settings } from './settings.js';

/**
 * Settings from CONFD_* variables, one per setting (see SETTING_SPECS). Empty variables count as unset,
 * as in confd, so `CONFD_BACKEND= confd ...` does not blank the backend. Lists are comma-separated.
 */
export function settingsFromEnv(env: Readonly<Record<string, string | undefined>>): Partial<Settings> {
  const values: Partial<Settings> = {};
  for (const spec of SETTING_SPECS) {
    const text = env[spec.envVar];
    if (text === undefined || text === '') continue;
    try {
      assignSetting(values, spec, parseSettingText(spec, text));
    } catch (err) {
      if (!(err instanceof InvalidValue)) throw err;
      const shown = spec.secret ? '' : ` "${text}"`;
      throw new ConfigError(`invalid value${shown} in environment variable ${spec.envVar}: ${err.message}`);
    }
  }
  return values;
}
