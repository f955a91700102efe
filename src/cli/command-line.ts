import { resolveSettings, type ResolveOptions, type ResolvedSettings } from '../config/resolve-settings.js';
import { parseFlags } from './flags.js';
import { versionText } from './version.js';

export type CommandLine = ({ kind: 'run' } & ResolvedSettings) | { kind: 'help' | 'version'; text: string };

/**
 * What the command line asks for: help, the version, or a run with its settings resolved from argv, the
 * environment and confd.toml. The face parses argv; src/config only ever sees the flag values.
 */
export async function readCommandLine(
  argv: readonly string[],
  env: Record<string, string | undefined>,
  options: ResolveOptions = {},
): Promise<CommandLine> {
  const flags = parseFlags(argv);
  if (flags.kind === 'help') return { kind: 'help', text: flags.text };
  if (flags.kind === 'version') return { kind: 'version', text: await versionText() };
  return { kind: 'run', ...(await resolveSettings(flags.values, env, options)) };
}
