import { expect } from 'chai';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { configuredSecrets } from '../../../src/config/redact-secrets.js';
import { DEFAULT_SETTINGS } from '../../../src/config/settings.js';
import { formatLogLine } from '../../../src/logging/stream-logger.js';
import { SecretMask } from '../../../src/logging/secret-mask.js';

describe('secret masking', () => {
  it('masks every configured secret wherever it appears, longest first, and URL passwords', () => {
    const mask = new SecretMask(['hunter2', 'hunter2-long', 'ab']);
    expect(mask.mask('auth failed with hunter2-long then hunter2 at http://u:pw@h:1/x')).to.equal(
      'auth failed with [redacted] then [redacted] at http://u:[redacted]@h:1/x',
    );
    // Too short to mask without garbling every line: left as is.
    expect(mask.mask('about tab')).to.equal('about tab');
  });

  it('collects the secret settings, CONSUL_HTTP_TOKEN and the lines of the client key file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'confd-secrets-'));
    try {
      const key = join(dir, 'client.key');
      await writeFile(
        key,
        '-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----\n',
      );
      const secrets = await configuredSecrets(
        {
          ...DEFAULT_SETTINGS,
          password: 'pw-123',
          authToken: 'tok-456',
          secretId: 'sid-789',
          clientKey: key,
        },
        { CONSUL_HTTP_TOKEN: 'consul-000' },
      );
      for (const secret of [
        'pw-123',
        'tok-456',
        'sid-789',
        key,
        'consul-000',
        'MIIEvQIBADANBgkqhkiG9w0BAQEFAASC',
      ])
        expect(secrets).to.include(secret);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('masks the message and every JSON field of a log line', () => {
    const mask = new SecretMask(['s3cret-token']);
    const entry = {
      time: new Date('2026-12-01T10:00:00Z'),
      level: 'error' as const,
      message: 'consul: 403 for token s3cret-token',
      hostname: 'h',
      pid: 1,
      fields: { error: 'token s3cret-token refused', dest: '/etc/x' },
    };
    const text = formatLogLine(entry, 'text', mask);
    const json = JSON.parse(formatLogLine(entry, 'json', mask)) as Record<string, string>;
    expect(text).not.to.include('s3cret-token');
    expect(json.msg).to.equal('consul: 403 for token [redacted]');
    expect(json.error).to.equal('token [redacted] refused');
    expect(json.dest).to.equal('/etc/x');
  });
});
