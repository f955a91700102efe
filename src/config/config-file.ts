import { readFile } from '../fs-async.js';
import { ConfigError, errorMessage } from '../errors.js';
import { SETTING_SPECS, type SettingSpec } from './setting-specs.js';
import { InvalidValue, assignSetting, coerceTomlValue } from './setting-values.js';
import type { Settings } from './settings.js';

export interface ConfigFileResult {
  /** Settings the file sets; absent keys stay absent so lower layers show through. */
  values: Partial<Settings>;
  warnings: string[];
  /** False when the default file does not exist and was skipped. */
  loaded: boolean;
}

const BY_TOML_KEY = new Map<string, SettingSpec>(
  SETTING_SPECS.flatMap((spec) => spec.tomlKeys.map((key) => [key, spec] as const)),
);

/**
 * Reads confd.toml. A missing file is fine only when nobody named it (`explicit` false): confd runs
 * without one. An explicitly named file that is missing, unreadable or invalid is a ConfigError.
 */
export async function loadConfigFile(file: string, explicit: boolean): Promise<ConfigFileResult> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' && !explicit) return { values: {}, warnings: [], loaded: false };
    const reason = code === 'ENOENT' ? 'file not found' : errorMessage(err);
    throw new ConfigError(`config file ${file}: ${reason}`, file, undefined, undefined, { cause: err });
  }
  return { ...(await parseConfigText(text, file)), loaded: true };
}

/**
 * Parses confd.toml text; `file` only names the source in errors and warnings. The TOML parser loads
 * only when there is a file to parse, which most container setups never have.
 */
export async function parseConfigText(text: string, file: string): Promise<Omit<ConfigFileResult, 'loaded'>> {
  const { TomlError, parse } = await import('smol-toml');
  let doc: Record<string, unknown>;
  try {
    doc = parse(text);
  } catch (err) {
    if (err instanceof TomlError) {
      const reason = firstLine(err.message).replace(/^Invalid TOML document: /, '');
      throw new ConfigError(
        `config file ${file}: invalid TOML at line ${err.line}, column ${err.column}: ${reason}`,
        file,
        err.line,
        err.column,
        { cause: err },
      );
    }
    throw err;
  }

  const values: Partial<Settings> = {};
  const warnings: string[] = [];
  for (const [key, raw] of Object.entries(doc)) {
    const spec = BY_TOML_KEY.get(key);
    if (!spec) {
      warnings.push(`config file ${file}: unknown key "${key}" ignored`);
      continue;
    }
    try {
      assignSetting(values, spec, coerceTomlValue(spec, raw));
    } catch (err) {
      if (!(err instanceof InvalidValue)) throw err;
      const line = lineOfKey(text, key);
      const where = line === undefined ? '' : ` (line ${line})`;
      throw new ConfigError(`config file ${file}: key "${key}"${where}: ${err.message}`, file, line);
    }
  }
  return { values, warnings };
}

function firstLine(text: string): string {
  return text.split('\n', 1)[0] ?? text;
}

/** Where a top-level key is assigned, for pointing at a wrongly typed value (TOML parsers keep no positions). */
function lineOfKey(text: string, key: string): number | undefined {
  const escaped = key.replace(/[.*+?^${}()|[\]\\-]/g, '\\$&');
  const assignment = new RegExp(`^\\s*(?:${escaped}|"${escaped}"|'${escaped}')\\s*=`);
  const index = text.split(/\r?\n/).findIndex((line) => assignment.test(line));
  return index < 0 ? undefined : index + 1;
}
