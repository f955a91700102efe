import { UsageError } from '../errors.js';

/**
 * Reads argv with Go's flag syntax, which confd uses: `-flag` and `--flag` alike, `-flag value` and
 * `-flag=value`, and booleans only as `-flag` or `-flag=true|false` (a following word is never a boolean's
 * value). A value flag takes the next word even when it starts with a dash (`-prefix -x`), as in Go.
 */

export type FlagArity = 'value' | 'boolean';

export type ArgvToken =
  /** A known flag and its text: a bare boolean reads as "true". */
  | { kind: 'flag'; name: string; value: string }
  /** A flag no setting defines; the caller reports it. */
  | { kind: 'unknown'; name: string }
  /** A word in no flag's place (confd takes none), or anything after `--`. */
  | { kind: 'operand'; text: string };

export interface GoStyleArgv {
  tokens: ArgvToken[];
  /** -h, -help or --help appeared in a flag position. */
  help: boolean;
}

const HELP_NAMES = new Set(['h', 'help']);

/** `arity` tells which flags take a value; undefined marks an unknown flag. */
export function readGoStyleArgv(
  argv: readonly string[],
  arity: (flag: string) => FlagArity | undefined,
): GoStyleArgv {
  const tokens: ArgvToken[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '--') {
      for (const text of argv.slice(i + 1)) tokens.push({ kind: 'operand', text });
      break;
    }
    if (!arg.startsWith('-') || arg === '-') {
      tokens.push({ kind: 'operand', text: arg });
      continue;
    }
    const body = arg.startsWith('--') ? arg.slice(2) : arg.slice(1);
    if (body === '' || body.startsWith('-') || body.startsWith('=')) {
      throw new UsageError(`bad flag syntax: ${arg}`, arg);
    }
    const eq = body.indexOf('=');
    const name = eq < 0 ? body : body.slice(0, eq);
    const inlineValue = eq < 0 ? undefined : body.slice(eq + 1);

    if (HELP_NAMES.has(name)) return { tokens, help: true };
    switch (arity(name)) {
      case 'boolean':
        tokens.push({ kind: 'flag', name, value: inlineValue ?? 'true' });
        break;
      case 'value': {
        if (inlineValue !== undefined) {
          tokens.push({ kind: 'flag', name, value: inlineValue });
          break;
        }
        const next = argv[i + 1];
        if (next === undefined) throw new UsageError(`flag needs an argument: -${name}`, name);
        tokens.push({ kind: 'flag', name, value: next });
        i++;
        break;
      }
      default:
        tokens.push({ kind: 'unknown', name });
    }
  }
  return { tokens, help: false };
}
