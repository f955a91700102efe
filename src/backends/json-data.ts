/**
 * A fast path for data files that are plain JSON: JSON.parse instead of the YAML reading, which on a
 * 10,000-key file cost most of a onetime run. It is taken only when JSON.parse's tree flattens to exactly
 * the pairs the YAML reading gives (test/unit/backends/json-data.test.ts checks that on random documents);
 * anything in doubt returns undefined and goes the YAML way, errors and warnings included.
 */

/** Raw characters YAML reads differently inside a quoted scalar (line breaks NEL, LS, PS; BOM; C0/C1). */
// eslint-disable-next-line no-control-regex -- finding control characters is the point
const YAML_SPECIAL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u2028\u2029\ufeff]/;
/**
 * Outside strings, an exponent is the only letter besides the keywords; it goes the YAML way, where a
 * number too large for a double (`1e400`) stays text while JSON.parse makes it Infinity.
 */
const STRINGS = /"(?:[^"\\]|\\.)*"/g;
const KEYWORDS = /true|false|null/g;
/** An array index once it is an object key: JavaScript objects put those first, a YAML map keeps file order. */
const INDEX_KEY = /^(?:0|[1-9]\d*)$/;

/** The tree of `text` when it is a JSON object whose pairs flatten as the YAML reading's would; else undefined. */
export function parseJsonData(text: string): object | undefined {
  const start = /\S/.exec(text);
  if (start?.[0] !== '{' || YAML_SPECIAL.test(text)) return undefined;
  let tree: unknown;
  try {
    tree = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (/[eE]/.test(text.replace(STRINGS, '').replace(KEYWORDS, ''))) return undefined;
  return isPlainTree(tree) ? (tree as object) : undefined;
}

/** Strings, booleans, nulls and numbers YAML reads to the same text: safe integers and decimal fractions. */
function isPlainTree(node: unknown): boolean {
  if (node === null || typeof node === 'string' || typeof node === 'boolean') return true;
  // An integer beyond 2^53 is exact in YAML (a BigInt) and rounded by JSON.parse. Negative zero is `-0`
  // (an integer to YAML: "0") or `-0.0` (a float: "-0"), which JSON.parse does not tell apart.
  if (typeof node === 'number')
    return !Object.is(node, -0) && (!Number.isInteger(node) || Number.isSafeInteger(node));
  if (Array.isArray(node)) return node.every(isPlainTree);
  if (typeof node !== 'object') return false;
  for (const key in node) {
    if (INDEX_KEY.test(key)) return false;
    if (!isPlainTree((node as Record<string, unknown>)[key])) return false;
  }
  return true;
}
