import { redactUrlCredentials, REDACTED } from '../config/redact-secrets.js';

/** Secrets shorter than this are not masked: masking "ab" in every line would garble the log itself. */
export const MIN_MASKED_LENGTH = 3;

/**
 * Masks every configured secret (password, token, secret-id, the contents of a key file) wherever it
 * appears in a line, and the password of any URL with credentials. The logger runs every line and every
 * field through it, so a secret quoted by a library error, a command's output or a store client's message
 * never leaves the process.
 */
export class SecretMask {
  private readonly secrets: string[];

  constructor(secrets: Iterable<string> = []) {
    // Longest first, so a secret containing another is masked whole.
    this.secrets = [...new Set(secrets)]
      .filter((secret) => secret.length >= MIN_MASKED_LENGTH)
      .sort((a, b) => b.length - a.length);
  }

  mask(text: string): string {
    let out = redactUrlCredentials(text);
    for (const secret of this.secrets) if (out.includes(secret)) out = out.replaceAll(secret, REDACTED);
    return out;
  }
}
