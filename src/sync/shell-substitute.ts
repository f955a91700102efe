/**
 * Fills {{.src}} and {{.dest}} into a check_cmd or reload_cmd so that no path can change the command's
 * meaning. They are the only variables ever substituted (store values never reach a command), and they are
 * paths, but a dest may contain spaces, quotes, `$(...)` or `;`.
 *
 * A path made only of characters in SAFE is inserted verbatim, so `nginx -t -c {{.src}}` reads as it
 * always did. Anything else is quoted for the place the placeholder stands in: unquoted gets '...',
 * inside '...' only the quote itself is escaped, inside "..." the four characters that double quotes do
 * not protect are backslashed. Commands written for confd, which substituted verbatim and told users to
 * write '{{.src}}' themselves, therefore keep working with awkward paths instead of breaking on them.
 */

const PLACEHOLDER = /\{\{\s*\.(src|dest)\s*\}\}/y;
const SAFE = /^[A-Za-z0-9_/.,:@%+=-]+$/;

type Quote = 'none' | 'single' | 'double';

/**
 * One level of shell parsing: the top level, or the inside of a `$(...)` or backquoted command
 * substitution, which starts unquoted again even when it sits inside double quotes.
 */
interface Frame {
  quote: Quote;
  closer: ')' | '`' | undefined;
  /** Open subshell parentheses inside this frame, so `$( (a) )` closes at the right `)`. */
  parens: number;
}

export function substituteVars(template: string, vars: { src: string; dest: string }): string {
  const stack: Frame[] = [{ quote: 'none', closer: undefined, parens: 0 }];
  let out = '';
  let i = 0;
  while (i < template.length) {
    const frame = stack[stack.length - 1]!;
    PLACEHOLDER.lastIndex = i;
    const match = PLACEHOLDER.exec(template);
    if (match) {
      out += quoteFor(frame.quote, vars[match[1] as 'src' | 'dest']);
      i += match[0].length;
      continue;
    }
    const ch = template[i]!;
    const next = template[i + 1];
    out += ch;
    i += 1;
    if (frame.quote === 'single') {
      if (ch === "'") frame.quote = 'none';
      continue;
    }
    if (ch === '\\' && next !== undefined) {
      // An escaped character is literal in both unquoted and double-quoted text: copy it unread.
      out += next;
      i += 1;
    } else if (ch === '$' && next === '(') {
      out += next;
      i += 1;
      stack.push({ quote: 'none', closer: ')', parens: 0 });
    } else if (ch === '`') {
      if (frame.closer === '`' && frame.quote === 'none') stack.pop();
      else stack.push({ quote: 'none', closer: '`', parens: 0 });
    } else if (frame.quote === 'double') {
      if (ch === '"') frame.quote = 'none';
    } else if (ch === "'") {
      frame.quote = 'single';
    } else if (ch === '"') {
      frame.quote = 'double';
    } else if (ch === '(') {
      frame.parens += 1;
    } else if (ch === ')') {
      if (frame.parens > 0) frame.parens -= 1;
      else if (frame.closer === ')') stack.pop();
    }
  }
  return out;
}

function quoteFor(quote: Quote, value: string): string {
  if (SAFE.test(value)) return value;
  switch (quote) {
    case 'none':
      return `'${value.replace(/'/g, `'\\''`)}'`;
    case 'single':
      // Close the quote, add an escaped quote, reopen: the surrounding '...' of the template stay intact.
      return value.replace(/'/g, `'\\''`);
    case 'double':
      return value.replace(/[\\$`"]/g, (c) => `\\${c}`);
  }
}
