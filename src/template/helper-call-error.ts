import { errorMessage } from '../errors.js';
import { KeyNotFoundError } from './kv-store.js';
import { StoreValueError } from './value-description.js';

/** Where in the template a helper was called (Handlebars' options.loc). */
export interface CallSite {
  start: { line: number; column: number };
}

/**
 * A helper failed at a known place. Internal to rendering: the render turns it into a TemplateError once
 * the template's path is at hand.
 */
export class HelperCallError extends Error {
  constructor(
    message: string,
    readonly line?: number,
    readonly column?: number,
    readonly key?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'HelperCallError';
  }

  static from(err: unknown, helper: string, site: CallSite | undefined): HelperCallError {
    if (err instanceof HelperCallError) return err;
    return new HelperCallError(
      `error calling ${helper}: ${errorMessage(err)}`,
      site?.start.line,
      site === undefined ? undefined : site.start.column + 1,
      keyOf(err),
      { cause: err },
    );
  }
}

/** The one key an error is about: a missing key, or the only key holding a refused value. */
function keyOf(err: unknown): string | undefined {
  if (err instanceof KeyNotFoundError) return err.key;
  if (err instanceof StoreValueError && err.keys.length === 1) return err.keys[0];
  return undefined;
}
