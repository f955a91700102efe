import { formatValue } from '../go-format.js';
import { goToLower, goToUpper } from '../go-strings.js';
import { arrayArg, intArg, stringArg } from './args.js';
import { defineHelper } from './spec.js';

/** Go's strings package functions confd exposes. */
export const stringHelpers = [
  defineHelper('split', 2, (args) => goSplit(stringArg(args, 0), stringArg(args, 1))),
  defineHelper('join', 2, (args) =>
    arrayArg(args, 0)
      .map((v) => (typeof v === 'string' ? v : formatValue(v)))
      .join(stringArg(args, 1)),
  ),
  defineHelper('toUpper', 1, (args) => goToUpper(stringArg(args, 0))),
  defineHelper('toLower', 1, (args) => goToLower(stringArg(args, 0))),
  defineHelper('contains', 2, (args) => stringArg(args, 0).includes(stringArg(args, 1))),
  // Go's strings.Replace needs the count; -1 (all) is the default here.
  defineHelper('replace', [3, 4], (args) =>
    goReplace(
      stringArg(args, 0),
      stringArg(args, 1),
      stringArg(args, 2),
      args.length > 3 ? intArg(args, 3) : -1,
    ),
  ),
  defineHelper('trimSuffix', 2, (args) => {
    const [s, suffix] = [stringArg(args, 0), stringArg(args, 1)];
    return suffix !== '' && s.endsWith(suffix) ? s.slice(0, -suffix.length) : s;
  }),
];

/** strings.Split: an empty separator splits into characters. */
function goSplit(s: string, sep: string): string[] {
  return sep === '' ? Array.from(s) : s.split(sep);
}

/** strings.Replace: at most n replacements (n < 0: all); an empty `old` matches around every character. */
function goReplace(s: string, old: string, replacement: string, n: number): string {
  if (old === replacement || n === 0) return s;
  const limit = n < 0 ? Infinity : n;
  if (old === '') {
    const runes = Array.from(s);
    let out = '';
    for (let i = 0; i <= runes.length; i++) {
      if (i < limit) out += replacement;
      out += runes[i] ?? '';
    }
    return out;
  }
  let out = '';
  let from = 0;
  for (let count = 0; count < limit; count++) {
    const at = s.indexOf(old, from);
    if (at < 0) break;
    out += s.slice(from, at) + replacement;
    from = at + old.length;
  }
  return out + s.slice(from);
}
