import { errorMessage, TemplateError } from '../errors.js';
import { HelperCallError } from './helper-call-error.js';

/** Handlebars' own exceptions carry the position as properties and as a " - line:column" suffix. */
interface HandlebarsException extends Error {
  lineNumber?: number;
  column?: number;
}

/**
 * One line naming template, line and column, then what went wrong:
 * "/etc/confd/templates/app.tmpl:3:5: error calling getv: key does not exist: /db/host".
 */
export function toTemplateError(err: unknown, template: string): TemplateError {
  if (err instanceof TemplateError) return err;
  if (err instanceof HelperCallError) {
    return new TemplateError(
      `${where(template, err.line, err.column)}: ${err.message}`,
      template,
      err.line,
      err.key,
      {
        cause: err.cause ?? err,
      },
    );
  }
  const message = errorMessage(err);
  const parse = /^(?:Parse|Lexical) error on line (\d+)/.exec(message);
  if (parse) {
    const line = Number(parse[1]);
    const lines = message.split('\n');
    const last = lines.at(-1) ?? message;
    const detail = last.endsWith("got 'EOF'") ? 'unexpected end of template (is a block left open?)' : last;
    // Handlebars quotes the offending text on the second line; Go actions there deserve a pointer.
    const hint = /\{\{-?\s*[.$]|:=/.test(lines[1] ?? '')
      ? ' (Go template syntax; see docs/templates.md)'
      : '';
    return new TemplateError(
      `${where(template, line)}: syntax error: ${detail}${hint}`,
      template,
      line,
      undefined,
      {
        cause: err,
      },
    );
  }
  const hb = err as HandlebarsException;
  if (typeof hb.lineNumber === 'number') {
    const column = typeof hb.column === 'number' ? hb.column + 1 : undefined;
    const text = message.replace(/ - \d+:\d+$/, '');
    return new TemplateError(
      `${where(template, hb.lineNumber, column)}: ${text}`,
      template,
      hb.lineNumber,
      undefined,
      {
        cause: err,
      },
    );
  }
  return new TemplateError(`${template}: ${message}`, template, undefined, undefined, { cause: err });
}

function where(template: string, line?: number, column?: number): string {
  if (line === undefined) return template;
  return column === undefined ? `${template}:${line}` : `${template}:${line}:${column}`;
}
