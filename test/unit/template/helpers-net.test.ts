import { expect } from 'chai';
import { TemplateError } from '../../../src/errors.js';
import type { DnsResolver, SrvRecord } from '../../../src/template/dns-lookups.js';
import { systemResolver } from '../../../src/template/system-resolver.js';
import { rejection } from '../../support/async.js';
import { fakeDnsServer, RCODE } from '../../support/dns-server.js';
import { render, TEMPLATE } from './render.js';

/** An error as Node's resolvers raise it: the code is what matters. */
function dnsError(code: string, host: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`queryA ${code} ${host}`), { code });
}

/** A resolver with fixed answers that counts how often it is asked. */
function fakeResolver(ips: Record<string, string[]>, srv: Record<string, SrvRecord[]> = {}) {
  const calls: string[] = [];
  const resolver: DnsResolver = {
    lookupIP(host) {
      calls.push(`ip ${host}`);
      const answer = ips[host];
      return answer ? Promise.resolve([...answer]) : Promise.reject(dnsError('ENOTFOUND', host));
    },
    lookupSRV(service, proto, name) {
      calls.push(`srv ${service} ${proto} ${name}`);
      return Promise.resolve(srv[`${service}/${proto}/${name}`] ?? []);
    },
  };
  return { resolver, calls };
}

describe('DNS helpers', () => {
  const ips = { 'db.example': ['10.0.0.9', '2001:db8::1', '10.0.0.10', '::1'], 'web.example': ['192.0.2.1'] };

  it('lookupIP returns sorted addresses; V4 and V6 filter them', async () => {
    const { resolver } = fakeResolver(ips);
    const out = await render(
      '{{#each (lookupIP "db.example")}}{{this}} {{/each}}|{{lookupIPV4 "db.example"}}|{{lookupIPV6 "db.example"}}',
      {},
      { resolver },
    );
    expect(out).to.equal('10.0.0.10 10.0.0.9 2001:db8::1 ::1 |[10.0.0.10 10.0.0.9]|[2001:db8::1 ::1]');
  });

  it('resolves each distinct name once per render, in one extra pass', async () => {
    const { resolver, calls } = fakeResolver(ips);
    await render(
      '{{lookupIP "db.example"}}{{lookupIPV4 "db.example"}}{{lookupIP "web.example"}}',
      {},
      { resolver },
    );
    expect(calls.sort()).to.deep.equal(['ip db.example', 'ip web.example']);
  });

  it('looks up names that depend on earlier answers and on store values', async () => {
    const { resolver } = fakeResolver(
      { 'node1.example.': ['10.1.0.1'] },
      { '//svc.example': [{ Target: 'node1.example.', Port: 80, Priority: 1, Weight: 1 }] },
    );
    const out = await render(
      '{{#each (lookupSRV "" "" (getv "/srv"))}}{{#each (lookupIP Target)}}{{this}}{{/each}}:{{Port}}{{/each}}',
      { '/srv': 'svc.example' },
      { resolver },
    );
    expect(out).to.equal('10.1.0.1:80');
  });

  it('yields an empty list when a name does not exist (NXDOMAIN), as confd does', async () => {
    const { resolver } = fakeResolver({});
    expect(
      await render('[{{#each (lookupIP "nx.example")}}x{{else}}none{{/each}}]', {}, { resolver }),
    ).to.equal('[none]');
  });

  it('does not fail a render because an index into a not-yet-resolved answer was empty', async () => {
    const { resolver } = fakeResolver(ips);
    expect(await render('{{index (lookupIP "web.example") 0}}', {}, { resolver })).to.equal('192.0.2.1');
  });

  it('lookupSRV sorts records as confd does and exposes net.SRV fields', async () => {
    const records: SrvRecord[] = [
      { Target: 'b.example.', Port: 80, Priority: 10, Weight: 5 },
      { Target: 'a.example.', Port: 8080, Priority: 20, Weight: 1 },
      { Target: 'a.example.', Port: 443, Priority: 10, Weight: 1 },
    ];
    const { resolver, calls } = fakeResolver({}, { 'http/tcp/example.com': records });
    const out = await render(
      '{{#each (lookupSRV "http" "tcp" "example.com")}}{{Target}}:{{Port}} p{{Priority}} w{{Weight}}\n{{/each}}{{lookupSRV "http" "tcp" "example.com"}}',
      {},
      { resolver },
    );
    expect(out).to.equal(
      'a.example.:443 p10 w1\na.example.:8080 p20 w1\nb.example.:80 p10 w5\n[{a.example. 443 10 1} {a.example. 8080 20 1} {b.example. 80 10 5}]',
    );
    expect(calls).to.deep.equal(['srv http tcp example.com']);
  });

  it('uses the system resolver by default (localhost from /etc/hosts)', async () => {
    const { compileTemplateSource } = await import('../../../src/template/compile-source.js');
    const { KVStore } = await import('../../../src/template/kv-store.js');
    const template = compileTemplateSource('{{#each (lookupIP "localhost")}}{{this}} {{/each}}', 'dns.hbs');
    const out = await template.render(new KVStore({}));
    expect(out.trim().split(' ')).to.satisfy((addresses: string[]) =>
      addresses.some((a) => a === '127.0.0.1' || a === '::1'),
    );
  });
});

