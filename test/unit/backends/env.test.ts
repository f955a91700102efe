import { expect } from 'chai';
import { createClient, EnvStoreClient, envNameToKey, keyToEnvName } from '../../../src/backends/env.js';
import { backendOptions } from '../../support/backend-options.js';
import { recordingLogger } from '../../support/loggers.js';

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
      expect(await client.getValues(['/database'])).to.deep.equal({
        '/database': 'whole',
        '/database/host': 'db.local',
        '/database/port': '5432',
      });
    });

    it('matches on key path boundaries: /app/db does not take APP_DBX_*', async () => {
      const client = new EnvStoreClient(env);
      expect(await client.getValues(['/app/db'])).to.deep.equal({ '/app/db/user': 'confd' });
      expect(await client.getValues(['/app/db/'])).to.deep.equal({ '/app/db/user': 'confd' });
    });

    it('merges several keys and ignores keys without variables', async () => {
      const client = new EnvStoreClient(env);
      expect(await client.getValues(['/database/host', '/app/dbx', '/missing'])).to.deep.equal({
        '/database/host': 'db.local',
        '/app/dbx/user': 'nobody',
      });
    });

    it('returns every set variable for the key /', async () => {
      const all = await new EnvStoreClient(env).getValues(['/']);
      expect(Object.keys(all)).to.have.length(7);
      expect(all['/database/lower']).to.equal('not matched by upper-cased keys');
    });

    it('reads the live process environment at call time by default', async () => {
      const name = `CONFD_TS_ENV_TEST_${process.pid}`;
      const key = envNameToKey(name);
      const client = await createClient(backendOptions({ backend: 'env' }), recordingLogger());
      try {
        expect(await client.getValues([key])).to.deep.equal({});
        process.env[name] = 'now set';
        expect(await client.getValues([key])).to.deep.equal({ [key]: 'now set' });
      } finally {
        delete process.env[name];
        await client.close();
      }
    });
  });

  describe('watchPrefix', () => {
    it('resolves at once for waitIndex 0 so that a first pass happens', async () => {
      const client = new EnvStoreClient({});
      expect(
        await client.watchPrefix('/', ['/'], { waitIndex: 0, signal: new AbortController().signal }),
      ).to.deep.equal({ index: 1 });
    });

    it('otherwise waits until aborted, then rejects with an AbortError', async () => {
      const client = new EnvStoreClient({ A: '1' });
      const controller = new AbortController();
      let settled = false;
      const waiting = client.watchPrefix('/', ['/a'], { waitIndex: 1, signal: controller.signal });
      waiting.then(
        () => (settled = true),
        () => (settled = true),
      );
      await new Promise((resolve) => setImmediate(resolve));
      expect(settled).to.equal(false);
      controller.abort();
      const err = await waiting.then(
        () => expect.fail('expected a rejection'),
        (e: unknown) => e as Error,
      );
      expect(err.name).to.equal('AbortError');
    });

    it('rejects at once when the signal is already aborted', async () => {
      const client = new EnvStoreClient({});
      const err = await client.watchPrefix('/', ['/'], { waitIndex: 0, signal: AbortSignal.abort() }).then(
        () => expect.fail('expected a rejection'),
        (e: unknown) => e as Error,
      );
      expect(err.name).to.equal('AbortError');
    });
  });
});
