import { expect } from 'chai';
import { helpText, parseFlags, type FlagParseResult } from '../../../src/cli/flags.js';
import { SETTING_SPECS } from '../../../src/config/setting-specs.js';
import type { Settings } from '../../../src/config/settings.js';
import { UsageError } from '../../../src/errors.js';

function flagValues(argv: string[]): Partial<Settings> {
  const result: FlagParseResult = parseFlags(argv);
  if (result.kind !== 'flags') throw new Error(`expected flags, got ${result.kind}`);
  return result.values;
}

function usageError(argv: string[]): UsageError {
  try {
    parseFlags(argv);
  } catch (err) {
    expect(err).to.be.instanceOf(UsageError);
    return err as UsageError;
  }
  throw new Error(`expected a UsageError for ${argv.join(' ')}`);
}

const TOO_LONG = 'longer than 2147483647 ms (about 24.8 days), the longest a timer can wait';

/** One sample per flag: argv value and the setting it must produce. */
const SAMPLES: Record<string, { args: string[]; key: keyof Settings; value: unknown }> = {
  'app-id': { args: ['-app-id', 'app1'], key: 'appId', value: 'app1' },
  'auth-token': { args: ['-auth-token', 'tok'], key: 'authToken', value: 'tok' },
  'auth-type': { args: ['-auth-type', 'app-role'], key: 'authType', value: 'app-role' },
  backend: { args: ['-backend', 'consul'], key: 'backend', value: 'consul' },
  'basic-auth': { args: ['-basic-auth'], key: 'basicAuth', value: true },
  'client-ca-keys': { args: ['-client-ca-keys', '/ca.pem'], key: 'clientCaKeys', value: '/ca.pem' },
  'client-cert': { args: ['-client-cert', '/c.pem'], key: 'clientCert', value: '/c.pem' },
  'client-insecure': { args: ['-client-insecure'], key: 'clientInsecure', value: true },
  'client-key': { args: ['-client-key', '/k.pem'], key: 'clientKey', value: '/k.pem' },
  confdir: { args: ['-confdir', '/srv/confd'], key: 'confdir', value: '/srv/confd' },
  'config-file': { args: ['-config-file', '/srv/c.toml'], key: 'configFile', value: '/srv/c.toml' },
  'connect-timeout': { args: ['-connect-timeout', '1500ms'], key: 'connectTimeoutMs', value: 1500 },
  file: { args: ['-file', 'a.yaml'], key: 'files', value: ['a.yaml'] },
  filter: { args: ['-filter', '*.yml'], key: 'filter', value: '*.yml' },
  interval: { args: ['-interval', '30'], key: 'interval', value: 30 },
  'keep-stage-file': { args: ['-keep-stage-file'], key: 'keepStageFile', value: true },
  'log-level': { args: ['-log-level', 'debug'], key: 'logLevel', value: 'debug' },
  node: { args: ['-node', 'http://n1:2379'], key: 'nodes', value: ['http://n1:2379'] },
  noop: { args: ['-noop'], key: 'noop', value: true },
  onetime: { args: ['-onetime'], key: 'onetime', value: true },
  password: { args: ['-password', 'pw'], key: 'password', value: 'pw' },
  path: { args: ['-path', 'approle'], key: 'path', value: 'approle' },
  prefix: { args: ['-prefix', '/production'], key: 'prefix', value: '/production' },
  'role-id': { args: ['-role-id', 'r1'], key: 'roleId', value: 'r1' },
  scheme: { args: ['-scheme', 'https'], key: 'scheme', value: 'https' },
  'secret-id': { args: ['-secret-id', 's1'], key: 'secretId', value: 's1' },
  separator: { args: ['-separator', ':'], key: 'separator', value: ':' },
  'srv-domain': { args: ['-srv-domain', 'example.com'], key: 'srvDomain', value: 'example.com' },
  'srv-record': {
    args: ['-srv-record', '_etcd._tcp.example.com'],
    key: 'srvRecord',
    value: '_etcd._tcp.example.com',
  },
  'sync-only': { args: ['-sync-only'], key: 'syncOnly', value: true },
  table: { args: ['-table', 'confd'], key: 'table', value: 'confd' },
  'user-id': { args: ['-user-id', 'u1'], key: 'userId', value: 'u1' },
  username: { args: ['-username', 'admin'], key: 'username', value: 'admin' },
  'template-engine': { args: ['-template-engine', 'go'], key: 'templateEngine', value: 'go' },
  watch: { args: ['-watch'], key: 'watch', value: true },
  wait: { args: ['-wait', '2s:10s'], key: 'wait', value: { minMs: 2000, maxMs: 10000 } },
  'request-timeout': { args: ['-request-timeout', '3s'], key: 'requestTimeoutMs', value: 3000 },
  'shutdown-timeout': { args: ['-shutdown-timeout=1m'], key: 'shutdownTimeoutMs', value: 60_000 },
  'watch-poll': { args: ['--watch-poll', '250ms'], key: 'watchPollMs', value: 250 },
  'log-format': { args: ['-log-format', 'JSON'], key: 'logFormat', value: 'json' },
  'metrics-addr': { args: ['-metrics-addr', '127.0.0.1:9100'], key: 'metricsAddr', value: '127.0.0.1:9100' },
};

