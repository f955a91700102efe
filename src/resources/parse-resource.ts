import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import { parse, TomlDate, TomlError } from 'smol-toml';
import { ConfigError, errorMessage } from '../errors.js';
import { cleanKey, joinKey } from '../key-path.js';
import type { Logger } from '../logging/logger.js';
import { checkTimerRange, parseDuration } from '../config/duration.js';
import { parseWaitWindow } from '../config/wait-window.js';
import { TEMPLATE_ENGINES } from '../template/engine.js';
import type { TemplateEngine } from '../template/engine.js';
import type { WaitWindow } from '../config/wait-window.js';
import { parseFileMode } from './file-mode.js';
import { locateKey, sourceLine } from './locate-key.js';
import type { AccountFiles } from './resolve-owner.js';
import { lookupGid, lookupUid, SYSTEM_ACCOUNT_FILES } from './resolve-owner.js';
import { parseWorkflow } from './parse-workflow.js';
import type { TemplateResource } from './template-resource.js';

export const DEFAULT_CHECK_CMD_TIMEOUT_MS = 30_000;
export const DEFAULT_RELOAD_CMD_TIMEOUT_MS = 60_000;

const KNOWN_KEYS = [
  'src',
  'dest',
  'keys',
  'prefix',
  'mode',
  'uid',
  'gid',
  'owner',
  'group',
  'check_cmd',
  'reload_cmd',
  'check_cmd_timeout',
  'reload_cmd_timeout',
  'wait',
  'engine',
  // The Prometheus workflow, read by parse-workflow.ts.
  'backup',
  'rollback',
  'guard',
  'reload',
  'verify',
] as const;
type KnownKey = (typeof KNOWN_KEYS)[number];

export interface ParseContext {
  /** Absolute path of the resource file, for messages and TemplateResource.file. */
  file: string;
  /** Absolute confdir; templates are under `<confdir>/templates`. */
  confdir: string;
  /** The global -prefix, joined in front of the resource's own prefix. */
  globalPrefix: string;
  /** Where owner/group names are looked up; tests point this elsewhere. */
  accounts?: AccountFiles;
}

/** Parses and validates one conf.d file. Throws ConfigError naming the file, the key and the line when known. */
export async function parseResource(
  source: string,
  ctx: ParseContext,
  logger: Logger,
): Promise<TemplateResource> {
  const table = templateTable(parseToml(source, ctx.file), ctx.file, logger);
  const fields = new ResourceFields(table, source, ctx.file, logger);

  const src = fields.string('src');
  if (src === undefined || src === '')
    throw fields.error('src', 'is required (template path under templates/)');
  const dest = fields.string('dest');
  if (dest === undefined || dest === '')
    throw fields.error('dest', 'is required (path of the file to write)');

  const resource: TemplateResource = {
    file: ctx.file,
    src: templatePath(ctx.confdir, src, fields),
    // A relative dest is resolved against the working directory, as confd's file operations do.
    dest: resolve(dest),
    prefix: joinKey(ctx.globalPrefix, fields.string('prefix') ?? ''),
    keys: (fields.stringArray('keys') ?? []).map(cleanKey),
    checkCmdTimeoutMs: fields.duration('check_cmd_timeout') ?? DEFAULT_CHECK_CMD_TIMEOUT_MS,
    reloadCmdTimeoutMs: fields.duration('reload_cmd_timeout') ?? DEFAULT_RELOAD_CMD_TIMEOUT_MS,
  };
  const mode = fields.mode();
  if (mode !== undefined) resource.mode = mode;
  const accounts = ctx.accounts ?? SYSTEM_ACCOUNT_FILES;
  const uid = await fields.id('uid', 'owner', (name) => lookupUid(name, accounts));
  if (uid !== undefined) resource.uid = uid;
  const gid = await fields.id('gid', 'group', (name) => lookupGid(name, accounts));
  if (gid !== undefined) resource.gid = gid;
  const checkCmd = fields.string('check_cmd');
  if (checkCmd) resource.checkCmd = checkCmd;
  const reloadCmd = fields.string('reload_cmd');
  if (reloadCmd) resource.reloadCmd = reloadCmd;
  const wait = fields.waitWindow();
  if (wait !== undefined) resource.wait = wait;
  const engine = fields.engine();
  if (engine !== undefined) resource.engine = engine;
  parseWorkflow(fields.workflowTable(), resource, source, logger);
  return resource;
}

/**
 * `<confdir>/templates/<src>`, as confd joins it (an absolute src lands under templates/ too). A src that
 * climbs out with ".." is refused: conf.d names templates, not arbitrary files. The check is lexical:
 * symlinks inside templates/ are followed, since placing one there takes the same rights as writing a
 * template (which already decides what is written to dest), and packaged templates are often linked in.
 */
