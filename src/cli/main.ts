import { UsageError, errorMessage } from '../errors.js';
import { standardError, standardOutput, standardOutputFlushed } from '../logging/descriptor-sink.js';
import { readCommandLine, type CommandLine } from './command-line.js';
import { USAGE_HINT } from './flags.js';

/**
 * Exit codes: 0 success, 1 a resource or the setup failed, 2 bad command line, 128+n stopped by signal n.
 * Resolves once the run is over and its output is out of the process: bin/confd exits then, so nothing
 * written may still wait in a stream.
 */
export async function main(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const code = await runCommandLine(argv, env);
  await standardOutputFlushed();
  return code;
}

async function runCommandLine(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  let resolved: CommandLine;
  try {
    resolved = await readCommandLine(argv, env);
  } catch (err) {
    if (err instanceof UsageError) {
      standardError.write(`confd: ${err.message}\n${USAGE_HINT}\n`);
      return 2;
    }
    standardError.write(`confd: ${errorMessage(err)}\n`);
    return 1;
  }
  if (resolved.kind !== 'run') {
    standardOutput.write(resolved.text.endsWith('\n') ? resolved.text : `${resolved.text}\n`);
    return 0;
  }

  // Everything a run needs (stores, templates, sync, logging) loads only now: help and version stay a
  // bare node start plus flag parsing.
  const { runConfd } = await import('./run.js');
  return runConfd(resolved, argv, env);
}
