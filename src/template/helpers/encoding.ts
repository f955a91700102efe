import { errorMessage } from '../../errors.js';
import { valueError } from '../value-description.js';
import { stringArg } from './args.js';
import { defineHelper } from './spec.js';

/** Go's base64.StdEncoding: padded, and strict on decode (Node's decoder would skip bad characters). */
export const encodingHelpers = [
  defineHelper('base64Encode', 1, (args) => Buffer.from(stringArg(args, 0), 'utf8').toString('base64')),
  defineHelper('base64Decode', 1, (args, { store }) => {
    const text = stringArg(args, 0);
    let bytes: Buffer;
    try {
      bytes = base64Decode(text);
    } catch (err) {
      throw valueError(store, text, (value) => `${errorMessage(err)} in ${value}`);
    }
    try {
      return STRICT_UTF8.decode(bytes);
    } catch {
      // Output is written as UTF-8 text: raw bytes (a keystore, a DER key) would come out mangled, so
      // refuse them rather than write U+FFFD in their place. confd, in Go, copied them through.
      throw valueError(store, text, (value) => `base64 data in ${value} does not decode to UTF-8 text`);
    }
  }),
];

// ignoreBOM keeps a leading byte-order mark in the text instead of dropping it.
const STRICT_UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const DECODE = new Map([...ALPHABET].map((c, i) => [c.charCodeAt(0), i]));
const PAD = 0x3d;

const isNewline = (c: number | undefined): boolean => c === 0x0a || c === 0x0d;

/**
 * base64.StdEncoding.DecodeString, quantum by quantum as Go's decodeQuantum: line breaks are skipped,
 * anything else out of place is "illegal base64 data at input byte N" with Go's N.
 */
export function base64Decode(text: string): Buffer {
  const src = Buffer.from(text, 'utf8');
  const out: number[] = [];
  let si = 0;
  const corrupt = (at: number): Error => new Error(`illegal base64 data at input byte ${at}`);
  while (si < src.length) {
    const dbuf = [0, 0, 0, 0];
    let dlen = 4;
    let trailing = false;
    for (let j = 0; j < 4; j++) {
      if (si === src.length) {
        if (j === 0) return Buffer.from(out);
        throw corrupt(si - j);
      }
      const c = src[si++] as number;
      const v = DECODE.get(c);
      if (v !== undefined) {
        dbuf[j] = v;
        continue;
      }
      if (isNewline(c)) {
        j--;
        continue;
      }
      if (c !== PAD || j < 2) throw corrupt(si - 1);
      if (j === 2) {
        // "==" pads a single byte: skip line breaks, then the second '=' must follow.
        while (si < src.length && isNewline(src[si])) si++;
        if (si === src.length) throw corrupt(src.length);
        if (src[si] !== PAD) throw corrupt(si - 1);
        si++;
      }
      while (si < src.length && isNewline(src[si])) si++;
      trailing = si < src.length;
      dlen = j;
      break;
    }
    const val = (dbuf[0]! << 18) | (dbuf[1]! << 12) | (dbuf[2]! << 6) | dbuf[3]!;
    const bytes = [(val >> 16) & 0xff, (val >> 8) & 0xff, val & 0xff];
    out.push(...bytes.slice(0, dlen - 1));
    if (trailing) throw corrupt(si);
  }
  return Buffer.from(out);
}