/** confd's flag list (confd config.go, minus -secret-keyring) plus the flags confd-ts adds. */
// prettier-ignore
const CONFD_FLAGS = [
  'app-id', 'auth-token', 'auth-type', 'backend', 'basic-auth', 'client-ca-keys', 'client-cert',
  'client-insecure', 'client-key', 'confdir', 'config-file', 'file', 'filter', 'interval', 'keep-stage-file',
  'log-level', 'node', 'noop', 'onetime', 'password', 'path', 'prefix', 'role-id', 'scheme', 'secret-id',
  'separator', 'srv-domain', 'srv-record', 'sync-only', 'table', 'user-id', 'username', 'watch',
  'connect-timeout', 'wait', 'request-timeout', 'shutdown-timeout', 'watch-poll', 'log-format', 'metrics-addr',
  'template-engine',
];

describe('confd flags', () => {
  it('defines exactly confd’s flags plus the ones confd-ts adds (and -version)', () => {
    expect(SETTING_SPECS.map((s) => s.flag)).to.have.members(CONFD_FLAGS);
    expect(Object.keys(SAMPLES)).to.have.members(CONFD_FLAGS);
  });

  describe('every flag reaches its setting', () => {
    for (const [flag, sample] of Object.entries(SAMPLES)) {
      it(`-${flag}`, () => {
        expect(flagValues(sample.args)).to.deep.equal({ [sample.key]: sample.value });
      });
    }
  });

  it('leaves settings that were not given absent, so lower layers show through', () => {
    expect(flagValues([])).to.deep.equal({});
    expect(flagValues(['-onetime'])).to.deep.equal({ onetime: true });
  });

  describe('value flag forms', () => {
    for (const args of [['-backend', 'env'], ['-backend=env'], ['--backend', 'env'], ['--backend=env']]) {
      it(args.join(' '), () => {
        expect(flagValues(args).backend).to.equal('env');
      });
    }

    it('keeps everything after the first "=" as the value', () => {
      expect(flagValues(['-prefix=/a=b'])).to.deep.equal({ prefix: '/a=b' });
    });

    it('accepts an empty value with -flag=', () => {
      expect(flagValues(['-prefix='])).to.deep.equal({ prefix: '' });
    });

    it('takes the next word as the value even when it starts with a dash, as Go does', () => {
      expect(flagValues(['-prefix', '-onetime'])).to.deep.equal({ prefix: '-onetime' });
      expect(flagValues(['-separator', '-h'])).to.deep.equal({ separator: '-h' });
    });

    it('lets the last occurrence of a single-value flag win', () => {
      expect(flagValues(['-backend', 'etcd', '-backend', 'redis'])).to.deep.equal({ backend: 'redis' });
    });
  });

  describe('boolean flag forms', () => {
    for (const [args, value] of [
      [['-noop'], true],
      [['--noop'], true],
      [['-noop=true'], true],
      [['--noop=true'], true],
      [['-noop=1'], true],
      [['-noop=T'], true],
      [['-noop=false'], false],
      [['--noop=false'], false],
      [['-noop=0'], false],
      [['-noop=F'], false],
    ] as const) {
      it(`${args.join(' ')} -> ${value}`, () => {
        expect(flagValues([...args])).to.deep.equal({ noop: value });
      });
    }

    it('never takes the following word as a boolean’s value', () => {
      const err = usageError(['-noop', 'false']);
      expect(err.message).to.equal('unexpected argument "false": confd takes flags only');
    });

    it('rejects a non-boolean value, naming the flag', () => {
      const err = usageError(['-noop=maybe']);
      expect(err.message).to.equal('invalid boolean value "maybe" for flag -noop: expected true or false');
      expect(err.flag).to.equal('noop');
    });
  });

  describe('repeatable flags', () => {
    it('collects every -node in order, whatever the form', () => {
      expect(
        flagValues(['-node', 'http://a:2379', '--node=http://b:2379', '-node=http://c:2379']).nodes,
      ).to.deep.equal(['http://a:2379', 'http://b:2379', 'http://c:2379']);
    });

    it('collects every -file and does not split on commas (confd does not)', () => {
      expect(flagValues(['-file', 'a.yaml', '-file', 'dir,with,commas']).files).to.deep.equal([
        'a.yaml',
        'dir,with,commas',
      ]);
    });
  });

  describe('value checks', () => {
    it('reads -connect-timeout as a duration or as seconds', () => {
      expect(flagValues(['-connect-timeout', '2s']).connectTimeoutMs).to.equal(2000);
      expect(flagValues(['-connect-timeout', '3']).connectTimeoutMs).to.equal(3000);
    });

    it('accepts -interval and -connect-timeout up to the timer ceiling (2^31-1 ms)', () => {
      expect(flagValues(['-interval', '2147483']).interval).to.equal(2_147_483);
      expect(flagValues(['-connect-timeout', '2147483647ms']).connectTimeoutMs).to.equal(2 ** 31 - 1);
    });

    it('accepts the logrus spelling "warning" for -log-level', () => {
      expect(flagValues(['-log-level', 'warning']).logLevel).to.equal('warn');
    });

    for (const [args, flag, message] of [
      [
        ['-interval', 'abc'],
        'interval',
        'invalid value "abc" for flag -interval: expected a whole number of seconds, at least 1',
      ],
      [
        ['-interval', '0'],
        'interval',
        'invalid value "0" for flag -interval: expected a whole number of seconds, at least 1',
      ],
      [
        ['-interval=1.5'],
        'interval',
        'invalid value "1.5" for flag -interval: expected a whole number of seconds, at least 1',
      ],
      [
        ['-log-level', 'loud'],
        'log-level',
        'invalid value "loud" for flag -log-level: expected debug, info, warn or error',
      ],
      [['-scheme', 'ftp'], 'scheme', 'invalid value "ftp" for flag -scheme: expected http or https'],
      [['-connect-timeout', 'soon'], 'connect-timeout', 'invalid value "soon" for flag -connect-timeout:'],
      [['-connect-timeout', '0s'], 'connect-timeout', 'invalid value "0s" for flag -connect-timeout:'],
      [
        ['-wait', '10s:2s'],
        'wait',
        'invalid value "10s:2s" for flag -wait: the maximum is shorter than the minimum',
      ],
      // Above 2^31-1 ms Node fires a timer after 1 ms: -interval would busy-loop, timeouts expire at once.
      [['-interval', '2200000'], 'interval', `invalid value "2200000" for flag -interval: ${TOO_LONG}`],
      [
        ['-connect-timeout', '1000h'],
        'connect-timeout',
        `invalid value "1000h" for flag -connect-timeout: ${TOO_LONG}`,
      ],
      [['-connect-timeout=2200000'], 'connect-timeout', `for flag -connect-timeout: ${TOO_LONG}`],
      [['-wait', '1s:1000h'], 'wait', `invalid value "1s:1000h" for flag -wait: ${TOO_LONG}`],
    ] as const) {
      it(`rejects ${args.join(' ')}, naming -${flag}`, () => {
        const err = usageError([...args]);
        expect(err.message).to.include(message);
        expect(err.message).not.to.include('\n');
        expect(err.flag).to.equal(flag);
      });
    }
  });

  describe('command-line mistakes', () => {
    it('names an unknown flag', () => {
      const err = usageError(['-onetime', '-no-such-flag']);
      expect(err.message).to.equal('flag provided but not defined: -no-such-flag');
      expect(err.flag).to.equal('no-such-flag');
    });

    it('names an unknown flag given with a value and suggests a close match', () => {
      const err = usageError(['--nod=http://x']);
      expect(err.message).to.equal('flag provided but not defined: -nod (did you mean -node?)');
    });

    it('does not accept confd’s -secret-keyring (crypt functions are not supported)', () => {
      expect(usageError(['-secret-keyring', 'k.asc']).message).to.include('-secret-keyring');
    });

    for (const args of [['-backend'], ['-onetime', '--node'], ['-log-level']]) {
      const flag = (args.at(-1) as string).replace(/^-+/, '');
      it(`names the flag missing its value: ${args.join(' ')}`, () => {
        const err = usageError(args);
        expect(err.message).to.equal(`flag needs an argument: -${flag}`);
        expect(err.flag).to.equal(flag);
      });
    }

    it('rejects operands', () => {
      expect(usageError(['-onetime', 'extra']).message).to.equal(
        'unexpected argument "extra": confd takes flags only',
      );
      expect(usageError(['--', '-onetime']).message).to.include('"-onetime"');
    });

    it('rejects bad flag syntax', () => {
      expect(usageError(['---onetime']).message).to.equal('bad flag syntax: ---onetime');
      expect(usageError(['-=x']).message).to.equal('bad flag syntax: -=x');
    });

    it('keeps every error message on one line', () => {
      for (const args of [['-x'], ['-nop'], ['a', 'b'], ['-backend'], ['-interval=x']]) {
        expect(usageError(args).message).not.to.include('\n');
      }
    });
  });

  describe('help and version', () => {
    for (const flag of ['-h', '--help', '-help', '--h']) {
      it(`${flag} returns the help text instead of printing it`, () => {
        const result = parseFlags(['-onetime', flag]);
        expect(result).to.deep.equal({ kind: 'help', text: helpText() });
      });
    }

    it('help wins over later mistakes but a value that looks like -h is a value', () => {
      expect(parseFlags(['-h', '-no-such-flag']).kind).to.equal('help');
      expect(flagValues(['-prefix', '-h'])).to.deep.equal({ prefix: '-h' });
    });

    it('help lists every flag with a single dash, grouped, with defaults', () => {
      const text = helpText();
      for (const spec of SETTING_SPECS) expect(text).to.match(new RegExp(`^  -${spec.flag}\\b`, 'm'));
      expect(text).to.match(/^ {2}-version\b/m);
      expect(text).not.to.include('--backend');
      const headings = ['Modes:', 'Template resources:', 'Backend:', 'TLS & auth:', 'Logging & monitoring:'];
      const positions = headings.map((h) => text.indexOf(`\n${h}\n`));
      expect(positions.every((p) => p > 0)).to.equal(true);
      expect([...positions].sort((a, b) => a - b)).to.deep.equal(positions);
      expect(text.indexOf('-onetime')).to.be.lessThan(text.indexOf('\nBackend:'));
      expect(text.indexOf('-password')).to.be.greaterThan(text.indexOf('\nTLS & auth:'));
      expect(text).to.match(/-backend <name>\s+.*\(default: "etcd"\)/);
      expect(text).to.match(/-interval <seconds>\s+.*\(default: 600\)/);
      expect(text).to.match(/-confdir <dir>\s+.*\(default: "\/etc\/confd"\)/);
      expect(text).to.match(/-log-level <level>\s+.*\(default: "info"\)/);
      expect(text).to.match(/-connect-timeout <duration>\s+.*\(default: 5s\)/);
      expect(text).to.match(/-filter <glob>\s+.*\(default: "\*"\)/);
    });

    for (const args of [['-version'], ['--version'], ['-version=true'], ['-onetime', '-version']]) {
      it(`${args.join(' ')} asks for the version`, () => {
        expect(parseFlags(args)).to.deep.equal({ kind: 'version' });
      });
    }

    it('-version=false does not', () => {
      expect(parseFlags(['-version=false'])).to.deep.equal({ kind: 'flags', values: {} });
    });
  });
});
