import { expect } from 'chai';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readCommandLine, type CommandLine } from '../../../src/cli/command-line.js';
import { DEFAULT_SETTINGS, type Settings } from '../../../src/config/settings.js';
import { ConfigError, UsageError } from '../../../src/errors.js';
import { rejection } from '../../support/async.js';

describe('readCommandLine (flags, CONFD_*, confd.toml)', () => {
  let dir: string;
  /** Points the default config file into the temp dir so /etc/confd on the test machine never matters. */
  let defaults: Partial<Settings>;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'confd-settings-'));
    defaults = { configFile: join(dir, 'default-confd.toml') };
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  async function write(name: string, text: string): Promise<string> {
    const file = join(dir, name);
    await writeFile(file, text);
    return file;
  }

  async function run(argv: string[], env: Record<string, string | undefined> = {}) {
    const result: CommandLine = await readCommandLine(argv, env, { defaults });
    if (result.kind !== 'run') throw new Error(`expected a run, got ${result.kind}`);
    return result;
  }

  it('uses confd’s defaults when nothing is given and the default file is missing', async () => {
    const { settings, warnings } = await run([]);
    expect(settings).to.deep.equal({ ...DEFAULT_SETTINGS, configFile: defaults.configFile });
    expect(settings).to.include({
      backend: 'etcd',
      confdir: '/etc/confd',
      interval: 600,
      filter: '*',
      logLevel: 'info',
    });
    expect(warnings).to.deep.equal([]);
  });

  it('uses /etc/confd/confd.toml as the built-in default config file, as confd does', () => {
    expect(DEFAULT_SETTINGS.configFile).to.equal('/etc/confd/confd.toml');
  });

  describe('precedence: defaults < confd.toml < CONFD_* < flags', () => {
    const FILE =
      'backend = "consul"\ninterval = 60\nnodes = ["file:1"]\nlog-level = "warn"\nprefix = "/file"\n';

    it('file beats defaults', async () => {
      const config = await write('confd.toml', FILE);
      const { settings } = await run(['-config-file', config]);
      expect(settings).to.include({ backend: 'consul', interval: 60, logLevel: 'warn', prefix: '/file' });
      expect(settings.nodes).to.deep.equal(['file:1']);
      expect(settings.confdir).to.equal('/etc/confd'); // untouched keys keep their defaults
    });

    it('environment beats file', async () => {
      const config = await write('confd.toml', FILE);
      const { settings } = await run(['-config-file', config], {
        CONFD_BACKEND: 'redis',
        CONFD_NODES: 'env:1, env:2',
        CONFD_INTERVAL: '30',
      });
      expect(settings).to.include({ backend: 'redis', interval: 30, logLevel: 'warn', prefix: '/file' });
      expect(settings.nodes).to.deep.equal(['env:1', 'env:2']);
    });

    it('flags beat environment and file (unlike upstream confd, where the file wins)', async () => {
      const config = await write('confd.toml', FILE);
      const { settings } = await run(
        ['-config-file', config, '-backend', 'zookeeper', '-node', 'flag:1', '-log-level', 'debug'],
        {
          CONFD_BACKEND: 'redis',
          CONFD_NODES: 'env:1',
          CONFD_INTERVAL: '30',
        },
      );
      expect(settings).to.include({ backend: 'zookeeper', interval: 30, logLevel: 'debug', prefix: '/file' });
      expect(settings.nodes).to.deep.equal(['flag:1']);
    });

    it('a false boolean flag beats a true one in the file and environment', async () => {
      const config = await write('confd.toml', 'noop = true\nwatch = true\n');
      const { settings } = await run(['-config-file', config, '-noop=false', '-watch=false'], {
        CONFD_NOOP: 'true',
      });
      expect(settings).to.include({ noop: false, watch: false });
    });

    it('flags beat defaults without a file or environment', async () => {
      const { settings } = await run(['-interval', '5', '-onetime']);
      expect(settings).to.include({ interval: 5, onetime: true, backend: 'etcd' });
    });

    it('environment beats defaults without a file', async () => {
      const { settings } = await run([], { CONFD_LOG_LEVEL: 'error', CONFD_ONETIME: 'true' });
      expect(settings).to.include({ logLevel: 'error', onetime: true });
    });
  });

  describe('choosing the config file', () => {
    it('reads the default file when it exists', async () => {
      await write('default-confd.toml', 'backend = "env"\n');
      const { settings } = await run([]);
      expect(settings.backend).to.equal('env');
      expect(settings.configFile).to.equal(defaults.configFile);
    });

    it('takes CONFD_CONFIG_FILE, and -config-file over it', async () => {
      const fromEnv = await write('env.toml', 'backend = "env"\n');
      const fromFlag = await write('flag.toml', 'backend = "file"\n');
      expect((await run([], { CONFD_CONFIG_FILE: fromEnv })).settings).to.include({
        backend: 'env',
        configFile: fromEnv,
      });
      const both = await run(['-config-file', fromFlag], { CONFD_CONFIG_FILE: fromEnv });
      expect(both.settings).to.include({ backend: 'file', configFile: fromFlag });
    });

    it('fails with the path when -config-file names a missing file', async () => {
      const missing = join(dir, 'nope.toml');
      const err = await rejection(run(['-config-file', missing]));
      expect(err).to.be.instanceOf(ConfigError);
      expect(err.message).to.equal(`config file ${missing}: file not found`);
      expect((err as ConfigError).file).to.equal(missing);
    });

    it('fails with the path when CONFD_CONFIG_FILE names a missing file', async () => {
      const missing = join(dir, 'env-nope.toml');
      const err = await rejection(run([], { CONFD_CONFIG_FILE: missing }));
      expect(err).to.be.instanceOf(ConfigError);
      expect(err.message).to.include(missing);
    });

    it('fails when the config file cannot be read', async () => {
      const err = await rejection(run(['-config-file', dir]));
      expect(err).to.be.instanceOf(ConfigError);
      expect(err.message).to.include(`config file ${dir}:`);
    });

    it('treats -config-file "" as no config file', async () => {
      await write('default-confd.toml', 'backend = "env"\n');
      const { settings } = await run(['-config-file=']);
      expect(settings).to.include({ backend: 'etcd', configFile: '' });
    });

    it('reports an invalid explicit file with file, line and column', async () => {
      const config = await write('confd.toml', 'backend = "env"\ninterval = = 5\n');
      const err = await rejection(run(['-config-file', config]));
      expect(err).to.be.instanceOf(ConfigError);
      expect(err).to.include({ file: config, line: 2, column: 12 });
      expect(err.message).to.equal(`config file ${config}: invalid TOML at line 2, column 12: invalid value`);
    });

    it('reports an invalid default file too (it exists, so it was meant to be read)', async () => {
      await write('default-confd.toml', 'backend = \n');
      const err = await rejection(run([]));
      expect(err).to.be.instanceOf(ConfigError);
      expect(err).to.include({ file: defaults.configFile, line: 1 });
    });

    it('returns unknown keys as warnings naming file and key', async () => {
      const config = await write('confd.toml', 'backend = "env"\nsecret_keyring = "k.asc"\n[confd]\nx = 1\n');
      const { settings, warnings } = await run(['-config-file', config]);
      expect(settings.backend).to.equal('env');
      expect(warnings).to.deep.equal([
        `config file ${config}: unknown key "secret_keyring" ignored`,
        `config file ${config}: unknown key "confd" ignored`,
      ]);
    });
  });

  describe('environment', () => {
    it('maps CONFD_* variables to settings', async () => {
      const { settings } = await run([], {
        CONFD_CLIENT_CAKEYS: '/ca.pem',
        CONFD_CLIENT_INSECURE: '1',
        CONFD_CONNECT_TIMEOUT: '250ms',
        CONFD_FILE: 'a.yaml,b.yaml',
        CONFD_SYNC_ONLY: 'true',
        CONFD_SRV_RECORD: '_x._tcp.example.com',
        CONFD_PASSWORD: 'pw',
      });
      expect(settings).to.include({
        clientCaKeys: '/ca.pem',
        clientInsecure: true,
        connectTimeoutMs: 250,
        syncOnly: true,
        srvRecord: '_x._tcp.example.com',
        password: 'pw',
      });
      expect(settings.files).to.deep.equal(['a.yaml', 'b.yaml']);
    });

    it('ignores empty variables and unrelated ones', async () => {
      const { settings } = await run([], { CONFD_BACKEND: '', CONFD_NODE: 'typo', HOME: '/root' });
      expect(settings.backend).to.equal('etcd');
      expect(settings.nodes).to.deep.equal([]);
    });

    for (const [variable, value] of [
      ['CONFD_INTERVAL', 'soon'],
      ['CONFD_LOG_LEVEL', 'loud'],
      ['CONFD_NOOP', 'yes please'],
      ['CONFD_SCHEME', 'ftp'],
      ['CONFD_CONNECT_TIMEOUT', 'x'],
    ] as const) {
      it(`rejects a bad ${variable}, naming the variable`, async () => {
        const err = await rejection(run([], { [variable]: value }));
        expect(err).to.be.instanceOf(ConfigError);
        expect(err.message).to.include(`invalid value "${value}" in environment variable ${variable}:`);
      });
    }

    for (const [variable, value] of [
      ['CONFD_INTERVAL', '2200000'],
      ['CONFD_CONNECT_TIMEOUT', '1000h'],
      ['CONFD_WAIT', '1000h'],
    ] as const) {
      it(`rejects ${variable}=${value}: longer than a timer can wait`, async () => {
        const err = await rejection(run([], { [variable]: value }));
        expect(err).to.be.instanceOf(ConfigError);
        expect(err.message).to.equal(
          `invalid value "${value}" in environment variable ${variable}: ` +
            'longer than 2147483647 ms (about 24.8 days), the longest a timer can wait',
        );
      });
    }
  });

  describe('command line', () => {
    it('rejects bad flags with a UsageError before reading any file', async () => {
      const err = await rejection(
        readCommandLine(['-interval', 'abc', '-config-file', join(dir, 'nope.toml')], {}),
      );
      expect(err).to.be.instanceOf(UsageError);
      expect((err as UsageError).flag).to.equal('interval');
    });

    it('returns help text for --help', async () => {
      const result = await readCommandLine(['--help'], {});
      expect(result.kind).to.equal('help');
      expect((result as { text: string }).text).to.include('-onetime');
    });

    it('returns the package.json version for -version and --version', async () => {
      const pkg = JSON.parse(await readFile(new URL('../../../package.json', import.meta.url), 'utf8')) as {
        version: string;
      };
      for (const flag of ['-version', '--version']) {
        const result = await readCommandLine([flag], {});
        expect(result.kind).to.equal('version');
        expect((result as { text: string }).text).to.match(
          new RegExp(`^confd ${pkg.version.replace(/\./g, '\\.')} `),
        );
      }
    });
  });

  describe('warnings for settings that have no effect (never ignore a setting silently)', () => {
    const noEffect = (name: string, backend: string) => `${name} has no effect with -backend ${backend}`;

    for (const [argv, expected] of [
      [['-backend', 'etcd', '-table', 't'], [noEffect('-table', 'etcd')]],
      [
        [
          '-backend=consul',
          '-auth-type=app-role',
          '-app-id=a',
          '-user-id=u',
          '-role-id=r',
          '-secret-id=s',
          '-path=p',
        ],
        ['-auth-type', '-app-id', '-user-id', '-role-id', '-secret-id', '-path'].map((f) =>
          noEffect(f, 'consul'),
        ),
      ],
      ...(['file', 'env'] as const).map(
        (backend) =>
          [
            [
              `-backend=${backend}`,
              ...(backend === 'file' ? ['-file=data.yaml'] : []),
              '-node=http://a:2379',
              '-username=u',
              '-password=p',
              '-basic-auth',
              '-client-cert=c.pem',
              '-client-key=k.pem',
              '-client-ca-keys=ca.pem',
              '-srv-domain=example.com',
              '-srv-record=_etcd._tcp.example.com',
              '-scheme=https',
              '-separator=:',
            ],
            [
              '-node',
              '-scheme',
              '-srv-domain',
              '-srv-record',
              '-separator',
              '-client-cert',
              '-client-key',
              '-client-ca-keys',
              '-basic-auth',
              '-username',
              '-password',
            ].map((f) => noEffect(f, backend)),
          ] as const,
      ),
      ...(['etcd', 'etcdv3', 'zookeeper', 'consul', 'redis'] as const).map(
        (backend) =>
          [
            [`-backend=${backend}`, '-file=data.yaml', '-filter=*.yaml'],
            [noEffect('-file', backend), noEffect('-filter', backend)],
          ] as const,
      ),
      [['-backend=file', '-file=a.yaml', '-connect-timeout=1s'], [noEffect('-connect-timeout', 'file')]],
      [['-onetime', '-interval', '5'], ['-interval has no effect with -onetime']],
      [
        ['-onetime', '-watch', '-wait=2s'],
        ['-watch has no effect with -onetime', '-wait has no effect with -onetime'],
      ],
      [['-onetime', '-watch'], ['-watch has no effect with -onetime']],
      [['-wait', '2s'], ['-wait has no effect without -watch']],
      [
        ['-backend=zookeeper', '-basic-auth', '-scheme=https', '-client-cert=c', '-auth-token=t'],
        ['-scheme', '-client-cert', '-basic-auth', '-auth-token'].map((f) => noEffect(f, 'zookeeper')),
      ],
      [
        ['-backend=redis', '-client-cert=c', '-client-insecure', '-basic-auth', '-scheme=https'],
        ['-scheme', '-client-cert', '-client-insecure', '-basic-auth'].map((f) => noEffect(f, 'redis')),
      ],
    ] as const) {
      it(`warns for ${argv.join(' ')}`, async () => {
        expect((await run([...argv])).warnings).to.deep.equal(expected);
      });
    }

    for (const argv of [
      ['-backend=file', '-file=a.yaml', '-filter=*.yaml', '-onetime'],
      ['-backend=env', '-onetime', '-prefix=/app', '-log-level=debug', '-noop', '-sync-only'],
      [
        '-backend=etcdv3',
        '-node=http://a:2379',
        '-scheme=https',
        '-client-cert=c',
        '-client-key=k',
        '-client-ca-keys=ca',
        '-client-insecure',
        '-basic-auth',
        '-username=u',
        '-password=p',
        '-srv-domain=example.com',
        '-srv-record=_etcd._tcp.example.com',
        '-connect-timeout=2s',
      ],
      ['-backend=zookeeper', '-node=zk:2181', '-username=u', '-password=p', '-srv-domain=example.com'],
      ['-backend=consul', '-node=c:8500', '-scheme=https', '-auth-token=t', '-basic-auth', '-client-cert=c'],
      ['-backend=redis', '-node=r:6379', '-password=p', '-client-key=pw', '-separator=:', '-username=u'],
      ['-watch', '-wait=2s:10s', '-interval=60'],
      // Not a backend this build has: the factory rejects it, one error instead of a warning per setting.
      ['-backend=dynamodb', '-table=t', '-node=x'],
    ]) {
      it(`does not warn for ${argv.join(' ')}`, async () => {
        expect((await run(argv)).warnings).to.deep.equal([]);
      });
    }

    it('does not warn for defaults, which nobody set', async () => {
      const { settings, warnings } = await run(['-backend=env', '-onetime']);
      expect(settings).to.include({ interval: 600, filter: '*', separator: '/', connectTimeoutMs: 5000 });
      expect(warnings).to.deep.equal([]);
    });

    it('names a CONFD_* variable when the setting came from the environment', async () => {
      const { warnings } = await run(['-backend=file', '-file=a.yaml'], {
        CONFD_TABLE: 't',
        CONFD_NODES: 'http://a:2379',
        CONFD_INTERVAL: '30',
        CONFD_ONETIME: 'true',
      });
      expect(warnings).to.deep.equal([
        'CONFD_NODES has no effect with -backend file',
        'CONFD_TABLE has no effect with -backend file',
        'CONFD_INTERVAL has no effect with -onetime',
      ]);
    });

    it('names the config file and key when the setting came from confd.toml', async () => {
      const config = await write(
        'confd.toml',
        'backend = "env"\ntable = "t"\nseparator = ":"\ninterval = 60\nprefix = "/app"\n',
      );
      const { warnings } = await run(['-config-file', config, '-onetime']);
      expect(warnings).to.deep.equal([
        `config file ${config}: key "separator" has no effect with -backend env`,
        `config file ${config}: key "table" has no effect with -backend env`,
        `config file ${config}: key "interval" has no effect with -onetime`,
      ]);
    });

    it('names the layer that won: a flag over CONFD_* over confd.toml', async () => {
      const config = await write('confd.toml', 'table = "file"\nusername = "file"\nseparator = ":"\n');
      const { warnings } = await run(['-config-file', config, '-backend=env', '-table=flag'], {
        CONFD_TABLE: 'env',
        CONFD_USERNAME: 'env',
      });
      expect(warnings).to.deep.equal([
        noEffect(`config file ${config}: key "separator"`, 'env'),
        noEffect('-table', 'env'),
        noEffect('CONFD_USERNAME', 'env'),
      ]);
    });

    it('judges against the backend that won, wherever it was set', async () => {
      const { warnings } = await run(['-backend=redis', '-separator=:'], { CONFD_BACKEND: 'file' });
      expect(warnings).to.deep.equal([]);
    });
  });

  it('derives the SRV record from -srv-domain and the backend, as confd does', async () => {
    const { settings } = await run(['-backend', 'etcdv3', '-srv-domain', 'example.com']);
    expect(settings.srvRecord).to.equal('_etcdv3._tcp.example.com.');
    const explicit = await run([
      '-srv-domain',
      'example.com',
      '-srv-record',
      '_etcd-client._tcp.example.com',
    ]);
    expect(explicit.settings.srvRecord).to.equal('_etcd-client._tcp.example.com');
  });

  it('never hands out the defaults’ arrays', async () => {
    const { settings } = await run([]);
    settings.nodes.push('x');
    settings.files.push('y');
    expect(DEFAULT_SETTINGS.nodes).to.deep.equal([]);
    expect(DEFAULT_SETTINGS.files).to.deep.equal([]);
  });
});
