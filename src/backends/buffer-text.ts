/**
 * Text out of bytes on the hot path of a large read, through Buffer's own native methods: utf8Slice is what
 * buf.toString('utf8', start, end) ends in, base64Write what Buffer.from(text, 'base64') does after
 * allocating. The argument checks and the encoding lookup of the public calls, and an allocation per
 * value, cost more than the decoding on a onetime run's baseline code (10,000 keys: toString ~2.4 ms,
 * utf8Slice ~1 ms; Buffer.from + toString ~5.5-9 ms, base64Write into one scratch buffer ~2-3.5 ms).
 * Neither is in Node's type definitions; both are on Buffer.prototype in every release line (lib/buffer.js).
 */
interface NativeBuffer extends Buffer {
  utf8Slice(start: number, end: number): string;
  base64Write(text: string, offset: number, length: number): number;
}

/** The UTF-8 text of buffer[start, end) (invalid bytes become U+FFFD, as toString does). */
export function utf8Text(buffer: Buffer, start: number, end: number): string {
  return (buffer as NativeBuffer).utf8Slice(start, end);
}

/** One scratch buffer for base64Text: values up to its size are decoded into it, larger ones allocate. */
const SCRATCH_BYTES = 64 * 1024;
let scratch: NativeBuffer | undefined;

/** Base64 text decoded to bytes and read as UTF-8: Buffer.from(text, 'base64').toString(), exactly. */
export function base64Text(text: string): string {
  // Base64 never decodes to more than 3 bytes per 4 characters (padding and stray characters only less).
  if (text.length > (SCRATCH_BYTES / 3) * 4) return Buffer.from(text, 'base64').toString();
  scratch ??= Buffer.allocUnsafe(SCRATCH_BYTES) as NativeBuffer;
  return scratch.utf8Slice(0, scratch.base64Write(text, 0, SCRATCH_BYTES));
}
