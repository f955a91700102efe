import Handlebars from 'handlebars';
import { goTruth } from '../go-truth.js';

/**
 * Any helper may open a block, doing what its result suggests: a boolean acts as `if`, a list as `each`
 * (with @index/@first/@last and block params `as |item i|`), anything else as `with` (`as |value|`).
 * Empty or false results render the `{{else}}` part.
 */
export function renderBlock(result: unknown, context: unknown, options: Handlebars.HelperOptions): string {
  if (typeof result === 'boolean') return result ? options.fn(context) : options.inverse(context);
  if (Array.isArray(result)) {
    if (result.length === 0) return options.inverse(context);
    const last = result.length - 1;
    return result
      .map((item: unknown, index) => {
        const data = Handlebars.createFrame((options.data ?? {}) as object) as Record<string, unknown>;
        Object.assign(data, { index, key: index, first: index === 0, last: index === last });
        return options.fn(item, { data, blockParams: [item, index] });
      })
      .join('');
  }
  if (!goTruth(result)) return options.inverse(context);
  return options.fn(result, { data: options.data as Record<string, unknown>, blockParams: [result] });
}
