import { constants } from 'node:os';
import { checkTimerRange, parseDuration } from '../config/duration.js';
import { ConfigError, errorMessage } from '../errors.js';
import { joinKey, keyIsUnder } from '../key-path.js';
import type { Logger } from '../logging/logger.js';
import { locateKey } from './locate-key.js';
import type { GuardRules, NativeReload, TemplateResource, VerifyStep } from './template-resource.js';

/** Native reloads and verifications wait this long by default. */
export const DEFAULT_STEP_TIMEOUT_MS = 10_000;

const HTTP_METHODS = new Set(['GET', 'POST', 'PUT']);

/**
 * The keys of the Prometheus workflow (docs/template-resources.md#guard-rails-backups-native-reload-verify):
 * `backup`, `rollback` and the `[template.guard]`, `[template.reload]` and `[template.verify]` tables.
 * Adds what it finds to `resource`; throws ConfigError naming file, table, key and line.
 */
export function parseWorkflow(
  table: Record<string, unknown>,
  resource: TemplateResource,
  source: string,
  logger: Logger,
): void {
  const at = new Locator(source, resource.file);
  const backup = table['backup'];
  if (backup !== undefined) {
    if (typeof backup !== 'number' || !Number.isInteger(backup) || backup < 0 || backup > 100)
      throw at.error('template', 'backup', 'must be a whole number of backups to keep, 0 to 100');
    if (backup > 0) resource.backup = backup;
  }
  const rollback = table['rollback'];
  if (rollback !== undefined) {
    if (typeof rollback !== 'boolean') throw at.error('template', 'rollback', 'must be true or false');
    if (rollback) resource.rollback = true;
  }
  const guard = subTable(table, 'guard', at);
  if (guard) resource.guard = parseGuard(guard, resource, at, logger);
  const reload = subTable(table, 'reload', at);
  if (reload) {
    if (resource.reloadCmd !== undefined)
      throw at.error(
        'template',
        'reload_cmd',
        'cannot be combined with [template.reload]: choose one of them',
      );
    resource.nativeReload = parseReload(reload, at, logger);
  }
  const verify = subTable(table, 'verify', at);
  if (verify) resource.verify = parseVerify(verify, at, logger);
  if (resource.rollback && !resource.reloadCmd && !resource.nativeReload && !resource.verify)
    logger.warn(
      `${resource.file}: rollback = true has no effect without reload_cmd, [template.reload] or [template.verify]`,
    );
}

function parseGuard(
  table: Record<string, unknown>,
  resource: TemplateResource,
  at: Locator,
  logger: Logger,
): GuardRules {
  const name = 'template.guard';
  known(table, name, ['refuse_empty', 'required_keys', 'max_shrink'], at, logger);
  const refuseEmpty = table['refuse_empty'] ?? false;
  if (typeof refuseEmpty !== 'boolean') throw at.error(name, 'refuse_empty', 'must be true or false');
  const required = table['required_keys'] ?? [];
  if (!Array.isArray(required) || !required.every((k): k is string => typeof k === 'string'))
    throw at.error(name, 'required_keys', 'must be an array of key strings');
  // Like `keys`, relative to the resource prefix; each must be read by the resource, or it cannot be checked.
  const requiredKeys = required.map((key) => joinKey(resource.prefix, key));
  const read = resource.keys.map((key) => joinKey(resource.prefix, key));
  for (const [i, key] of requiredKeys.entries()) {
    if (!read.some((base) => keyIsUnder(key, base)))
      throw at.error(
        name,
        'required_keys',
        `lists "${required[i]}", which is not under any of the resource's keys`,
      );
  }
  const rules: GuardRules = { refuseEmpty, requiredKeys };
  const shrink = table['max_shrink'];
  if (shrink !== undefined) {
    const match = typeof shrink === 'string' ? /^\s*(\d+(?:\.\d+)?)\s*%\s*$/.exec(shrink) : null;
    const percent = Number(match?.[1]);
    if (!match || percent <= 0 || percent >= 100)
      throw at.error(name, 'max_shrink', 'must be a percentage between 0% and 100%, such as "50%"');
    rules.maxShrink = percent / 100;
  }
  return rules;
}

