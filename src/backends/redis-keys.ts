/**
 * confd's mapping between its '/'-separated keys and Redis key names under -separator. With the default
 * '/' the names are the keys themselves ('/app/db'); with another separator the leading '/' goes and every
 * '/' becomes the separator ('app:db' for ':').
 */
export class RedisKeyMapper {
  constructor(readonly separator: string) {}

  private get slashes(): boolean {
    return this.separator === '/' || this.separator === '';
  }

  /** The Redis name of a confd key. */
  toRedis(key: string): string {
    if (this.slashes) return key;
    return key.replace(/^\/+/, '').split('/').join(this.separator);
  }

  /** The confd key of a Redis name: absolute, with the separator turned back into '/'. */
  toKey(name: string): string {
    const key = this.slashes ? name : name.split(this.separator).join('/');
    return key.startsWith('/') ? key : `/${key}`;
  }

  /** The confd key of one field of the hash stored under `name`: each field is a child key. */
  fieldKey(name: string, field: string): string {
    return this.toKey(`${name}/${field}`);
  }

  /** SCAN MATCH pattern for everything under `key` on a separator boundary ('/app/db' never finds '/app/dbx'). */
  scanPattern(key: string): string {
    if (key === '/') return '*';
    const sep = this.slashes ? '/' : this.separator;
    return `${escapeGlob(this.toRedis(key))}${escapeGlob(sep)}*`;
  }

  /**
   * PSUBSCRIBE pattern for the keyspace channels of `key` and everything under it. It is a plain prefix
   * match ('/app/db*' also covers '/app/dbx'): one pattern per watched key, the boundary is checked on each
   * notification.
   */
  keyspacePattern(db: number, key: string): string {
    const name = key === '/' ? '' : escapeGlob(this.toRedis(key));
    return `${keyspaceChannelPrefix(db)}${name}*`;
  }
}

/** Channels of keyspace notifications are this plus the key's name. */
export function keyspaceChannelPrefix(db: number): string {
  return `__keyspace@${db}__:`;
}

/** Redis MATCH patterns are globs: a key holding *, ?, [ or ] must match only itself. */
function escapeGlob(text: string): string {
  return text.replace(/[*?[\]\\]/g, '\\$&');
}
