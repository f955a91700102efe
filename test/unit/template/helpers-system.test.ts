import { expect } from 'chai';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { render, renderError } from './render.js';

describe('system helpers', () => {
  describe('getenv', () => {
    afterEach(() => {
      delete process.env.CONFD_TS_TEST_VAR;
      delete process.env.CONFD_TS_TEST_EMPTY;
    });

    it('reads the environment, with an optional default for unset or empty variables', async () => {
      process.env.CONFD_TS_TEST_VAR = 'from-env';
      process.env.CONFD_TS_TEST_EMPTY = '';
      const out = await render(
        '{{getenv "CONFD_TS_TEST_VAR"}}|{{getenv "CONFD_TS_TEST_UNSET"}}|{{getenv "CONFD_TS_TEST_UNSET" "dflt"}}|{{getenv "CONFD_TS_TEST_EMPTY" "dflt"}}',
      );
      expect(out).to.equal('from-env||dflt|dflt');
    });
  });

  describe('fileExists', () => {
    let dir: string;
    before(async () => {
      dir = await mkdtemp(join(tmpdir(), 'confd-ts-template-'));
      await writeFile(join(dir, 'present.conf'), 'x');
    });
    after(() => rm(dir, { recursive: true, force: true }));

    it('is true for files and directories, false otherwise', async () => {
      const out = await render(
        `{{fileExists "${join(dir, 'present.conf')}"}} {{fileExists "${dir}"}} {{fileExists "${join(dir, 'absent')}"}} {{fileExists "${join(dir, 'present.conf', 'below')}"}}`,
      );
      expect(out).to.equal('true true false false');
    });
  });

  describe('datetime', () => {
    const now = new Date(Date.UTC(2024, 2, 5, 7, 8, 9, 120));

    it('formats with Go layouts, named layouts, Unix seconds, in UTC or local time', async () => {
      const out = await render(
        '{{datetime "2006-01-02T15:04:05Z07:00" "UTC"}} {{datetime "RFC1123" "UTC"}} {{datetime "Unix"}} {{datetime "" "UTC"}}|',
        {},
        { now },
      );
      expect(out).to.equal('2024-03-05T07:08:09Z Tue, 05 Mar 2024 07:08:09 UTC 1709622489 |');
    });

    it('prints Go time.Time String() form by default', async () => {
      const out = await render('{{datetime}}', {}, { now });
      expect(out).to.match(/^2024-03-0[45] \d\d:\d\d:09\.12 [+-]\d{4} \S+$/);
      expect(await render('{{datetime "DateTime" "UTC"}}', {}, { now })).to.equal('2024-03-05 07:08:09');
    });

    it('reports the same instant for every call in one render', async () => {
      const out = await render('{{datetime "15:04:05.000"}}={{datetime "15:04:05.000"}}');
      const [a, b] = out.split('=');
      expect(a).to.equal(b);
    });

    it('rejects unknown zones', async () => {
      expect((await renderError('{{datetime "2006" "Mars/Olympus"}}')).message).to.contain(
        'unknown time zone: a 12-byte string (use "Local" or "UTC")',
      );
    });
  });
});
