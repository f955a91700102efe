import { valueError } from '../value-description.js';
import { stringArg } from './args.js';
import { defineHelper } from './spec.js';

/** Go's base64.StdEncoding: padded, and strict on decode (Node's decoder would skip bad characters). */
export const encodingHelpers = [
  defineHelper('base64Encode', 1, (args) => Buffer.from(stringArg(args, 0), 'utf8').toString('base64')),
  defineHelper('base64Decode', 1, (args, { store }) => {
    const text = stringArg(args, 0);
    // StdEncoding ignores line breaks, nothing else.
    const data = text.replace(/[\r\n]/g, '');
    if (!STD_BASE64.test(data)) throw valueError(store, text, (value) => `illegal base64 data in ${value}`);
    try {
      return STRICT_UTF8.decode(Buffer.from(data, 'base64'));
    } catch {
      // Output is written as UTF-8 text: raw bytes (a keystore, a DER key) would come out mangled, so
      // refuse them rather than write U+FFFD in their place. confd, in Go, copied them through.
      throw valueError(store, text, (value) => `base64 data in ${value} does not decode to UTF-8 text`);
    }
  }),
];

// ignoreBOM keeps a leading byte-order mark in the text instead of dropping it.
const STRICT_UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

const STD_BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
