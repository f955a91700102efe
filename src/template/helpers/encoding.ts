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
    return Buffer.from(data, 'base64').toString('utf8');
  }),
];

const STD_BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
