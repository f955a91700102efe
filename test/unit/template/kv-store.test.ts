import { expect } from 'chai';
import { KeyNotFoundError, KVStore } from '../../../src/template/kv-store.js';
import { BadPatternError } from '../../../src/template/path-match.js';

describe('KVStore (confd memkv semantics)', () => {
  const app = new KVStore({
    '/app/db/pass': 'foo',
    '/app/db/user': 'admin',
    '/app/port': '443',
    '/app/url': 'app.example.com',
    '/app/vhosts/host1': 'app.example.com',
    '/app/upstream/host1': '203.0.113.0.1:8080',
    '/app/upstream/host1/domain': 'app.example.com',
    '/app/upstream/host2': '203.0.113.0.2:8080',
    '/app/upstream/host2/domain': 'app.example.com',
  });

  describe('get / getv / exists', () => {
    it('returns the pair with capitalised fields', () => {
      expect(app.get('/app/db/user')).to.deep.equal({ Key: '/app/db/user', Value: 'admin' });
    });

    it('throws KeyNotFoundError naming the key', () => {
      expect(() => app.get('/missing'))
        .to.throw(KeyNotFoundError, 'key does not exist: /missing')
        .with.property('key', '/missing');
      expect(() => app.getv('/missing')).to.throw(KeyNotFoundError);
    });

    it('getv returns the default only for a missing key, including an empty default', () => {
      const store = new KVStore({ '/empty': '' });
      expect(store.getv('/missing', 'fallback')).to.equal('fallback');
      expect(store.getv('/missing', '')).to.equal('');
      expect(store.getv('/empty', 'fallback')).to.equal('');
    });

    it('looks keys up exactly, without cleaning them', () => {
      expect(app.exists('/app/port')).to.equal(true);
      expect(app.exists('/app/port/')).to.equal(false);
      expect(app.exists('app/port')).to.equal(false);
    });
  });

  describe('gets / getvs', () => {
    it('matches memkv GetAll', () => {
      expect(app.gets('/app/db/*')).to.deep.equal([
        { Key: '/app/db/pass', Value: 'foo' },
        { Key: '/app/db/user', Value: 'admin' },
      ]);
      expect(app.gets('/app/*/host1').map((kv) => kv.Key)).to.deep.equal([
        '/app/upstream/host1',
        '/app/vhosts/host1',
      ]);
      expect(app.gets('/app/upstream/*').map((kv) => kv.Key)).to.deep.equal([
        '/app/upstream/host1',
        '/app/upstream/host2',
      ]);
      expect(app.gets('/app/missing/*')).to.deep.equal([]);
    });

    it('rejects a malformed pattern, even against an empty store', () => {
      expect(() => app.gets('[]a]')).to.throw(BadPatternError);
      expect(() => new KVStore({}).gets('/x/[')).to.throw(BadPatternError);
    });

    it('sorts keys bytewise like Go, not by UTF-16 code unit', () => {
      // U+FF5E sorts before U+1F600 in UTF-8 but after it in UTF-16.
      const store = new KVStore({ '/k/😀': '1', '/k/～': '2', '/k/B': '3', '/k/a': '4' });
      expect(store.gets('/k/*').map((kv) => kv.Key)).to.deep.equal(['/k/B', '/k/a', '/k/～', '/k/😀']);
    });

    it('getvs sorts by value, not by key', () => {
      const store = new KVStore({ '/u/1': 'zeta', '/u/2': 'alpha', '/u/3': 'Mu' });
      expect(store.getvs('/u/*')).to.deep.equal(['Mu', 'alpha', 'zeta']);
    });
  });

  describe('ls / lsdir (memkv List / ListDir)', () => {
    const deis = new KVStore({
      '/deis/database/user': 'user',
      '/deis/database/pass': 'pass',
      '/deis/services/key': 'value',
      '/deis/services/notaservice/foo': 'bar',
      '/deis/services/srv1/node1': '10.244.1.1:80',
      '/deis/services/srv1/node2': '10.244.1.2:80',
      '/deis/services/srv2/node1': '10.244.2.1:80',
      '/deis/prefix/node1': 'prefix_node1',
      '/deis/prefix/node2/leafnode': 'prefix_node2',
      '/deis/prefix/node3/leafnode': 'prefix_node3',
      '/deis/prefix_a/node4': 'prefix_a_node4',
      '/deis/prefixb/node5/leafnode': 'prefixb_node5',
    });

    it('ls lists leaf keys and directories, sorted and unique, with or without a trailing slash', () => {
      for (const dir of ['/deis/services', '/deis/services/']) {
        expect(deis.ls(dir)).to.deep.equal(['key', 'notaservice', 'srv1', 'srv2']);
      }
    });

    it('does not confuse sibling names sharing a prefix', () => {
      expect(deis.ls('/deis/prefix')).to.deep.equal(['node1', 'node2', 'node3']);
      expect(deis.lsdir('/deis/prefix/')).to.deep.equal(['node2', 'node3']);
    });

    it('lsdir lists only children that have keys below them', () => {
      for (const dir of ['/deis/services', '/deis/services/']) {
        expect(deis.lsdir(dir)).to.deep.equal(['notaservice', 'srv1', 'srv2']);
      }
    });

    it('ls of a leaf key yields its own name; with a trailing slash, nothing', () => {
      expect(deis.ls('/deis/services/key')).to.deep.equal(['key']);
      expect(deis.ls('/deis/services/key/')).to.deep.equal([]);
    });

    it('returns empty lists for unknown directories', () => {
      expect(deis.ls('/nope')).to.deep.equal([]);
      expect(deis.lsdir('/nope')).to.deep.equal([]);
    });

    it('lists the root', () => {
      const store = new KVStore({ '/a': '1', '/b/c': '2', '/d/e/f': '3' });
      expect(store.ls('/')).to.deep.equal(['a', 'b', 'd']);
      expect(store.lsdir('/')).to.deep.equal(['b', 'd']);
    });
  });
});
