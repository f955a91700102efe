import { expect } from 'chai';
import { ConfigError } from '../../../src/errors.js';
import { parseResource } from '../../../src/resources/parse-resource.js';
import { rejection } from '../../support/async.js';
import { RecordingLogger } from '../../support/loggers.js';

const CTX = { file: '/etc/confd/conf.d/prometheus.toml', confdir: '/etc/confd', globalPrefix: '' };

const HEAD = `[template]
src = "prometheus.yml.hbs"
dest = "/etc/prometheus/prometheus.yml"
keys = ["/prometheus"]
`;

function parse(body: string, logger = new RecordingLogger()) {
  return parseResource(`${HEAD}${body}`, CTX, logger);
}

async function failure(body: string): Promise<ConfigError> {
  const err = await rejection<ConfigError>(parse(body));
  expect(err).to.be.instanceOf(ConfigError);
  expect(err.file).to.equal(CTX.file);
  return err;
}

describe('resource workflow keys: backup, rollback, [template.guard], [template.reload], [template.verify]', () => {
  it('reads the whole example of the docs', async () => {
    const resource = await parse(`check_cmd = "promtool check config {{.src}}"
backup = 3
rollback = true

[template.guard]
refuse_empty = true
required_keys = ["/prometheus/jobs"]
max_shrink = "50%"

[template.reload]
http = "POST http://127.0.0.1:9090/-/reload"
timeout = "10s"

[template.verify]
http = "GET http://127.0.0.1:9090/api/v1/status/runtimeinfo"
json_field = "data.reloadConfigSuccess"
timeout = "5s"
`);
    expect(resource).to.deep.include({
      backup: 3,
      rollback: true,
      guard: { refuseEmpty: true, requiredKeys: ['/prometheus/jobs'], maxShrink: 0.5 },
      nativeReload: {
        kind: 'http',
        method: 'POST',
        url: 'http://127.0.0.1:9090/-/reload',
        timeoutMs: 10_000,
      },
      verify: {
        kind: 'http',
        method: 'GET',
        url: 'http://127.0.0.1:9090/api/v1/status/runtimeinfo',
        jsonField: 'data.reloadConfigSuccess',
        timeoutMs: 5000,
      },
    });
  });

  it('reads a signal reload with its pid file, and a verify_cmd', async () => {
    const resource = await parse(`[template.reload]
signal = "sighup"
pid_file = "/run/prometheus.pid"
[template.verify]
verify_cmd = "curl -fs http://127.0.0.1:9090/-/ready"
`);
    expect(resource.nativeReload).to.deep.equal({
      kind: 'signal',
      signal: 'SIGHUP',
      pidFile: '/run/prometheus.pid',
      timeoutMs: 10_000,
    });
    expect(resource.verify).to.deep.equal({
      kind: 'cmd',
      command: 'curl -fs http://127.0.0.1:9090/-/ready',
      timeoutMs: 10_000,
    });
  });

  it('refuses reload_cmd together with [template.reload], naming the file and the line', async () => {
    const err = await failure(
      `reload_cmd = "systemctl reload prometheus"\n[template.reload]\nhttp = "POST http://127.0.0.1:9090/-/reload"\n`,
    );
    expect(err.message).to.equal(
      `${CTX.file}:5:14: [template] key "reload_cmd" cannot be combined with [template.reload]: choose one of them`,
    );
  });

  const cases: [string, string, string][] = [
    ['a bad http step', '[template.reload]\nhttp = "POST 127.0.0.1:9090"\n', 'must be "METHOD URL"'],
    [
      'credentials in the URL',
      '[template.reload]\nhttp = "POST http://u:p@h:9090/-/reload"\n',
      'must not carry credentials',
    ],
    ['an unknown signal', '[template.reload]\nsignal = "SIGNOPE"\npid_file = "/x"\n', 'must name a signal'],
    ['a signal without pid_file', '[template.reload]\nsignal = "SIGHUP"\n', 'pid_file" is required'],
    [
      'a verify without http or verify_cmd',
      '[template.verify]\ntimeout = "5s"\n',
      'or verify_cmd is required',
    ],
    [
      'a bad json_field',
      '[template.verify]\nhttp = "GET http://h/x"\njson_field = "a..b"\n',
      'dotted field path',
    ],
    [
      'a required key the resource does not read',
      '[template.guard]\nrequired_keys = ["/other"]\n',
      'not under any of the resource',
    ],
    ['a bad max_shrink', '[template.guard]\nmax_shrink = "150%"\n', 'percentage between 0% and 100%'],
    ['a numeric max_shrink', '[template.guard]\nmax_shrink = 50\n', 'percentage'],
    ['a negative backup', 'backup = -1\n', 'whole number of backups'],
    ['a string rollback', 'rollback = "yes"\n', 'must be true or false'],
    ['guard as a value', 'guard = true\n', 'must be a table: write [template.guard]'],
  ];
  for (const [what, body, message] of cases) {
    it(`refuses ${what} with a message naming file and key`, async () => {
      const err = await failure(body);
      expect(err.message).to.include(message);
      expect(err.message).to.match(
        new RegExp(`^${CTX.file.replace(/\./g, '\\.')}(:\\d+:\\d+)?: \\[template`),
      );
    });
  }

  it('warns about unknown keys in the sub-tables and about a rollback with nothing to roll back for', async () => {
    const logger = new RecordingLogger();
    await parse('rollback = true\n[template.guard]\nrefuse_emtpy = true\n', logger);
    const warnings = logger.messages('warn').join('\n');
    expect(warnings).to.include('unknown key "refuse_emtpy" in [template.guard]');
    expect(warnings).to.include('rollback = true has no effect');
  });
});
