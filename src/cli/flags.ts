import { Command, CommanderError, Option } from 'commander';
import { UsageError } from '../errors.js';
import {
  HELP_GROUPS,
  SETTING_SPECS,
  VERSION_FLAG,
  specForFlag,
  type SettingSpec,
} from '../config/setting-specs.js';
import {
  InvalidValue,
  assignSetting,
  parseBoolean,
  parseSettingText,
  type SettingValue,
} from '../config/setting-values.js';
import { DEFAULT_SETTINGS, type Settings } from '../config/settings.js';
import { normaliseArgv, type FlagArity } from './go-style-argv.js';

/** Printed by main() under every UsageError. */
export const USAGE_HINT = "Run 'confd --help' for usage.";

export type FlagParseResult =
  | { kind: 'help'; text: string }
  | { kind: 'version' }
  /** Only the settings given on the command line; the caller layers them over file and environment. */
  | { kind: 'flags'; values: Partial<Settings> };

interface HelpEntry {
  term: string;
  description: string;
}

/**
 * Parses confd's flags. Pure: commander never prints or exits (exitOverride, silent output), so help is
 * returned as text and every mistake becomes a one-line UsageError naming the flag.
 */
export function parseFlags(argv: readonly string[]): FlagParseResult {
  const { args, help } = normaliseArgv(argv, flagArity);
  const program = buildProgram();
  if (help) return { kind: 'help', text: renderHelp(program) };
  try {
    program.parse(args, { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) throw toUsageError(err, args);
    throw err;
  }

  const values: Partial<Settings> = {};
  for (const spec of SETTING_SPECS) {
    const raw: unknown = program.getOptionValue(attributeOf(spec.flag));
    if (raw === undefined) continue;
    assignSetting(values, spec, flagValue(spec, raw));
  }
  const version: unknown = program.getOptionValue(attributeOf(VERSION_FLAG));
  if (typeof version === 'string' && booleanFlag(VERSION_FLAG, version)) return { kind: 'version' };
  return { kind: 'flags', values };
}

/** The help text `confd --help` prints: every flag, grouped, with its default. */
export function helpText(): string {
  return renderHelp(buildProgram());
}

function flagArity(flag: string): FlagArity | undefined {
  if (flag === VERSION_FLAG) return 'boolean';
  const spec = specForFlag(flag);
  if (!spec) return undefined;
  return spec.kind === 'boolean' ? 'boolean' : 'value';
}

function flagValue(spec: SettingSpec, raw: unknown): SettingValue {
  if (spec.kind === 'list') return raw as string[]; // repeated flags accumulate; no comma splitting, as confd
  const text = raw as string;
  if (spec.kind === 'boolean') return booleanFlag(spec.flag, text);
  try {
    return parseSettingText(spec, text);
  } catch (err) {
    if (!(err instanceof InvalidValue)) throw err;
    const shown = spec.secret ? '' : ` "${text}"`;
    throw new UsageError(`invalid value${shown} for flag -${spec.flag}: ${err.message}`, spec.flag);
  }
}

function booleanFlag(flag: string, text: string): boolean {
  try {
    return parseBoolean(text);
  } catch {
    throw new UsageError(`invalid boolean value "${text}" for flag -${flag}: expected true or false`, flag);
  }
}

/** Commander's camelCase attribute for a flag, e.g. sync-only -> syncOnly. */
function attributeOf(flag: string): string {
  return flag.replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase());
}

function toUsageError(err: CommanderError, args: readonly string[]): UsageError {
  if (err.code === 'commander.unknownOption') {
    const option = /'--([^'=]+)/.exec(err.message)?.[1] ?? '';
    const suggestion = /Did you mean --([\w-]+)\?/.exec(err.message)?.[1];
    const hint = suggestion ? ` (did you mean -${suggestion}?)` : '';
    return new UsageError(`flag provided but not defined: -${option}${hint}`, option);
  }
  if (err.code === 'commander.excessArguments') {
    const operand = args.find((arg) => !arg.startsWith('--')) ?? args[args.indexOf('--') + 1] ?? '';
    return new UsageError(`unexpected argument "${operand}": confd takes flags only`);
  }
  const line = err.message.split('\n', 1)[0] ?? err.message;
  return new UsageError(line.replace(/^error: /, ''));
}

function buildProgram(): Command {
  const program = new Command('confd')
    .usage('[flags]')
    .description('Keeps local configuration files in sync with a key/value store (confd-compatible).')
    .helpOption(false)
    .allowExcessArguments(false)
    .exitOverride()
    .configureOutput({
      writeOut: () => undefined,
      writeErr: () => undefined,
      getOutHelpWidth: () => 100,
      getErrHelpWidth: () => 100,
      getOutHasColors: () => false,
      getErrHasColors: () => false,
    });

  const help = new Map<Option, HelpEntry>();
  const add = (option: Option, group: string, entry: HelpEntry): void => {
    option.helpGroup(`${group}:`);
    help.set(option, entry);
    program.addOption(option);
  };

  add(new Option('-h, --help'), 'Modes', { term: '-h, -help', description: 'show this help and exit' });
  add(new Option(`--${VERSION_FLAG} [bool]`), 'Modes', {
    term: `-${VERSION_FLAG}`,
    description: 'print the version and exit',
  });
  const ordered = HELP_GROUPS.flatMap((group) => SETTING_SPECS.filter((spec) => spec.group === group));
  for (const spec of ordered) {
    const option =
      spec.kind === 'boolean'
        ? new Option(`--${spec.flag} [bool]`)
        : new Option(`--${spec.flag} <${spec.valueName ?? 'value'}>`);
    if (spec.kind === 'list') {
      option.argParser((value: string, previous: string[] | undefined) => [...(previous ?? []), value]);
    }
    const term = spec.kind === 'boolean' ? `-${spec.flag}` : `-${spec.flag} <${spec.valueName ?? 'value'}>`;
    add(option, spec.group, { term, description: describeSpec(spec) });
  }

  program.configureHelp({
    sortOptions: false,
    optionTerm: (option) => help.get(option)?.term ?? option.flags,
    optionDescription: (option) => help.get(option)?.description ?? option.description,
  });
  return program;
}

function describeSpec(spec: SettingSpec): string {
  const shown = defaultText(spec);
  return shown === undefined ? spec.description : `${spec.description} (default: ${shown})`;
}

function defaultText(spec: SettingSpec): string | undefined {
  const value: unknown = DEFAULT_SETTINGS[spec.key];
  if (spec.kind === 'duration' && typeof value === 'number') return `${value / 1000}s`;
  if (typeof value === 'string' && value !== '') return JSON.stringify(value);
  if (typeof value === 'number') return String(value);
  return undefined;
}

function renderHelp(program: Command): string {
  return (
    program.helpInformation() +
    '\n' +
    'Flags take one or two dashes: -flag value, -flag=value, --flag value; booleans are -flag or\n' +
    '-flag=true|false. Precedence: defaults < config file < CONFD_* environment variables < flags.\n' +
    'Every flag, its confd.toml key and CONFD_* variable: docs/flags.md.\n'
  );
}
