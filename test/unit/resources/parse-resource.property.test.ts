import { expect } from 'chai';
import fc from 'fast-check';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { isAbsolute, join, sep } from 'node:path';
import { stringify } from 'smol-toml';
import { ConfigError } from '../../../src/errors.js';
import { cleanKey } from '../../../src/key-path.js';
import { parseResource } from '../../../src/resources/parse-resource.js';
import type { ParseContext } from '../../../src/resources/parse-resource.js';
import type { TemplateResource } from '../../../src/resources/template-resource.js';
import { quietLogger } from '../../support/loggers.js';

const KNOWN = [
  'src',
  'dest',
  'keys',
  'prefix',
  'mode',
  'uid',
  'gid',
  'owner',
  'group',
  'check_cmd',
  'reload_cmd',
  'check_cmd_timeout',
  'reload_cmd_timeout',
  'wait',
];

/** Values of every TOML type, and strings that look like what the fields expect (or nearly). */
const tomlValue = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc.string({ unit: 'binary', maxLength: 12 }),
    fc.constantFrom(
      '0644',
      '644',
      '0o644',
      '9999',
      '-1',
      '2s',
      '2s:10s',
      '0s',
      '1h',
      'x',
      '',
      '/',
      '..',
      '../..',
    ),
    fc.integer(),
    fc.double(),
    fc.boolean(),
    // TOML dates have four-digit years.
    fc.date({
      noInvalidDate: true,
      min: new Date('0001-01-01T00:00:00Z'),
      max: new Date('9999-12-31T23:59:59Z'),
    }),
    fc.array(tie('value'), { maxLength: 3 }),
    fc.array(fc.string({ maxLength: 6 }), { maxLength: 3 }),
    fc.dictionary(fc.string({ maxLength: 4 }), tie('value'), { maxKeys: 2 }),
  ),
})).value;

const fieldName = fc.oneof(
  fc.constantFrom(...KNOWN),
  fc.constantFrom('SRC', 'Dest', 'Keys', 'srcs', 'mode '),
  fc.string({ maxLength: 8 }),
);

/** A document that TOML accepts: a [template] table of arbitrary fields, sometimes in odd company. */
const structured = fc
  .record({
    table: fc.dictionary(fieldName, tomlValue, { maxKeys: 8 }),
    base: fc.record({
      src: fc.constantFrom('a.tmpl', 'x/../y.tmpl'),
      dest: fc.constantFrom('/tmp/a', 'rel/a'),
    }),
    withBase: fc.boolean(),
    shape: fc.constantFrom('table', 'array', 'missing', 'extra'),
  })
  .map(({ table, base, withBase, shape }) => {
    const template = withBase ? { ...base, ...table } : table;
    const doc: Record<string, unknown> =
      shape === 'table'
        ? { template }
        : shape === 'array'
          ? { template: [template] }
          : shape === 'missing'
            ? { other: template }
            : { template, extra: { x: 1 } };
    try {
      return stringify(doc);
    } catch {
      return '[template]\nsrc = "a"\ndest = "/a"\n';
    }
  });

/** Text made of TOML pieces, mostly broken. */
const tomlish = fc
  .array(
    fc.oneof(
      fc.constantFrom(
        '[template]',
        '[[template]]',
        '[template.src]',
        'src = "a.tmpl"',
        'dest = "/tmp/x"',
        'mode = 0644',
        'mode = "0644"',
        'keys = ["/a", "/b"]',
        'keys = ["/a"',
        'keys = "x"',
        'uid = -1',
        'owner = "root"',
        'check_cmd_timeout = 0',
        'wait = "1s:2s"',
        'src = """',
        "'''",
        '"',
        '=',
        '# comment',
        'a.b.c = 1',
        'src.x = 1',
        '\\',
        '\u0000',
      ),
      fc.string({ unit: 'binary', maxLength: 10 }),
    ),
    { maxLength: 8 },
  )
  .map((lines) => lines.join('\n'));

const anyInput = fc.oneof(structured, tomlish, fc.string({ unit: 'binary', maxLength: 40 }));

describe('parseResource (properties)', () => {
  let dir: string;
  let ctx: ParseContext;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'confd-prop-'));
    // Account files of our own; names they lack still go to getent, which answers "not found".
    await writeFile(join(dir, 'passwd'), 'root:x:0:0::/root:/bin/sh\napp:x:1000:1000::/home/app:/bin/sh\n');
    await writeFile(join(dir, 'group'), 'root:x:0:\napp:x:1000:\n');
    ctx = {
      file: join(dir, 'conf.d', 'prop.toml'),
      confdir: join(dir, 'confdir'),
      globalPrefix: '/global',
      accounts: { passwd: join(dir, 'passwd'), group: join(dir, 'group') },
    };
  });
  after(() => rm(dir, { recursive: true, force: true }));

  function checkResource(r: TemplateResource): void {
    expect(r.file).to.equal(ctx.file);
    expect(r.src.startsWith(join(ctx.confdir, 'templates') + sep), r.src).to.equal(true);
    expect(isAbsolute(r.dest)).to.equal(true);
    expect(r.prefix).to.equal(cleanKey(r.prefix));
    expect(r.prefix.startsWith('/global')).to.equal(true);
    for (const key of r.keys) expect(key).to.equal(cleanKey(key));
    if (r.mode !== undefined) expect(r.mode).to.be.within(0, 0o7777);
    for (const id of [r.uid, r.gid])
      if (id !== undefined) expect(Number.isInteger(id) && id >= 0).to.equal(true);
    for (const ms of [r.checkCmdTimeoutMs, r.reloadCmdTimeoutMs])
      expect(ms > 0 && Number.isFinite(ms)).to.equal(true);
  }

  function checkFailure(err: unknown, source: string): void {
    expect(err, `${String(err)} for ${JSON.stringify(source)}`).to.be.instanceOf(ConfigError);
    const e = err as ConfigError;
    expect(e.file).to.equal(ctx.file);
    expect(e.message.startsWith(ctx.file)).to.equal(true);
    for (const n of [e.line, e.column])
      if (n !== undefined) expect(Number.isInteger(n) && n >= 1).to.equal(true);
    expect(e.message).not.to.match(/\n\s+at /);
  }

  it('either yields a valid resource or throws a ConfigError naming the file, for any input', async () => {
    await fc.assert(
      fc.asyncProperty(anyInput, async (source) => {
        let resource: TemplateResource | undefined;
        try {
          resource = await parseResource(source, ctx, quietLogger);
        } catch (err) {
          checkFailure(err, source);
          return;
        }
        checkResource(resource);
      }),
      { numRuns: 1500 },
    );
  });

  it('a reported line points at the offending field when the table is written one key per line', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...KNOWN), tomlValue, async (name, value) => {
        let text: string;
        try {
          text = stringify({ template: { src: 'a.tmpl', dest: '/tmp/a', [name]: value } });
        } catch {
          return;
        }
        try {
          await parseResource(text, ctx, quietLogger);
        } catch (err) {
          checkFailure(err, text);
          const { line } = err as ConfigError;
          if (line !== undefined && !(err as Error).message.includes('invalid TOML')) {
            const written = text.split('\n')[line - 1] ?? '';
            // The line names the field that failed (or, for src/dest, a field they depend on).
            expect(written, `${(err as Error).message}\n${text}`).to.match(/^\s*"?[\w.]+"?\s*=|^\[/);
            expect((err as Error).message).to.include(written.split('=')[0]?.trim().replace(/"/g, '') ?? '');
          }
        }
      }),
      { numRuns: 1000 },
    );
  });
});
