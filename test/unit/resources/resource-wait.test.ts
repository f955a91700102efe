import { expect } from 'chai';
import { ConfigError } from '../../../src/errors.js';
import { parseResource } from '../../../src/resources/parse-resource.js';
import { RecordingLogger } from '../../support/loggers.js';

const CTX = { file: '/etc/confd/conf.d/app.toml', confdir: '/etc/confd', globalPrefix: '' };

function parse(extra: string) {
  const source = `[template]\nsrc = "app.tmpl"\ndest = "/tmp/app.conf"\nkeys = ["/x"]\n${extra}`;
  return parseResource(source, CTX, new RecordingLogger());
}

describe('the per-resource wait key', () => {
  it('is absent unless given, so the resource follows -wait', async () => {
    expect((await parse('')).wait).to.equal(undefined);
  });

  it('reads "min:max" durations', async () => {
    expect((await parse('wait = "2s:10s"\n')).wait).to.deep.equal({ minMs: 2000, maxMs: 10000 });
  });

  it('reads "0" as render at once, overriding -wait', async () => {
    expect((await parse('wait = "0"\n')).wait).to.deep.equal({ minMs: 0, maxMs: 0 });
  });

  it('names the file, line and key for a bad value', async () => {
    const err = await parse('\nwait = "10s:2s"\n').then(
      () => expect.fail('expected a ConfigError'),
      (e: unknown) => e as ConfigError,
    );
    expect(err).to.be.instanceOf(ConfigError);
    expect(err.line).to.equal(6);
    expect(err.message).to.equal(
      '/etc/confd/conf.d/app.toml:6:8: key "wait" is invalid ("10s:2s"): the maximum is shorter than the minimum',
    );
  });

  it('must be a string', async () => {
    const err = await parse('wait = 5\n').then(
      () => expect.fail('expected a ConfigError'),
      (e: unknown) => e as ConfigError,
    );
    expect(err.message).to.contain('key "wait" must be a string like "2s:10s", got the integer 5');
  });
});
