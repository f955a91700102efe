import { errorMessage } from '../errors.js';
import { KeyNotFoundError } from './kv-store.js';

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
      err instanceof KeyNotFoundError ? err.key : undefined,
      { cause: err },
    );
  }
}
