import { UsageError } from '../errors.js';

/**
 * Rewrites Go flag syntax into the one form commander parses unambiguously. Go's flag package, which
 * confd uses, accepts `-flag` and `--flag` alike, `-flag value` and `-flag=value`, and booleans only as
 * `-flag` or `-flag=true|false` (a following word is never a boolean's value). Everything becomes
 * `--flag=value`, so a value that starts with a dash (`-prefix -x`) stays a value, as in Go.
 */

export type FlagArity = 'value' | 'boolean';

export interface NormalisedArgv {
  args: string[];
  /** -h, -help or --help appeared in a flag position. */
  help: boolean;
}

const HELP_NAMES = new Set(['h', 'help']);

/** `arity` tells which flags take a value; unknown names pass through for commander to report. */
export function normaliseArgv(
  argv: readonly string[],
  arity: (flag: string) => FlagArity | undefined,
): NormalisedArgv {
  const args: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '--') {
      args.push(...argv.slice(i));
      break;
    }
    if (!arg.startsWith('-') || arg === '-') {
      args.push(arg); // an operand: confd takes none, commander reports it
      continue;
    }
    const body = arg.startsWith('--') ? arg.slice(2) : arg.slice(1);
    if (body === '' || body.startsWith('-') || body.startsWith('=')) {
      throw new UsageError(`bad flag syntax: ${arg}`, arg);
    }
    const eq = body.indexOf('=');
    const name = eq < 0 ? body : body.slice(0, eq);
    const inlineValue = eq < 0 ? undefined : body.slice(eq + 1);

    if (HELP_NAMES.has(name)) return { args, help: true };
    switch (arity(name)) {
      case 'boolean':
        args.push(`--${name}=${inlineValue ?? 'true'}`);
        break;
      case 'value': {
        if (inlineValue !== undefined) {
          args.push(`--${name}=${inlineValue}`);
          break;
        }
        const next = argv[i + 1];
        if (next === undefined) throw new UsageError(`flag needs an argument: -${name}`, name);
        args.push(`--${name}=${next}`);
        i++;
        break;
      }
      default:
        // Unknown: commander reports it (with a "did you mean"); an inline value would spoil the match.
        args.push(`--${name}`);
    }
  }
  return { args, help: false };
}
