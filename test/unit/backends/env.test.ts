import { expect } from 'chai';
import { createClient, EnvStoreClient, envNameToKey, keyToEnvName } from '../../../src/backends/env.js';
import { backendOptions } from '../../support/backend-options.js';
import { BackendError } from '../../../src/errors.js';
import { recordingLogger } from '../../support/loggers.js';
import { never, rejection } from '../../support/async.js';

describe('env backend', () => {
  describe('key <-> variable name mapping (confd)', () => {
    it('maps a key to a variable name: leading / dropped, / -> _, upper case', () => {
      expect(keyToEnvName('/database/host')).to.equal('DATABASE_HOST');
      expect(keyToEnvName('/app/db-1/Port')).to.equal('APP_DB-1_PORT');
      expect(keyToEnvName('/')).to.equal('');
    });

    it('maps a variable name back to a key: lower case, _ -> /, leading /', () => {
      expect(envNameToKey('DATABASE_HOST')).to.equal('/database/host');
      expect(envNameToKey('APP_DB-1_PORT')).to.equal('/app/db-1/port');
    });
  });

  describe('getValues', () => {
    const env = {
      DATABASE: 'whole',
      DATABASE_HOST: 'db.local',
      DATABASE_PORT: '5432',
      DATABASEX_HOST: 'other',
      APP_DB_USER: 'confd',
      APP_DBX_USER: 'nobody',
      database_lower: 'not matched by upper-cased keys',
      UNSET: undefined,
    };

    it('returns the variables at and under a key, as keys', async () => {
      const client = new EnvStoreClient(env);
      expect(Object.fromEntries(await client.getValues(['/database']))).to.deep.equal({
        '/database': 'whole',
        '/database/host': 'db.local',
        '/database/port': '5432',
      });
    });

    it('matches on key path boundaries: /app/db does not take APP_DBX_*', async () => {
      const client = new EnvStoreClient(env);
      expect(Object.fromEntries(await client.getValues(['/app/db']))).to.deep.equal({
        '/app/db/user': 'confd',
      });
      expect(Object.fromEntries(await client.getValues(['/app/db/']))).to.deep.equal({
        '/app/db/user': 'confd',
      });
    });

    it('merges several keys and ignores keys without variables', async () => {
      const client = new EnvStoreClient(env);
      expect(
        Object.fromEntries(await client.getValues(['/database/host', '/app/dbx', '/missing'])),
      ).to.deep.equal({
        '/database/host': 'db.local',
        '/app/dbx/user': 'nobody',
      });
    });

    it('returns every set variable for the key /', async () => {
      const all = await new EnvStoreClient(env).getValues(['/']);
      expect(all.size).to.equal(7);
      expect(all.get('/database/lower')).to.equal('not matched by upper-cased keys');
    });

    it('reads the live process environment at call time by default', async () => {
      const name = `CONFD_TS_ENV_TEST_${process.pid}`;
      const key = envNameToKey(name);
      const client = await createClient(backendOptions({ backend: 'env' }), recordingLogger());
      try {
        expect(Object.fromEntries(await client.getValues([key]))).to.deep.equal({});
        process.env[name] = 'now set';
        expect(Object.fromEntries(await client.getValues([key]))).to.deep.equal({ [key]: 'now set' });
      } finally {
        delete process.env[name];
        await client.close();
      }
    });
  });

  describe('watch', () => {
    it('arms at once (index 1) so that a first pass happens', async () => {
      const client = new EnvStoreClient({});
      const watch = await client.watch('/');
      expect(watch.index).to.equal(1);
      expect(watch.prefix).to.equal('/');
      await client.close();
    });

    it('never reports a change: a wait lasts until aborted, then rejects with the reason', async () => {
      const client = new EnvStoreClient({ A: '1' });
      const watch = await client.watch('/');
      const controller = new AbortController();
      let settled = false;
      const waiting = watch.next(watch.index, ['/a'], { signal: controller.signal });
      waiting.then(
        () => (settled = true),
        () => (settled = true),
      );
      await new Promise((resolve) => setImmediate(resolve));
      expect(settled).to.equal(false);
      controller.abort();
      expect((await rejection(waiting)).name).to.equal('AbortError');
      const stopping = new Error('stopping');
      const again = new AbortController();
      const second = watch.next(watch.index, [], { signal: again.signal });
      again.abort(stopping);
      expect(await rejection(second)).to.equal(stopping);
      await client.close();
    });

    it('rejects at once when the signal is already aborted', async () => {
      const client = new EnvStoreClient({});
      expect((await rejection(client.watch('/', { signal: AbortSignal.abort() }))).name).to.equal(
        'AbortError',
      );
      const watch = await client.watch('/');
      const err = await rejection(watch.next(watch.index, [], { signal: AbortSignal.abort() }));
      expect(err.name).to.equal('AbortError');
      await client.close();
    });

    it('rejects waits with a BackendError once released, and once the client is closed', async () => {
      const client = new EnvStoreClient({});
      const released = await client.watch('/');
      const kept = await client.watch('/');
      released.release();
      expect(await rejection(released.next(released.index, [], { signal: never() }))).to.be.instanceOf(
        BackendError,
      );
      const waiting = rejection(kept.next(kept.index, [], { signal: never() }));
      await client.close();
      expect(await waiting).to.be.instanceOf(BackendError);
      expect(await rejection(client.watch('/'))).to.be.instanceOf(BackendError);
    });
  });
});
