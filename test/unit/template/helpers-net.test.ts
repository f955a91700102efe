import { expect } from 'chai';
import type { DnsResolver, SrvRecord } from '../../../src/template/dns-lookups.js';
import { render } from './render.js';

/** A resolver with fixed answers that counts how often it is asked. */
function fakeResolver(ips: Record<string, string[]>, srv: Record<string, SrvRecord[]> = {}) {
  const calls: string[] = [];
  const resolver: DnsResolver = {
    lookupIP(host) {
      calls.push(`ip ${host}`);
      const answer = ips[host];
      return answer ? Promise.resolve([...answer]) : Promise.reject(new Error(`ENOTFOUND ${host}`));
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

  it('yields an empty list when a name does not resolve', async () => {
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
    const { compileTemplateSource } = await import('../../../src/template/compile-template.js');
    const { KVStore } = await import('../../../src/template/kv-store.js');
    const template = compileTemplateSource('{{#each (lookupIP "localhost")}}{{this}} {{/each}}', 'dns.hbs');
    const out = await template.render(new KVStore({}));
    expect(out.trim().split(' ')).to.satisfy((addresses: string[]) =>
      addresses.some((a) => a === '127.0.0.1' || a === '::1'),
    );
  });
});