function parseReload(table: Record<string, unknown>, at: Locator, logger: Logger): NativeReload {
  const name = 'template.reload';
  known(table, name, ['http', 'signal', 'pid_file', 'timeout'], at, logger);
  const timeoutMs = duration(table, name, 'timeout', at);
  if (table['http'] !== undefined) {
    if (table['signal'] !== undefined || table['pid_file'] !== undefined)
      throw at.error(name, 'http', 'cannot be combined with signal/pid_file: one native reload per resource');
    return { kind: 'http', ...httpStep(table, name, at), timeoutMs };
  }
  const signal = table['signal'];
  if (typeof signal !== 'string' || !Object.hasOwn(constants.signals, signal.toUpperCase()))
    throw at.error(name, 'signal', 'must name a signal such as "SIGHUP" (or give http = "POST http://...")');
  const pidFile = table['pid_file'];
  if (typeof pidFile !== 'string' || pidFile === '')
    throw at.error(name, 'pid_file', 'is required with signal: the file holding the process id to signal');
  return { kind: 'signal', signal: signal.toUpperCase() as NodeJS.Signals, pidFile, timeoutMs };
}

function parseVerify(table: Record<string, unknown>, at: Locator, logger: Logger): VerifyStep {
  const name = 'template.verify';
  known(table, name, ['http', 'json_field', 'verify_cmd', 'timeout'], at, logger);
  const timeoutMs = duration(table, name, 'timeout', at);
  const command = table['verify_cmd'];
  if (command !== undefined) {
    if (table['http'] !== undefined) throw at.error(name, 'verify_cmd', 'cannot be combined with http');
    if (typeof command !== 'string' || command === '')
      throw at.error(name, 'verify_cmd', 'must be a command');
    return { kind: 'cmd', command, timeoutMs };
  }
  if (table['http'] === undefined) throw at.error(name, 'http', 'or verify_cmd is required');
  const step: VerifyStep = { kind: 'http', ...httpStep(table, name, at), timeoutMs };
  const field = table['json_field'];
  if (field !== undefined) {
    if (typeof field !== 'string' || !/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/.test(field))
      throw at.error(name, 'json_field', 'must be a dotted field path such as "data.reloadConfigSuccess"');
    step.jsonField = field;
  }
  return step;
}

/** `http = "POST http://127.0.0.1:9090/-/reload"`: method (GET, POST or PUT) and an http(s) URL. */
function httpStep(
  table: Record<string, unknown>,
  name: string,
  at: Locator,
): { method: string; url: string } {
  const text = table['http'];
  const match = typeof text === 'string' ? /^\s*([A-Za-z]+)\s+(\S+)\s*$/.exec(text) : null;
  const method = match?.[1]?.toUpperCase() ?? '';
  let url: URL | undefined;
  try {
    url = match?.[2] ? new URL(match[2]) : undefined;
  } catch {
    url = undefined;
  }
  if (!HTTP_METHODS.has(method) || !url || !/^https?:$/.test(url.protocol))
    throw at.error(
      name,
      'http',
      'must be "METHOD URL", such as "POST http://127.0.0.1:9090/-/reload" (GET, POST or PUT)',
    );
  if (url.username || url.password) throw at.error(name, 'http', 'must not carry credentials in the URL');
  return { method, url: url.toString() };
}

function duration(table: Record<string, unknown>, name: string, key: string, at: Locator): number {
  const v = table[key];
  if (v === undefined) return DEFAULT_STEP_TIMEOUT_MS;
  try {
    if (typeof v === 'number') return checkTimerRange(v * 1000, String(v));
    if (typeof v === 'string') return parseDuration(v);
  } catch (err) {
    throw at.error(name, key, errorMessage(err));
  }
  throw at.error(name, key, 'must be a duration like "10s"');
}

function subTable(
  table: Record<string, unknown>,
  key: string,
  at: Locator,
): Record<string, unknown> | undefined {
  const v = table[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    throw at.error('template', key, `must be a table: write [template.${key}]`);
  return v as Record<string, unknown>;
}

function known(
  table: Record<string, unknown>,
  name: string,
  keys: readonly string[],
  at: Locator,
  logger: Logger,
) {
  for (const key of Object.keys(table)) {
    if (!keys.includes(key))
      logger.warn(
        `${at.where(name, key)}: unknown key "${key}" in [${name}] ignored (known: ${keys.join(', ')})`,
      );
  }
}

class Locator {
  constructor(
    private readonly source: string,
    private readonly file: string,
  ) {}

  where(table: string, key: string): string {
    const pos = locateKey(this.source, table, key);
    return pos ? `${this.file}:${pos.line}:${pos.column}` : this.file;
  }

  error(table: string, key: string, message: string): ConfigError {
    const pos = locateKey(this.source, table, key);
    const where = pos ? `${this.file}:${pos.line}:${pos.column}` : this.file;
    return new ConfigError(`${where}: [${table}] key "${key}" ${message}`, this.file, pos?.line, pos?.column);
  }
}
