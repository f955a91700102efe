export interface SourcePosition {
  line: number;
  column: number;
}

/**
 * Where `key = value` is written inside `[table]` of a TOML source: line and the column where the value
 * starts (1-based). smol-toml reports positions only for syntax errors, so type errors in values are
 * located by scanning the text. Dotted or inline-table spellings are not found; callers fall back to
 * naming the key.
 */
export function locateKey(source: string, table: string, key: string): SourcePosition | undefined {
  const escaped = key.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const keyLine = new RegExp(`^(\\s*(?:${escaped}|"${escaped}"|'${escaped}')\\s*=\\s*)`);
  let current = '';
  const lines = source.split(/\r?\n/);
  for (const [index, text] of lines.entries()) {
    const trimmed = text.trimStart();
    if (trimmed.startsWith('[')) {
      // An array-of-tables header ([[x]]) is never [template]; a nested array literal line is rare enough.
      current = trimmed.startsWith('[[') ? '' : (/^\[\s*([^\]]+?)\s*\]/.exec(trimmed)?.[1] ?? '');
      continue;
    }
    if (current !== table) continue;
    const m = keyLine.exec(text);
    if (m?.[1] !== undefined) return { line: index + 1, column: m[1].length + 1 };
  }
  return undefined;
}

/** The text of 1-based `line`, '' when out of range. */
export function sourceLine(source: string, line: number): string {
  return source.split(/\r?\n/)[line - 1] ?? '';
}
