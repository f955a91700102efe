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
