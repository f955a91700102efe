import { expect } from 'chai';
import { parseConfigText } from '../../../src/config/config-file.js';
import { ConfigError } from '../../../src/errors.js';

const FILE = '/etc/confd/confd.toml';

async function configError(text: string): Promise<ConfigError> {
  try {
    await parseConfigText(text, FILE);
  } catch (err) {
    expect(err).to.be.instanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

describe('confd.toml', () => {
  it('reads every confd key', async () => {
    const text = [
      'backend = "etcdv3"',
      'nodes = ["http://a:2379", "http://b:2379"]',
      'prefix = "/app"',
      'interval = 120',
      'watch = true',
      'noop = true',
      'onetime = true',
      'sync-only = true',
      'log-level = "debug"',
      'confdir = "/srv/confd"',
      'client_cert = "/c.pem"',
      'client_key = "/k.pem"',
      'client_cakeys = "/ca.pem"',
      'client_insecure = true',
      'basic_auth = true',
      'username = "u"',
      'password = "p"',
      'auth_token = "t"',
      'auth_type = "token"',
      'scheme = "https"',
      'srv_domain = "example.com"',
      'srv_record = "_etcd._tcp.example.com"',
      'file = ["a.yaml"]',
      'filter = "*.yaml"',
      'separator = ":"',
      'table = "tbl"',
      'app_id = "app"',
      'user_id = "user"',
      'role_id = "role"',
      'secret_id = "sec"',
      'path = "approle"',
      'keep_stage_file = true',
      'connect_timeout = "2s"',
    ].join('\n');
    const { values, warnings } = await parseConfigText(text, FILE);
    expect(warnings).to.deep.equal([]);
    expect(values).to.deep.equal({
      backend: 'etcdv3',
      nodes: ['http://a:2379', 'http://b:2379'],
      prefix: '/app',
      interval: 120,
      watch: true,
      noop: true,
      onetime: true,
      syncOnly: true,
      logLevel: 'debug',
      confdir: '/srv/confd',
      clientCert: '/c.pem',
      clientKey: '/k.pem',
      clientCaKeys: '/ca.pem',
      clientInsecure: true,
      basicAuth: true,
      username: 'u',
      password: 'p',
      authToken: 't',
      authType: 'token',
      scheme: 'https',
      srvDomain: 'example.com',
      srvRecord: '_etcd._tcp.example.com',
      files: ['a.yaml'],
      filter: '*.yaml',
      separator: ':',
      table: 'tbl',
      appId: 'app',
      userId: 'user',
      roleId: 'role',
      secretId: 'sec',
      path: 'approle',
      keepStageFile: true,
      connectTimeoutMs: 2000,
    });
  });

  it('accepts the alternative spellings sync_only, log_level and keep-stage-file', async () => {
    const { values } = await parseConfigText(
      'sync_only = true\nlog_level = "error"\nkeep-stage-file = true\n',
      FILE,
    );
    expect(values).to.deep.equal({ syncOnly: true, logLevel: 'error', keepStageFile: true });
  });

  it('takes a single string for file (older confd) or nodes, and seconds for connect_timeout', async () => {
    const text = 'file = "data.yaml"\nnodes = "http://a:2379"\nconnect_timeout = 3\n';
    expect((await parseConfigText(text, FILE)).values).to.deep.equal({
      files: ['data.yaml'],
      nodes: ['http://a:2379'],
      connectTimeoutMs: 3000,
    });
  });

  it('warns about unknown keys, including config-file (it cannot name itself)', async () => {
    const { values, warnings } = await parseConfigText(
      'backend = "env"\nbackned = "x"\nconfig-file = "y"\n',
      FILE,
    );
    expect(values).to.deep.equal({ backend: 'env' });
    expect(warnings).to.deep.equal([
      `config file ${FILE}: unknown key "backned" ignored`,
      `config file ${FILE}: unknown key "config-file" ignored`,
    ]);
  });

  for (const [text, key, line, reason] of [
    ['interval = "600"', 'interval', 1, 'expected a whole number of seconds, at least 1, got string "600"'],
    ['backend = "env"\ninterval = 1.5', 'interval', 2, 'got number 1.5'],
    ['noop = "yes"', 'noop', 1, 'expected true or false, got string "yes"'],
    ['nodes = [1, 2]', 'nodes', 1, 'expected an array of strings, got an array'],
    ['backend = 5', 'backend', 1, 'expected a string, got number 5'],
    ['log-level = "loud"', 'log-level', 1, 'expected debug, info, warn or error'],
    ['scheme = "ftp"', 'scheme', 1, 'expected http or https'],
    ['connect_timeout = "soon"', 'connect_timeout', 1, 'expected a duration such as 500ms'],
    ['\n\n  "prefix" = 1', 'prefix', 3, 'expected a string, got number 1'],
    ['[prefix]\na = 1', 'prefix', undefined, 'expected a string, got a table'],
    // Node fires a timer longer than 2^31-1 ms after 1 ms: a busy loop or an instant timeout.
    ['interval = 2200000', 'interval', 1, 'longer than 2147483647 ms (about 24.8 days)'],
    ['connect_timeout = "1000h"', 'connect_timeout', 1, 'longer than 2147483647 ms'],
    ['noop = true\nconnect_timeout = 2200000', 'connect_timeout', 2, 'longer than 2147483647 ms'],
    ['wait = "1s:1000h"', 'wait', 1, 'longer than 2147483647 ms'],
  ] as const) {
    it(`rejects a wrongly typed ${key} naming file, key${line ? ' and line' : ''}`, async () => {
      const err = await configError(text);
      expect(err.message).to.include(`config file ${FILE}: key "${key}"`);
      expect(err.message).to.include(reason);
      expect(err.file).to.equal(FILE);
      expect(err.line).to.equal(line);
    });
  }

  it('does not echo a secret’s value in a type error', async () => {
    const err = await configError('password = 123456789');
    expect(err.message).to.include('key "password"');
    expect(err.message).not.to.include('123456789');
  });

  it('reports TOML syntax errors on one line with line and column', async () => {
    const err = await configError('backend = "env"\n\nnodes = ["a",\n');
    expect(err.line).to.equal(4);
    expect(err.column).to.be.a('number');
    expect(err.message).to.match(
      new RegExp(`^config file ${FILE}: invalid TOML at line 4, column \\d+: .+$`),
    );
  });
});
