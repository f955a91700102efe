import { expect } from 'chai';
import { hostname } from 'node:os';
import { Writable } from 'node:stream';
import { DEFAULT_SETTINGS, type Settings } from '../../../src/config/settings.js';
import type { LogLevel } from '../../../src/logging/logger.js';
import {
  createLogger,
  formatLogLine,
  redactSecrets,
  type LoggerOptions,
} from '../../../src/logging/stream-logger.js';

class Collector extends Writable {
  text = '';
  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: () => void): void {
    this.text += chunk.toString();
    callback();
  }
  lines(): string[] {
    return this.text.split('\n').filter((line) => line !== '');
  }
}

const FIXED = { hostname: 'web-1', pid: 4242, now: () => new Date('2026-11-22T10:00:00.123Z') };

async function logAll(options: Omit<LoggerOptions, 'stream'>): Promise<string[]> {
  const stream = new Collector();
  const logger = createLogger({ ...options, stream });
  logger.debug('d message');
  logger.info('i message');
  logger.warn('w message');
  logger.error('e message');
  await logger.close();
  return stream.lines();
}

describe('stream logger', () => {
  it('writes confd’s text line: UTC RFC 3339 time without fractions, host, confd[pid], LEVEL, message', async () => {
    const lines = await logAll({ level: 'info', ...FIXED });
    expect(lines).to.deep.equal([
      '2026-11-22T10:00:00Z web-1 confd[4242]: INFO i message',
      '2026-11-22T10:00:00Z web-1 confd[4242]: WARNING w message',
      '2026-11-22T10:00:00Z web-1 confd[4242]: ERROR e message',
    ]);
  });

  it('pads every field of the time to its width and cuts the fraction off, never rounding it up', () => {
    const line = (iso: string): string =>
      formatLogLine({ time: new Date(iso), level: 'info', message: 'm', hostname: 'h', pid: 1 });
    expect(line('2027-01-05T03:04:09.999Z')).to.equal('2027-01-05T03:04:09Z h confd[1]: INFO m');
    expect(line('0999-12-31T23:59:59.000Z')).to.equal('0999-12-31T23:59:59Z h confd[1]: INFO m');
    // The same text as the ISO form without its fraction, at any instant.
    for (let t = 0; t < 4e12; t += 86_399_937_123) {
      const time = new Date(t);
      expect(line(time.toISOString()).slice(0, 20)).to.equal(time.toISOString().replace(/\.\d+Z$/, 'Z'));
    }
  });

  it('uses the real host name, pid and clock by default', async () => {
    const stream = new Collector();
    const logger = createLogger({ level: 'info', stream });
    logger.info('hello world');
    await logger.close();
    const [line] = stream.lines();
    expect(line).to.match(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ \S+ confd\[\d+\]: INFO hello world$/);
    expect(line).to.include(` ${hostname()} confd[${process.pid}]: `);
  });

  const LEVEL_CASES: [LogLevel, string[]][] = [
    ['debug', ['DEBUG', 'INFO', 'WARNING', 'ERROR']],
    ['info', ['INFO', 'WARNING', 'ERROR']],
    ['warn', ['WARNING', 'ERROR']],
    ['error', ['ERROR']],
  ];
  for (const [level, shown] of LEVEL_CASES) {
    it(`-log-level ${level} shows ${shown.join(', ')}`, async () => {
      const lines = await logAll({ level, ...FIXED });
      expect(lines.map((line) => line.split(' ')[3])).to.deep.equal(shown);
    });
  }

  it('writes JSON lines with logrus field names when format is json', async () => {
    const lines = await logAll({ level: 'warn', format: 'json', ...FIXED });
    expect(lines.map((line) => JSON.parse(line) as unknown)).to.deep.equal([
      { time: '2026-11-22T10:00:00Z', level: 'warning', msg: 'w message', hostname: 'web-1', pid: 4242 },
      { time: '2026-11-22T10:00:00Z', level: 'error', msg: 'e message', hostname: 'web-1', pid: 4242 },
    ]);
  });

  it('keeps printf-like text literal', async () => {
    const stream = new Collector();
    const logger = createLogger({ level: 'info', stream, ...FIXED });
    logger.info('100% done %s %d {}');
    await logger.close();
    expect(stream.lines()).to.deep.equal(['2026-11-22T10:00:00Z web-1 confd[4242]: INFO 100% done %s %d {}']);
  });

  it('still writes (and still filters) after close, straight to the stream', async () => {
    const stream = new Collector();
    const logger = createLogger({ level: 'info', stream, ...FIXED });
    await logger.close();
    await logger.close();
    logger.debug('late debug');
    logger.error('late error');
    expect(stream.lines()).to.deep.equal(['2026-11-22T10:00:00Z web-1 confd[4242]: ERROR late error']);
  });

  it('close waits until the stream has taken every line written before it', async () => {
    const taken: string[] = [];
    const slow = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        setImmediate(() => {
          taken.push(chunk.toString());
          callback();
        });
      },
    });
    const logger = createLogger({ level: 'info', stream: slow, ...FIXED });
    logger.info('one');
    logger.info('two');
    await logger.close();
    expect(taken).to.deep.equal([
      '2026-11-22T10:00:00Z web-1 confd[4242]: INFO one\n',
      '2026-11-22T10:00:00Z web-1 confd[4242]: INFO two\n',
    ]);
  });

  it('masks every configured secret in text and JSON lines and fields', () => {
    const stream = new Collector();
    const logger = createLogger({ level: 'info', stream, secrets: ['hunter2'], ...FIXED });
    logger.error('login failed with hunter2', { reason: 'password hunter2 refused' });
    const json = new Collector();
    const jsonLogger = createLogger({
      level: 'info',
      format: 'json',
      stream: json,
      secrets: ['hunter2'],
      ...FIXED,
    });
    jsonLogger.error('login failed with hunter2', { reason: 'password hunter2 refused' });
    expect(stream.text + json.text).not.to.include('hunter2');
    expect(JSON.parse(json.lines()[0] as string)).to.include({
      msg: 'login failed with [redacted]',
      reason: 'password [redacted] refused',
    });
  });

  it('masks the password of every URL with credentials in a message, in both formats', () => {
    const entry = {
      time: new Date(Date.UTC(2026, 0, 2, 3, 4, 5)),
      level: 'error' as const,
      message:
        'consul: no agent at https://ops:s3cret@10.0.0.1:8500 (https://ops:s3cret@10.0.0.1:8500: ECONNREFUSED)',
      hostname: 'h',
      pid: 1,
    };
    const text = formatLogLine(entry);
    expect(text).not.to.include('s3cret');
    expect(text).to.include('https://ops:[redacted]@10.0.0.1:8500 (https://ops:[redacted]@10.0.0.1:8500:');
    expect(formatLogLine(entry, 'json')).not.to.include('s3cret');
  });

  it('formatLogLine formats one entry in either format', () => {
    const entry = {
      time: new Date(Date.UTC(2026, 0, 2, 3, 4, 5, 999)),
      level: 'debug' as const,
      message: 'm',
      hostname: 'h',
      pid: 1,
    };
    expect(formatLogLine(entry)).to.equal('2026-01-02T03:04:05Z h confd[1]: DEBUG m');
    expect(JSON.parse(formatLogLine(entry, 'json'))).to.deep.equal({
      time: '2026-01-02T03:04:05Z',
      level: 'debug',
      msg: 'm',
      hostname: 'h',
      pid: 1,
    });
  });
});