function templatePath(confdir: string, src: string, fields: ResourceFields): string {
  const key = `${confdir}\0${src}`;
  const known = TEMPLATE_PATHS.get(key);
  if (known !== undefined) return known;
  const templates = join(confdir, 'templates');
  const path = join(templates, src);
  const inside = relative(templates, path);
  if (inside === '' || inside === '..' || inside.startsWith(`..${sep}`) || isAbsolute(inside)) {
    throw fields.error(
      'src',
      inside === ''
        ? 'names the templates directory itself, not a template'
        : `must name a file under ${templates} (".." may not climb out of it)`,
    );
  }
  if (TEMPLATE_PATHS.size >= TEMPLATE_PATHS_MAX) TEMPLATE_PATHS.clear();
  TEMPLATE_PATHS.set(key, path);
  return path;
}

/**
 * Template paths already checked, by confdir and src: resources share a few templates, and the join and
 * relative() above, repeated for each of 2,000 resources, cost a onetime run ~25 ms. Bounded: a daemon
 * reloading conf.d with ever new names starts over rather than grow.
 */
const TEMPLATE_PATHS = new Map<string, string>();
const TEMPLATE_PATHS_MAX = 10_000;

function parseToml(source: string, file: string): Record<string, unknown> {
  try {
    return parse(source);
  } catch (err) {
    if (!(err instanceof TomlError))
      throw new ConfigError(`${file}: ${errorMessage(err)}`, file, undefined, undefined, { cause: err });
    // `mode = 0644` is the classic mistake: TOML forbids the leading zero, so it fails before we see it.
    const unquotedMode = /^\s*["']?mode["']?\s*=\s*(\d\S*)/.exec(sourceLine(source, err.line));
    const reason = unquotedMode
      ? `mode must be a quoted string: write mode = "${unquotedMode[1]}"`
      : `invalid TOML: ${err.message.split('\n')[0]?.replace(/^Invalid TOML document:\s*/, '')}`;
    throw new ConfigError(`${file}:${err.line}:${err.column}: ${reason}`, file, err.line, err.column, {
      cause: err,
    });
  }
}

function templateTable(doc: Record<string, unknown>, file: string, logger: Logger): Record<string, unknown> {
  for (const key of Object.keys(doc)) {
    if (key !== 'template')
      logger.warn(`${file}: unknown top-level key "${key}" ignored (only [template] is read)`);
  }
  const table = doc['template'];
  if (!isTable(table)) throw new ConfigError(`${file}: no [template] table`, file);
  return table;
}

/** Typed access to the `[template]` keys, with errors that point at the offending line. */
class ResourceFields {
  /** Lower-cased name -> [name as written, value]: confd's TOML decoder matched keys case-insensitively. */
  private readonly byName = new Map<string, [string, unknown]>();

  constructor(
    table: Record<string, unknown>,
    private readonly source: string,
    private readonly file: string,
    logger: Logger,
  ) {
    for (const [written, value] of Object.entries(table)) {
      const name = written.toLowerCase();
      if (!(KNOWN_KEYS as readonly string[]).includes(name)) {
        const hint = closestKey(name);
        logger.warn(
          `${file}: unknown key "${written}" in [template] ignored${hint ? ` (did you mean "${hint}"?)` : ''}`,
        );
        continue;
      }
      if (this.byName.has(name))
        throw this.error(name as KnownKey, 'is given twice (keys are case-insensitive)');
      this.byName.set(name, [written, value]);
    }
  }

  error(key: KnownKey, message: string): ConfigError {
    const written = this.byName.get(key)?.[0] ?? key;
    const at = locateKey(this.source, 'template', written);
    const where = at ? `${this.file}:${at.line}:${at.column}` : this.file;
    return new ConfigError(`${where}: key "${written}" ${message}`, this.file, at?.line, at?.column);
  }

  private value(key: KnownKey): unknown {
    return this.byName.get(key)?.[1];
  }

  string(key: KnownKey): string | undefined {
    const v = this.value(key);
    if (v === undefined || typeof v === 'string') return v;
    throw this.error(key, `must be a string, got ${describe(v)}`);
  }

  stringArray(key: KnownKey): string[] | undefined {
    const v = this.value(key);
    if (v === undefined) return undefined;
    if (Array.isArray(v) && v.every((item) => typeof item === 'string')) return v;
    throw this.error(key, `must be an array of strings, got ${describe(v)}`);
  }

  mode(): number | undefined {
    const v = this.value('mode');
    if (v === undefined) return undefined;
    if (typeof v === 'number') {
      // TOML already turned `mode = 644` or `mode = 0o644` into a number; quote what the user wrote.
      const at = locateKey(this.source, 'template', this.byName.get('mode')?.[0] ?? 'mode');
      const literal = at
        ? /^[^\s#]+/.exec(sourceLine(this.source, at.line).slice(at.column - 1))?.[0]
        : undefined;
      throw this.error('mode', `must be a quoted string: write mode = "${literal ?? `0${v.toString(8)}`}"`);
    }
    if (typeof v !== 'string') throw this.error('mode', `must be a string like "0644", got ${describe(v)}`);
    try {
      return parseFileMode(v);
    } catch (err) {
      throw this.error('mode', errorMessage(err));
    }
  }

  /** `uid`/`gid` as integers, or `owner`/`group` as names resolved to ids. */
  async id(
    numericKey: 'uid' | 'gid',
    nameKey: 'owner' | 'group',
    lookup: (name: string) => Promise<number | undefined>,
  ) {
    const v = this.value(numericKey);
    if (v !== undefined && (typeof v !== 'number' || !Number.isInteger(v) || v < 0)) {
      throw this.error(numericKey, `must be a non-negative integer, got ${describe(v)}`);
    }
    const name = this.string(nameKey);
    if (name === undefined) return v;
    if (v !== undefined)
      throw this.error(nameKey, `cannot be combined with "${numericKey}": give one of them`);
    const id = await lookup(name);
    if (id === undefined)
      throw this.error(nameKey, `names unknown ${nameKey === 'owner' ? 'user' : 'group'} "${name}"`);
    return id;
  }

  /** The workflow keys (backup, rollback, guard, reload, verify) by their lower-cased names. */
  workflowTable(): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const key of ['backup', 'rollback', 'guard', 'reload', 'verify'] as const) {
      const v = this.value(key);
      if (v !== undefined) out[key] = v;
    }
    return out;
  }

  /** `wait = "2s:10s"`: the resource's own debounce window in watch mode. */
  waitWindow(): WaitWindow | undefined {
    const v = this.value('wait');
    if (v === undefined) return undefined;
    if (typeof v !== 'string') throw this.error('wait', `must be a string like "2s:10s", got ${describe(v)}`);
    try {
      return parseWaitWindow(v);
    } catch (err) {
      throw this.error('wait', `is invalid ("${v}"): ${errorMessage(err)}`);
    }
  }

  /** `engine = "go"` or `"handlebars"`: which engine renders src, whatever its name. */
  engine(): TemplateEngine | undefined {
    const v = this.string('engine');
    if (v === undefined) return undefined;
    const engine = TEMPLATE_ENGINES.find((name) => name === v.toLowerCase());
    if (!engine) throw this.error('engine', `must be "go" or "handlebars", got "${v}"`);
    return engine;
  }

  duration(key: KnownKey): number | undefined {
    const v = this.value(key);
    if (v === undefined) return undefined;
    if (typeof v !== 'number' && typeof v !== 'string') {
      throw this.error(key, `must be a duration like "30s" or integer seconds, got ${describe(v)}`);
    }
    let ms: number;
    try {
      // A TOML number is seconds; it skips parseDuration, so it gets the timer ceiling check on its own.
      ms = typeof v === 'number' ? checkTimerRange(v * 1000, String(v)) : parseDuration(v);
    } catch (err) {
      throw this.error(key, errorMessage(err));
    }
    if (!(ms > 0)) throw this.error(key, 'must be greater than zero');
    return ms;
  }
}

function isTable(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof TomlDate);
}

function describe(v: unknown): string {
  if (Array.isArray(v)) return 'an array';
  if (v instanceof TomlDate) return 'a date';
  if (isTable(v)) return 'a table';
  if (typeof v === 'number') return Number.isInteger(v) ? `the integer ${v}` : `the number ${v}`;
  if (typeof v === 'string') return `the string "${v}"`;
  return `${typeof v} ${String(v)}`;
}

/** The known key a typo most likely meant (edit distance <= 2), if any. */
function closestKey(name: string): string | undefined {
  let best: string | undefined;
  let bestDistance = 3;
  for (const key of KNOWN_KEYS) {
    const d = editDistance(name, key);
    if (d < bestDistance) [best, bestDistance] = [key, d];
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      row.push(Math.min((previous[j] ?? 0) + 1, (row[j - 1] ?? 0) + 1, substitution));
    }
    previous = row;
  }
  return previous[b.length] ?? 0;
}
