import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from './support/confd-process.js';

interface LoadedBundle {
  exports: { main: unknown };
  script: { cachedDataRejected?: boolean };
}
const { loadBundle } = createRequire(import.meta.url)(join(repoRoot, 'bin/load-bundle.js')) as {
  loadBundle: () => LoadedBundle;
};

// The bundle's rewritten import() calls (execa, the store clients) are exercised by every end-to-end test that
// runs a command or talks to a store through bin/confd.
describe('launcher (bin/confd, bin/load-bundle.js)', () => {
  it('runs the bundle through a code cache this Node.js accepts', () => {
    // A cache V8 rejects is recompiled silently: this is what shows that the build's cache is the one used.
    const { exports, script } = loadBundle();
    expect(exports.main).to.be.a('function');
    expect(script.cachedDataRejected).to.equal(false);
  });

  it('still runs when the code cache is corrupt, or missing', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'confd-launcher-'));
    try {
      await cp(join(repoRoot, 'bin'), join(dir, 'bin'), { recursive: true });
      await cp(join(repoRoot, 'dist'), join(dir, 'dist'), { recursive: true });
      await writeFile(join(dir, 'dist/confd.cache'), Buffer.alloc(4096, 0x5a));
      const corrupt = spawnSync(process.execPath, [join(dir, 'bin/confd'), '-version'], { encoding: 'utf8' });
      expect(corrupt.status, corrupt.stderr).to.equal(0);
      expect(corrupt.stdout).to.match(/^confd \d+\.\d+\.\d+ \(confd-ts/);
      await rm(join(dir, 'dist/confd.cache'));
      const missing = spawnSync(process.execPath, [join(dir, 'bin/confd'), '-version'], { encoding: 'utf8' });
      expect(missing.status, missing.stderr).to.equal(0);
      expect(missing.stdout).to.equal(corrupt.stdout);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
