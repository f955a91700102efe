import { readFile } from 'node:fs/promises';
import { Scalar, isScalar, parseAllDocuments, visit } from 'yaml';
import type { Tags } from 'yaml';
import { BackendError, errorMessage } from '../errors.js';
import type { Logger } from '../logging/logger.js';
import { flattenTree } from './flatten.js';
import { parseJsonData } from './json-data.js';
import type { KVPairs } from './store-client.js';

const BACKEND = 'file';

/**
 * confd reads these files with Go's yaml.v2, i.e. YAML 1.1: `yes`/`on` are booleans, `0755` is octal. Two
 * things yaml.v2 leaves as strings and so must we: timestamps and base-60 numbers (`1:20`).
 */
const PARSE_OPTIONS = {
  version: '1.1',
  intAsBigInt: true,
  // yaml.v2 lets a repeated key override the earlier one; it is not an error there.
  uniqueKeys: false,
  customTags: (tags: Tags): Tags =>
    tags.filter((tag) => {
      const t = tag as { tag?: string; format?: string };
      return t.format !== 'TIME' && t.tag !== 'tag:yaml.org,2002:timestamp';
    }),
} as const;

/**
 * Reads one YAML or JSON file and flattens it. `empty` tells a file with no content at all apart from one
 * holding an empty mapping: the first is what a reader sees in the middle of a rewrite.
 */
export async function readDataFile(
  path: string,
  logger: Logger,
): Promise<{ values: KVPairs; empty: boolean }> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new BackendError(`file backend: cannot read ${path}: ${systemMessage(err)}`, BACKEND, [path], {
      cause: err,
    });
  }
  const values: KVPairs = {};
  flattenTree(parseJsonData(text) ?? parseDataFile(text, path, logger), values);
  return { values, empty: text.trim() === '' };
}

/** Parses YAML or JSON text; the result is a Map (or null for an empty file). Errors name the file and line. */
export function parseDataFile(text: string, path: string, logger: Logger): unknown {
  const parsed = parseAllDocuments(text, PARSE_OPTIONS);
  const docs = Array.isArray(parsed) ? parsed : [];
  const doc = docs[0];
  if (!doc) return null;
  // Like yaml.v2's Unmarshal (and so confd), only the first document counts.
  if (docs.length > 1)
    logger.warn(`file backend: ${path} holds ${docs.length} YAML documents; only the first is read`);
  const error = doc.errors[0];
  if (error) {
    const pos = error.linePos?.[0];
    const where = pos ? `${path}:${pos.line}:${pos.col}` : path;
    const reason = (error.message.split('\n')[0] ?? '').replace(/ at line \d+, column \d+:?$/, '');
    throw new BackendError(`file backend: ${where}: ${reason}`, BACKEND, [path], { cause: error });
  }
  for (const warning of doc.warnings)
    logger.warn(`file backend: ${path}: ${warning.message.split('\n')[0] ?? ''}`);

  // Keys are path segments and must stay as written: `y:`, `on:` or `1:` are not booleans or numbers here.
  visit(doc, {
    Pair(_, pair) {
      if (isScalar(pair.key) && typeof pair.key.value !== 'string' && typeof pair.key.value !== 'symbol') {
        pair.key = new Scalar(pair.key.source ?? String(pair.key.value));
      }
    },
  });
  let tree: unknown;
  try {
    tree = doc.toJS({ mapAsMap: true });
  } catch (err) {
    throw new BackendError(`file backend: ${path}: ${errorMessage(err)}`, BACKEND, [path], { cause: err });
  }
  if (tree !== null && !(tree instanceof Map)) {
    // The value itself is data and may be a secret: name its kind only.
    const found = Array.isArray(tree)
      ? 'a list'
      : `a ${typeof tree === 'object' ? 'non-mapping' : typeof tree} value`;
    throw new BackendError(
      `file backend: ${path}: the top level must be a mapping of keys, found ${found}`,
      BACKEND,
      [path],
    );
  }
  return tree;
}

function systemMessage(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'no such file or directory';
  if (code === 'EACCES') return 'permission denied';
  if (code === 'EISDIR') return 'is a directory';
  return errorMessage(err);
}
