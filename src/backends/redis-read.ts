import type { Redis } from 'ioredis';
import { setAll, type KVPairs } from '../kv-pairs.js';
import type { RedisKeyMapper } from './redis-keys.js';

/** Names per SCAN page asked for (a hint to the server, which may answer more or fewer). */
const SCAN_COUNT = 1000;
/**
 * Bases read at once: enough for their first round trips to share one, few enough that a read of many
 * bases over a large keyspace does not queue hundreds of pages (each command's timeout runs while it waits).
 */
const BASES_AT_ONCE = 8;

/**
 * The values of `bases` and of everything under each, as confd reads Redis: a string is a value, each
 * field of a hash is a child key, other types (lists, sets, ...) are not configuration, and everything
 * under a key is found with SCAN (never KEYS). The bases are merged in their order (a later base's value
 * wins, as Object.assign did).
 *
 * Round trips, not commands, are what a read costs on a loopback connection, and ioredis writes each
 * command as soon as it is issued: so the bases are read several at once, and a base's own value and the first
 * page under it are asked together. A watch's re-read of one string key with nothing under it is then one
 * round trip (GET and SCAN), where asking TYPE, then GET, then SCAN in turn took three.
 */
export async function readTrees(
  conn: Redis,
  keys: RedisKeyMapper,
  bases: readonly string[],
): Promise<KVPairs> {
  const trees: KVPairs[] = [];
  for (let start = 0; start < bases.length; start += BASES_AT_ONCE) {
    const some = bases.slice(start, start + BASES_AT_ONCE);
    trees.push(...(await Promise.all(some.map((base) => readTree(conn, keys, base)))));
  }
  if (trees.length === 1 && trees[0]) return trees[0];
  const values: KVPairs = new Map();
  for (const tree of trees) setAll(values, tree);
  return values;
}

async function readTree(conn: Redis, keys: RedisKeyMapper, key: string): Promise<KVPairs> {
  const values: KVPairs = new Map();
  const own = key === '/' ? undefined : keys.toRedis(key);
  const pattern = keys.scanPattern(key);
  const [value, firstPage] = await Promise.all([
    own === undefined ? undefined : valueOf(conn, own),
    conn.scan('0', 'MATCH', pattern, 'COUNT', SCAN_COUNT),
  ]);
  if (typeof value === 'string') values.set(key, value);
  else if (value && own !== undefined) setFields(values, keys, own, value);
  let [cursor, names] = firstPage;
  for (;;) {
    if (names.length > 0) await readNames(conn, keys, names, values);
    if (cursor === '0') return values;
    [cursor, names] = await conn.scan(cursor, 'MATCH', pattern, 'COUNT', SCAN_COUNT);
  }
}

/**
 * The string or hash stored under `name`, undefined for any other type or none. Asking for the value
 * tells the type: GET answers WRONGTYPE for a hash, and HGETALL for a list or a set (no TYPE round trip).
 */
async function valueOf(conn: Redis, name: string): Promise<string | Record<string, string> | undefined> {
  try {
    return (await conn.get(name)) ?? undefined;
  } catch (err) {
    if (!isWrongType(err)) throw err;
  }
  try {
    return await conn.hgetall(name);
  } catch (err) {
    if (!isWrongType(err)) throw err;
    return undefined;
  }
}

/**
 * Values of scanned names. One MGET reads the strings of the whole page (it answers nil for a name that
 * holds no string, or is gone): a tree of strings costs one command per page, not one per key. The names
 * it left are asked HGETALL in one pipeline; WRONGTYPE there is a type that is not configuration.
 */
async function readNames(
  conn: Redis,
  keys: RedisKeyMapper,
  scanned: string[],
  values: KVPairs,
): Promise<void> {
  const strings = await conn.mget(scanned);
  const others: string[] = [];
  scanned.forEach((name, i) => {
    const value = strings[i];
    if (typeof value === 'string') values.set(keys.toKey(name), value);
    else others.push(name);
  });
  if (others.length === 0) return;
  const hashes = conn.pipeline();
  for (const name of others) hashes.hgetall(name);
  const results = (await hashes.exec()) ?? [];
  others.forEach((name, i) => {
    const [err, fields] = results[i] ?? [null, null];
    if (err) {
      if (isWrongType(err)) return;
      throw err;
    }
    setFields(values, keys, name, (fields ?? {}) as Record<string, string>);
  });
}

/** Each field of the hash stored under `name` as a child key. */
function setFields(
  values: KVPairs,
  keys: RedisKeyMapper,
  name: string,
  fields: Record<string, string>,
): void {
  for (const [field, value] of Object.entries(fields)) values.set(keys.fieldKey(name, field), value);
}

/** Redis's error for a command on a key holding another type ("WRONGTYPE Operation against a key ..."). */
function isWrongType(err: unknown): boolean {
  return err instanceof Error && err.message.startsWith('WRONGTYPE');
}
