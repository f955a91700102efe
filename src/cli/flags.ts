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
import { suggestFlag } from './flag-suggestion.js';
import { readGoStyleArgv, type FlagArity } from './go-style-argv.js';

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
 * Parses confd's flags. Pure: help is returned as text and every mistake becomes a one-line UsageError
 * naming the flag. An unknown flag is reported first, then an operand, then a bad value (in the order of
 * SETTING_SPECS); a repeated single-value flag keeps its last value, list flags collect every one.
 */
export function parseFlags(argv: readonly string[]): FlagParseResult {
  const { tokens, help } = readGoStyleArgv(argv, flagArity);
  if (help) return { kind: 'help', text: helpText() };
  const unknown = tokens.find((token) => token.kind === 'unknown');
  if (unknown) throw unknownFlag(unknown.name);
  const operand = tokens.find((token) => token.kind === 'operand');
  if (operand) throw new UsageError(`unexpected argument "${operand.text}": confd takes flags only`);

  const given = new Map<string, string[]>();
  for (const token of tokens) {
    if (token.kind === 'flag') given.set(token.name, [...(given.get(token.name) ?? []), token.value]);
  }
  const values: Partial<Settings> = {};
  for (const spec of SETTING_SPECS) {
    const texts = given.get(spec.flag);
    if (texts === undefined) continue;
    assignSetting(values, spec, flagValue(spec, texts));
  }
  const version = given.get(VERSION_FLAG)?.at(-1);
  if (version !== undefined && booleanFlag(VERSION_FLAG, version)) return { kind: 'version' };
  return { kind: 'flags', values };
}

function flagArity(flag: string): FlagArity | undefined {
  if (flag === VERSION_FLAG) return 'boolean';
  const spec = specForFlag(flag);
  if (!spec) return undefined;
  return spec.kind === 'boolean' ? 'boolean' : 'value';
}

function flagValue(spec: SettingSpec, texts: readonly string[]): SettingValue {
  if (spec.kind === 'list') return [...texts]; // repeated flags accumulate; no comma splitting, as confd
  const text = texts.at(-1) as string;
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

function unknownFlag(name: string): UsageError {
  const known = [HELP_FLAG, VERSION_FLAG, ...SETTING_SPECS.map((spec) => spec.flag)];
  const suggestion = suggestFlag(name, known);
  const hint = suggestion ? ` (did you mean -${suggestion}?)` : '';
  return new UsageError(`flag provided but not defined: -${name}${hint}`, name);
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

/** Help is a fixed layout: 100 columns, flag terms padded to the longest, descriptions wrapped. */
const HELP_WIDTH = 100;
const HELP_FLAG = 'help';

/** The help text `confd --help` prints: every flag, grouped, with its default. */
export function helpText(): string {
  const groups = new Map<string, HelpEntry[]>([
    [
      'Modes',
      [
        { term: '-h, -help', description: 'show this help and exit' },
        { term: `-${VERSION_FLAG}`, description: 'print the version and exit' },
      ],
    ],
  ]);
  for (const group of HELP_GROUPS) {
    const entries = groups.get(group) ?? [];
    for (const spec of SETTING_SPECS.filter((s) => s.group === group)) {
      const term = spec.kind === 'boolean' ? `-${spec.flag}` : `-${spec.flag} <${spec.valueName ?? 'value'}>`;
      entries.push({ term, description: describeSpec(spec) });
    }
    groups.set(group, entries);
  }
  const termWidth = Math.max(...[...groups.values()].flat().map((entry) => entry.term.length));
  const lines = [
    'Usage: confd [flags]',
    '',
    wrap('Keeps local configuration files in sync with a key/value store (confd-compatible).', HELP_WIDTH),
    '',
  ];
  for (const [group, entries] of groups) {
    if (entries.length === 0) continue;
    lines.push(`${group}:`, ...entries.map((entry) => helpItem(entry, termWidth)), '');
  }
  return (
    lines.join('\n') +
    '\n' +
    'Flags take one or two dashes: -flag value, -flag=value, --flag value; booleans are -flag or\n' +
    '-flag=true|false. Precedence: defaults < config file < CONFD_* environment variables < flags.\n' +
    'Every flag, its confd.toml key and CONFD_* variable: docs/flags.md.\n'
  );
}

/** `  term   description`, the description wrapped and its later lines indented under its first. */
function helpItem({ term, description }: HelpEntry, termWidth: number): string {
  const indent = 2;
  const spacer = 2;
  const wrapped = wrap(description, HELP_WIDTH - termWidth - spacer - indent);
  const body = wrapped.replace(/\n/g, `\n${' '.repeat(termWidth + spacer)}`);
  return `${' '.repeat(indent)}${term.padEnd(termWidth)}${' '.repeat(spacer)}${body}`.replace(
    /\n/g,
    `\n${' '.repeat(indent)}`,
  );
}

/** Greedy word wrap at `width` columns; each word keeps the spaces before it unless it starts a line. */
function wrap(text: string, width: number): string {
  const words = text.match(/\s*\S+/g) ?? [];
  const lines: string[] = [];
  let line = words.shift() ?? '';
  for (const word of words) {
    if (line.length + word.length <= width) {
      line += word;
      continue;
    }
    lines.push(line);
    line = word.trimStart();
  }
  lines.push(line);
  return lines.join('\n');
}
