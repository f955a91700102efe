import { readFile } from '../fs-async.js';
import { BackendError, errorMessage } from '../errors.js';
import type { Logger } from '../logging/logger.js';
import { flattenTree } from './flatten.js';
import { parseJsonData } from './json-data.js';
import type { KVPairs } from './store-client.js';
import { YamlError, parseYamlTree } from './yaml-tree.js';

const BACKEND = 'file';

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
  const values: KVPairs = new Map();
  flattenTree(parseJsonData(text) ?? parseDataFile(text, path, logger), values);
  return { values, empty: text.trim() === '' };
}

/**
 * Parses YAML (JSON is YAML too) as yaml.v2 does (yaml-tree.ts); the result is a Map, or null for an empty
 * file. Errors name the file, line and column, never the text around them (a value may be a secret).
 */
export function parseDataFile(text: string, path: string, logger: Logger): unknown {
  let parsed;
  try {
    parsed = parseYamlTree(text);
  } catch (err) {
    if (!(err instanceof YamlError)) throw err;
    const where = err.line === undefined ? path : `${path}:${err.line}:${err.column ?? 1}`;
    throw new BackendError(`file backend: ${where}: ${err.message}`, BACKEND, [path], { cause: err });
  }
  const { tree, documents } = parsed;
  // Like yaml.v2's Unmarshal (and so confd), only the first document counts.
  if (documents > 1)
    logger.warn(`file backend: ${path} holds ${documents} YAML documents; only the first is read`);
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
