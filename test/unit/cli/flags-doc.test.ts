import { expect } from 'chai';
import { readFile } from 'node:fs/promises';
import { SETTING_SPECS } from '../../../src/config/setting-specs.js';

describe('docs/flags.md', () => {
  let doc: string;
  before(async () => {
    doc = await readFile(new URL('../../../docs/flags.md', import.meta.url), 'utf8');
  });

  for (const spec of SETTING_SPECS) {
    it(`documents -${spec.flag} with its confd.toml key(s) and ${spec.envVar} on one table row`, () => {
      const row = doc.split('\n').find((line) => line.startsWith(`| \`-${spec.flag}`));
      expect(row, `no table row for -${spec.flag}`).to.be.a('string');
      expect(row).to.include(`\`${spec.envVar}\``);
      for (const key of spec.tomlKeys) expect(row).to.include(`\`${key}\``);
    });
  }
});
