import type { SrvRecord } from 'node:dns';
import { expect } from 'chai';
import { BackendError } from '../../../src/errors.js';
import { resolveSrvNodes, srvRecordName, type SrvResolver } from '../../../src/backends/srv-nodes.js';

const base = { backend: 'etcd', nodes: ['10.0.0.1:2379'], connectTimeoutMs: 1000 };

/** A resolver answering from a table, recording what it was asked. */
function fakeDns(table: Record<string, SrvRecord[]>): SrvResolver & { asked: string[] } {
  const asked: string[] = [];
  const resolver = async (record: string): Promise<SrvRecord[]> => {
    asked.push(record);
    const answer = table[record];
    if (!answer) throw Object.assign(new Error(`querySrv ENOTFOUND ${record}`), { code: 'ENOTFOUND' });
    return answer;
  };
  return Object.assign(resolver, { asked });
}

describe('resolveSrvNodes', () => {
  it('returns -node unchanged when neither -srv-domain nor -srv-record is set', async () => {
    const dns = fakeDns({});
    expect(await resolveSrvNodes(base, dns)).to.deep.equal(['10.0.0.1:2379']);
    expect(dns.asked).to.deep.equal([]);
  });

  it('looks up _<backend>._tcp.<domain>. for -srv-domain and replaces -node with host:port answers', async () => {
    const dns = fakeDns({
      '_etcd._tcp.example.com.': [{ name: 'etcd1.example.com.', port: 2379, priority: 0, weight: 0 }],
    });
    const nodes = await resolveSrvNodes({ ...base, srvDomain: 'example.com' }, dns);
    expect(dns.asked).to.deep.equal(['_etcd._tcp.example.com.']);
    expect(nodes).to.deep.equal(['etcd1.example.com:2379']);
  });

  it('uses the backend name as given, so etcdv3 and redis get their own records', () => {
    expect(srvRecordName({ backend: 'etcdv3', srvDomain: 'example.com.' })).to.equal(
      '_etcdv3._tcp.example.com.',
    );
    expect(srvRecordName({ backend: 'redis', srvDomain: 'corp' })).to.equal('_redis._tcp.corp.');
  });

  it('looks up -srv-record exactly as given, and it wins over -srv-domain', async () => {
    const dns = fakeDns({
      '_kv._tcp.internal': [{ name: 'kv.internal', port: 6380, priority: 1, weight: 1 }],
    });
    const nodes = await resolveSrvNodes(
      { ...base, srvDomain: 'ignored.example', srvRecord: '_kv._tcp.internal' },
      dns,
    );
    expect(dns.asked).to.deep.equal(['_kv._tcp.internal']);
    expect(nodes).to.deep.equal(['kv.internal:6380']);
  });

  it('orders targets by priority, then by weight (highest first)', async () => {
    const dns = fakeDns({
      '_etcd._tcp.example.com.': [
        { name: 'backup.example.com.', port: 1, priority: 20, weight: 100 },
        { name: 'light.example.com.', port: 2, priority: 10, weight: 5 },
        { name: 'heavy.example.com.', port: 3, priority: 10, weight: 50 },
      ],
    });
    expect(await resolveSrvNodes({ ...base, srvDomain: 'example.com' }, dns)).to.deep.equal([
      'heavy.example.com:3',
      'light.example.com:2',
      'backup.example.com:1',
    ]);
  });

  it('brackets IPv6 targets', async () => {
    const dns = fakeDns({ rec: [{ name: '::1', port: 2379, priority: 0, weight: 0 }] });
    expect(await resolveSrvNodes({ ...base, srvRecord: 'rec' }, dns)).to.deep.equal(['[::1]:2379']);
  });

  it('fails with a BackendError naming the record and the cause when the lookup fails', async () => {
    const err = await resolveSrvNodes({ ...base, srvDomain: 'nowhere.invalid' }, fakeDns({})).catch(
      (e: unknown) => e,
    );
    expect(err).to.be.instanceOf(BackendError);
    const backendError = err as BackendError;
    expect(backendError.backend).to.equal('etcd');
    expect(backendError.endpoints).to.deep.equal(['_etcd._tcp.nowhere.invalid.']);
    expect(backendError.message).to.contain('_etcd._tcp.nowhere.invalid.').and.to.contain('ENOTFOUND');
  });

  it('fails when the record has no targets instead of running with no nodes', async () => {
    const err = await resolveSrvNodes({ ...base, srvRecord: 'empty' }, fakeDns({ empty: [] })).catch(
      (e: unknown) => e,
    );
    expect(err).to.be.instanceOf(BackendError);
    expect((err as Error).message).to.contain('no targets');
  });
});
