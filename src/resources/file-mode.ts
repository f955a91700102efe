/**
 * A resource's `mode` string ("0644", "644", "0o644") as permission bits. Always octal: confd passed the
 * string to Go's ParseUint(base 0), where "644" silently meant decimal 644; nobody means that.
 */
export function parseFileMode(text: string): number {
  const digits = text.trim().replace(/^0o/i, '');
  if (!/^[0-7]+$/.test(digits)) throw new Error(`invalid mode "${text}": expected octal digits like "0644"`);
  const mode = parseInt(digits, 8);
  if (mode > 0o7777) throw new Error(`invalid mode "${text}": larger than 07777`);
  return mode;
}

export function formatFileMode(mode: number): string {
  return `0${(mode & 0o7777).toString(8).padStart(3, '0')}`;
}