describe('DNS helpers when a lookup fails', () => {
  /** A resolver whose every lookup ends as `outcome` says, and that records the signals it is given. */
  function resolverThat(outcome: 'hang' | 'empty' | { code?: string; message?: string }) {
    const signals: AbortSignal[] = [];
    const answer = <T>(signal?: AbortSignal): Promise<T[]> => {
      if (signal) signals.push(signal);
      if (outcome === 'hang') return new Promise<T[]>(() => undefined);
      if (outcome === 'empty') return Promise.resolve([]);
      return Promise.reject(Object.assign(new Error(outcome.message ?? 'lookup failed'), outcome));
    };
    const resolver: DnsResolver = {
      lookupIP: (_host, signal) => answer<string>(signal),
      lookupSRV: (_s, _p, _n, signal) => answer<SrvRecord>(signal),
    };
    return { resolver, signals };
  }

  async function failure(source: string, resolver: DnsResolver, lookupTimeoutMs?: number) {
    try {
      await render(source, {}, { resolver, lookupTimeoutMs });
    } catch (err) {
      expect(err).to.be.instanceOf(TemplateError);
      return err as TemplateError;
    }
    expect.fail('expected the render to fail');
  }

  for (const code of ['ESERVFAIL', 'ETIMEOUT', 'ECONNREFUSED', 'EREFUSED', 'EAI_AGAIN']) {
    it(`fails the render on ${code}, naming template, line, helper, name and code`, async () => {
      const { resolver } = resolverThat({ code });
      const err = await failure('first\nhosts={{lookupIP "db.example"}}\n', resolver);
      expect(err.template).to.equal(TEMPLATE);
      expect(err.line).to.equal(2);
      expect(err.message).to.match(new RegExp(`^${TEMPLATE}:2:\\d+: error calling lookupIP: `));
      expect(err.message).to.include('"db.example"');
      expect(err.message).to.include(code);
    });
  }

  it('fails lookupIPV4, lookupIPV6 and lookupSRV alike, and inside #each', async () => {
    const { resolver } = resolverThat({ code: 'ESERVFAIL' });
    for (const [source, helper, name] of [
      ['{{lookupIPV4 "a.example"}}', 'lookupIPV4', '"a.example"'],
      ['{{lookupIPV6 "a.example"}}', 'lookupIPV6', '"a.example"'],
      [
        '{{#each (lookupSRV "http" "tcp" "b.example")}}x{{else}}none{{/each}}',
        'lookupSRV',
        '"_http._tcp.b.example"',
      ],
      ['{{#each (lookupSRV "" "" "_x._udp.c.example")}}x{{/each}}', 'lookupSRV', '"_x._udp.c.example"'],
    ] as const) {
      const err = await failure(source, resolver);
      expect(err.message, source).to.include(`error calling ${helper}`);
      expect(err.message, source).to.include(name);
      expect(err.message, source).to.include('ESERVFAIL');
    }
  });

  it('never turns a failure without a code into an empty list', async () => {
    const { resolver } = resolverThat({ message: 'socket hang up' });
    const err = await failure('[{{#each (lookupIP "x.example")}}{{this}}{{else}}none{{/each}}]', resolver);
    expect(err.message).to.include('"x.example"');
    expect(err.message).to.include('socket hang up');
  });

  it('gives up on a lookup that hangs at the deadline with ETIMEOUT, and aborts it', async () => {
    const { resolver, signals } = resolverThat('hang');
    const err = await failure('{{lookupSRV "http" "tcp" "slow.example"}}', resolver, 50);
    expect(err.message).to.include('"_http._tcp.slow.example"');
    expect(err.message).to.include('ETIMEOUT');
    expect(err.message).to.include('50 ms');
    expect(signals).to.have.length(1);
    expect(signals[0]?.aborted).to.equal(true);
  });

  it('renders an empty answer, and ENODATA (name without records of that type), as an empty list', async () => {
    for (const resolver of [resolverThat('empty').resolver, resolverThat({ code: 'ENODATA' }).resolver]) {
      expect(
        await render(
          '[{{#each (lookupIP "v6only.example")}}x{{else}}none{{/each}}|{{lookupSRV "a" "b" "c"}}]',
          {},
          { resolver },
        ),
      ).to.equal('[none|[]]');
    }
  });

  it('hands an answered lookup the signal without aborting it', async () => {
    const { resolver, signals } = resolverThat('empty');
    await render('{{lookupIP "a.example"}}', {}, { resolver, lookupTimeoutMs: 60_000 });
    expect(signals).to.have.length(1);
    expect(signals[0]?.aborted).to.equal(false);
  });
});

