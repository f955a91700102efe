import { expect } from 'chai';
import { supportedBackends } from '../../../src/backends/factory.js';
import {
  BACKEND_SCOPED_SETTINGS,
  BACKEND_SETTINGS,
  settingsIgnoredBy,
} from '../../../src/config/backend-settings.js';
import { SETTING_SPECS } from '../../../src/config/setting-specs.js';

describe('the settings each backend uses', () => {
  it('declares every backend the factory can create, and no other', () => {
    expect(Object.keys(BACKEND_SETTINGS).sort()).to.deep.equal(supportedBackends());
  });

  it('lists only backend-scoped settings, each a real setting', () => {
    const keys = new Set(SETTING_SPECS.map((spec) => spec.key));
    for (const key of BACKEND_SCOPED_SETTINGS) expect(keys.has(key), key).to.equal(true);
    for (const [backend, used] of Object.entries(BACKEND_SETTINGS)) {
      for (const key of used) expect(BACKEND_SCOPED_SETTINGS, `${backend}: ${key}`).to.include(key);
    }
  });

  it('leaves table and the vault settings unused: no backend here reads them', () => {
    const vault = ['table', 'authType', 'appId', 'userId', 'roleId', 'secretId', 'path'] as const;
    for (const backend of supportedBackends()) {
      expect(settingsIgnoredBy(backend, vault), backend).to.deep.equal([...vault]);
    }
  });

  it('reports only scoped settings the backend ignores, in the order given', () => {
    expect(settingsIgnoredBy('file', ['password', 'files', 'prefix', 'nodes', 'interval'])).to.deep.equal([
      'password',
      'nodes',
    ]);
    expect(settingsIgnoredBy('redis', ['clientKey', 'separator', 'clientCert'])).to.deep.equal([
      'clientCert',
    ]);
  });

  it('reports nothing for a backend this build does not have (the factory rejects it)', () => {
    expect(settingsIgnoredBy('dynamodb', ['table', 'nodes', 'files'])).to.deep.equal([]);
    expect(settingsIgnoredBy('toString', ['nodes'])).to.deep.equal([]);
  });
});
