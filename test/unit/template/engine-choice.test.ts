import { expect } from 'chai';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TemplateError, UsageError } from '../../../src/errors.js';
import { loadConfig } from '../../../src/process/load-config.js';
import { compileTemplate } from '../../../src/template/compile-template.js';
import { configureTemplateEngine } from '../../../src/template/engine.js';
import { KVStore } from '../../../src/template/kv-store.js';
import { NO_DNS } from './render.js';
import { quietLogger } from '../../support/loggers.js';

/** Texts only one engine can read: rendering one proves which engine read the file. */
const GO_ONLY = '{{/* Go */}}{{getv "/a" | printf "%s!"}}';
const HBS_ONLY = '{{!-- Handlebars --}}{{#if (getv "/a")}}hbs{{/if}}';
const GO = 'v!';
const HBS = 'hbs';

describe('engine choice', () => {
  let dir: string;
  const store = new KVStore({ '/a': 'v' });

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'confd-ts-engine-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));
  afterEach(() => configureTemplateEngine('auto'));

  async function file(name: string, text: string): Promise<string> {
    const path = join(dir, name);
    await writeFile(path, text);
    return path;
  }

  async function rendered(path: string, engine?: 'go' | 'handlebars'): Promise<string> {
    return (await compileTemplate(path, engine)).render(store, { resolver: NO_DNS });
  }

  it('reads .hbs and .handlebars as Handlebars, everything else as Go, as confd does', async () => {
    expect(await rendered(await file('a.tmpl', GO_ONLY))).to.equal(GO);
    expect(await rendered(await file('a.conf', GO_ONLY))).to.equal(GO);
    expect(await rendered(await file('noext', GO_ONLY))).to.equal(GO);
    expect(await rendered(await file('a.hbs', HBS_ONLY))).to.equal(HBS);
    expect(await rendered(await file('a.HANDLEBARS', HBS_ONLY))).to.equal(HBS);
  });

  it("lets a resource's engine override the name", async () => {
    expect(await rendered(await file('b.tmpl', HBS_ONLY), 'handlebars')).to.equal(HBS);
    expect(await rendered(await file('b.hbs', GO_ONLY), 'go')).to.equal(GO);
  });

  it('lets -template-engine override the name but not a resource', async () => {
    configureTemplateEngine('handlebars');
    expect(await rendered(await file('c.tmpl', HBS_ONLY))).to.equal(HBS);
    expect(await rendered(await file('c2.tmpl', GO_ONLY), 'go')).to.equal(GO);
    configureTemplateEngine('GO');
    expect(await rendered(await file('c.hbs', GO_ONLY))).to.equal(GO);
  });

  it('rejects an unknown -template-engine as a usage error naming all its spellings', () => {
    expect(() => configureTemplateEngine('jinja'))
      .to.throw(UsageError)
      .with.property('message')
      .that.includes('-template-engine (template_engine, CONFD_TEMPLATE_ENGINE)')
      .and.includes('"jinja"');
  });

  it('says which engine failed to parse a file and how to choose the other', async () => {
    const path = await file('old.tmpl', '{{#each (gets "/x/*")}}{{Value}}{{/each}}\n');
    const err = await compileTemplate(path).then(
      () => expect.fail('should not compile'),
      (e: unknown) => e as TemplateError,
    );
    expect(err).to.be.instanceOf(TemplateError).with.property('line', 1);
    expect(err.message).to.equal(
      `${path}: template: old.tmpl:1: unexpected "#" in command (parsed as a Go text/template because ` +
        'its name does not end in .hbs; for a Handlebars template, set engine = "handlebars" in the ' +
        "resource's [template] table)",
    );
    const hbs = await file('new.hbs', '{{range gets "/x/*"}}{{.Value}}{{end}}\n');
    const hbsErr = await compileTemplate(hbs).then(
      () => expect.fail('should not compile'),
      (e: unknown) => e as TemplateError,
    );
    expect(hbsErr.message)
      .to.include('(parsed as a Handlebars template because its name ends in .hbs')
      .and.include('set engine = "go"');
  });

  it('loading shares one compiled template per path and engine', async () => {
    // Valid in both engines, with different output: Go's JSON number is a float64, Handlebars' an integer.
    const confdir = join(dir, 'shared');
    await mkdir(join(confdir, 'conf.d'), { recursive: true });
    await mkdir(join(confdir, 'templates'));
    await writeFile(join(confdir, 'templates', 'd.tmpl'), '{{json "{\\"n\\": 1000000}"}}');
    const toml = (dest: string, engine = ''): string =>
      `[template]\nsrc = "d.tmpl"\ndest = "${dest}"\nkeys = ["/a"]\n${engine}`;
    await writeFile(join(confdir, 'conf.d', '1.toml'), toml('/tmp/1'));
    await writeFile(join(confdir, 'conf.d', '2.toml'), toml('/tmp/2'));
    await writeFile(join(confdir, 'conf.d', '3.toml'), toml('/tmp/3', 'engine = "handlebars"\n'));
    await writeFile(join(confdir, 'conf.d', '4.toml'), toml('/tmp/4', 'engine = "handlebars"\n'));
    const { resources, failures } = await loadConfig(confdir, '', quietLogger);
    expect(failures).to.deep.equal([]);
    const [go, go2, hbs, hbs2] = resources.map((loaded) => loaded.template);
    expect(go2).to.equal(go);
    expect(hbs2).to.equal(hbs);
    expect(hbs).to.not.equal(go);
    expect(await go!.render(store, { resolver: NO_DNS })).to.equal('map[n:1e+06]');
    expect(await hbs!.render(store, { resolver: NO_DNS })).to.equal('map[n:1000000]');
  });
});
