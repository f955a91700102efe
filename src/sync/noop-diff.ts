import type { DestState, StateDifference, WantedState } from './dest-state.js';
import { formatFileMode as octal } from '../resources/file-mode.js';

/** The unified diff -noop prints, with mode/owner changes noted above it (a content diff cannot show them). */
export async function noopDiff(
  dest: string,
  current: DestState | undefined,
  wanted: WantedState,
  difference: StateDifference | undefined,
): Promise<string> {
  const { createTwoFilesPatch } = await import('diff');
  const notes = current
    ? (difference?.metadata ?? []).map((change) => `# ${dest}: ${change}`)
    : [`# ${dest}: new file, mode ${octal(wanted.mode)}`];
  // A mode- or owner-only change has no hunks: the notes say everything, an empty patch header says nothing.
  if (current && difference && !difference.content)
    return [...notes, `# ${dest}: content unchanged`].join('\n');
  const patch = createTwoFilesPatch(
    dest,
    dest,
    current?.content.toString('utf8') ?? '',
    wanted.content.toString('utf8'),
  );
  return [...notes, patch].join('\n');
}
