import { SETTING_SPECS } from './setting-specs.js';
import type { Settings } from './settings.js';

export const REDACTED = '[redacted]';

const SECRET_KEYS = SETTING_SPECS.filter((spec) => spec.secret).map((spec) => spec.key);

/**
 * A copy of the settings safe to print: password, auth token, vault secret-id and client key are masked,
 * and so is a password embedded in a node URL (http://user:pass@host). Unset secrets stay unset so the
 * output still shows which ones were given.
 */
export function redactSecrets(settings: Readonly<Settings>): Settings {
  const copy: Settings = {
    ...settings,
    nodes: settings.nodes.map(redactUrlCredentials),
    files: [...settings.files],
  };
  for (const key of SECRET_KEYS) {
    if (copy[key] !== undefined && copy[key] !== '')
      (copy as unknown as Record<string, unknown>)[key] = REDACTED;
  }
  return copy;
}

/**
 * Masks the password of every URL with credentials (scheme://user:pass@host) in `text`. The logger runs
 * every line through it: error messages from store clients quote the node as given, credentials and all.
 */
export function redactUrlCredentials(text: string): string {
  return text.replace(/\b([a-z][a-z0-9+.-]*:\/\/[^/@:\s]*):[^/@\s]*@/gi, `$1:${REDACTED}@`);
}

/** Lines of a key file at least this long are masked: PEM bodies, not "-----END KEY-----" alone. */
const MIN_KEY_LINE = 16;

/**
 * Every secret this run was given, for the logger to mask wherever it shows up: the secret settings
 * (password, auth token, secret-id, client key), the Consul token from the environment, and the contents of
 * the client key file, line by line.
 */
export async function configuredSecrets(
  settings: Readonly<Settings>,
  env: Record<string, string | undefined> = process.env,
): Promise<string[]> {
  const secrets: string[] = [];
  for (const key of SECRET_KEYS) {
    const value = settings[key];
    if (typeof value === 'string' && value !== '') secrets.push(value);
  }
  const consulToken = env.CONSUL_HTTP_TOKEN;
  if (consulToken) secrets.push(consulToken);
  if (settings.clientKey) {
    const { readFile } = await import('../fs-async.js');
    const text = await readFile(settings.clientKey, 'utf8').catch(() => '');
    for (const line of text.split('\n')) if (line.trim().length >= MIN_KEY_LINE) secrets.push(line.trim());
  }
  return secrets;
}