describe('redactSecrets', () => {
  const settings: Settings = {
    ...DEFAULT_SETTINGS,
    nodes: ['http://admin:s3cret@etcd:2379', 'http://plain:2379', '127.0.0.1:2181'],
    files: ['a.yaml'],
    username: 'admin',
    password: 'hunter2',
    authToken: 'tok-123',
    secretId: 'sid-456',
    clientKey: '/etc/ssl/private/client.key',
    clientCert: '/etc/ssl/client.pem',
    roleId: 'role-1',
  };

  it('masks password, auth token, secret-id, client key and passwords in node URLs', () => {
    const printable = redactSecrets(settings);
    const text = JSON.stringify(printable);
    for (const secret of ['hunter2', 'tok-123', 'sid-456', 'client.key', 's3cret'])
      expect(text).not.to.include(secret);
    expect(printable).to.include({
      password: '[redacted]',
      authToken: '[redacted]',
      secretId: '[redacted]',
      clientKey: '[redacted]',
      username: 'admin',
      clientCert: '/etc/ssl/client.pem',
      roleId: 'role-1',
      backend: 'etcd',
    });
    expect(printable.nodes).to.deep.equal([
      'http://admin:[redacted]@etcd:2379',
      'http://plain:2379',
      '127.0.0.1:2181',
    ]);
  });

  it('leaves unset secrets unset and does not touch the original', () => {
    const printable = redactSecrets(DEFAULT_SETTINGS);
    expect(printable.password).to.equal(undefined);
    expect(printable.authToken).to.equal(undefined);
    redactSecrets(settings);
    expect(settings.password).to.equal('hunter2');
    expect(settings.nodes[0]).to.equal('http://admin:s3cret@etcd:2379');
  });
});
