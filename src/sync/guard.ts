import type { GuardRules } from '../resources/template-resource.js';

/** What a guard is judged on: the render, the current dest's size, and the required keys the store lacks. */
export interface GuardInput {
  rendered: Buffer;
  /** Bytes of the current dest; undefined when there is none. */
  currentSize: number | undefined;
  /** Required keys with nothing at or under them in the snapshot. */
  missingRequired: readonly string[];
}

/**
 * Why `rules` refuse the render, naming the rule and the numbers; undefined when they let it through. A
 * refusal protects the consumer from a store that lost its data or a value that emptied the template:
 * the current file (and its backups) stay as they are.
 */
export function guardRefusal(rules: GuardRules, input: GuardInput): string | undefined {
  const { rendered, currentSize, missingRequired } = input;
  if (rules.refuseEmpty && rendered.toString('utf8').trim() === '')
    return `refuse_empty: the render is ${rendered.length === 0 ? 'empty' : 'only whitespace'}`;
  if (missingRequired.length > 0) {
    const shown = missingRequired.slice(0, 5).join(', ');
    return `required_keys: nothing in the store at ${shown}${missingRequired.length > 5 ? ' ...' : ''}`;
  }
  if (rules.maxShrink !== undefined && currentSize !== undefined && currentSize > 0) {
    const least = Math.ceil(currentSize * (1 - rules.maxShrink));
    if (rendered.length < least) {
      const percent = (n: number) => `${Math.round(n * 100)}%`;
      return (
        `max_shrink ${percent(rules.maxShrink)}: the render is ${rendered.length} bytes, ` +
        `${percent(rendered.length / currentSize)} of the current ${currentSize} bytes (at least ${least} wanted)`
      );
    }
  }
  return undefined;
}