describe('the system resolver against a real (fake) name server', () => {
  let dns: Awaited<ReturnType<typeof fakeDnsServer>>;
  before(async () => {
    dns = await fakeDnsServer((name) => {
      if (name.startsWith('_gone.')) return { rcode: RCODE.NXDOMAIN };
      if (name.startsWith('_none.')) return { rcode: RCODE.NOERROR };
      if (name.startsWith('_broken.')) return { rcode: RCODE.SERVFAIL };
      if (name.startsWith('_refused.')) return { rcode: RCODE.REFUSED };
      return 'silent';
    });
  });
  after(() => dns.close());

  const renderSrv = (service: string, timeoutMs = 10_000) =>
    render(
      `[{{#each (lookupSRV "${service}" "tcp" "example.test")}}{{Target}}{{else}}none{{/each}}]`,
      {},
      { resolver: systemResolver({ timeoutMs, servers: [dns.server] }), lookupTimeoutMs: timeoutMs },
    );

  it('NXDOMAIN and NOERROR without records render as an empty list', async () => {
    expect(await renderSrv('gone')).to.equal('[none]');
    expect(await renderSrv('none')).to.equal('[none]');
  });

  for (const [service, code] of [
    ['broken', 'ESERVFAIL'],
    ['refused', 'EREFUSED'],
  ] as const) {
    it(`a server answering ${code} fails the render with ${code}`, async () => {
      const err = await rejection<TemplateError>(renderSrv(service));
      expect(err).to.be.instanceOf(TemplateError);
      expect(err.message).to.include(`"_${service}._tcp.example.test"`);
      expect(err.message).to.include(code);
    });
  }

  it('a server that never answers fails the render with ETIMEOUT', async () => {
    const err = await rejection<TemplateError>(renderSrv('silent', 300));
    expect(err).to.be.instanceOf(TemplateError);
    expect(err.message).to.include('"_silent._tcp.example.test"');
    expect(err.message).to.include('ETIMEOUT');
    expect(dns.queries).to.include('_silent._tcp.example.test');
  });
});
