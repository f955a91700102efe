import { expect } from 'chai';
import { mkdtemp, rename, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TemplateError } from '../../../src/errors.js';
import { TemplateCache } from '../../../src/process/template-cache.js';
import type { CompiledTemplate } from '../../../src/template/compile-template.js';
import { compileTemplate } from '../../../src/template/compile-template.js';
import { KVStore } from '../../../src/template/kv-store.js';
import { rejection } from '../../support/async.js';

const NO_DNS = { lookupIP: () => Promise.resolve([]), lookupSRV: () => Promise.resolve([]) };

async function renderVia(cache: TemplateCache, path: string): Promise<string> {
  return (await cache.get(path)).render(new KVStore({ '/k': 'v' }), { resolver: NO_DNS });
}

describe('TemplateCache', () => {
  let dir: string;
  let path: string;
  let compiles: number;
  const counting = (path: string): Promise<CompiledTemplate> => {
    compiles += 1;
    return compileTemplate(path);
  };

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'confd-tcache-'));
    path = join(dir, 't.hbs');
    compiles = 0;
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('compiles an unchanged template once, also for concurrent gets', async () => {
    await writeFile(path, 'a={{getv "/k"}}');
    const cache = new TemplateCache(counting);
    const [one, two] = await Promise.all([cache.get(path), cache.get(path)]);
    const three = await cache.get(path);
    expect(one).to.equal(two);
    expect(three).to.equal(one);
    expect(compiles).to.equal(1);
  });

  it('does not keep a syntax error: the template fixed on disk is picked up on the next get', async () => {
    await writeFile(path, 'a={{#if x}}open');
    const cache = new TemplateCache(counting);
    const err = await rejection(cache.get(path));
    expect(err).to.be.instanceOf(TemplateError);
    await writeFile(path, 'a={{getv "/k"}}');
    expect(await renderVia(cache, path)).to.equal('a=v');
  });

  it('retries a failed compile even when the file did not change (a read that failed once)', async () => {
    await writeFile(path, 'a={{getv "/k"}}');
    let failNext = true;
    const flaky = (p: string): Promise<CompiledTemplate> => {
      compiles += 1;
      if (failNext) {
        failNext = false;
        return Promise.reject(new TemplateError(`${p}: cannot read template: EIO`, p));
      }
      return compileTemplate(p);
    };
    const cache = new TemplateCache(flaky);
    await rejection(cache.get(path));
    expect(await renderVia(cache, path)).to.equal('a=v');
    expect(compiles).to.equal(2);
  });

  it('reports a missing template, then compiles it once it exists', async () => {
    const cache = new TemplateCache(counting);
    const err = await rejection<TemplateError>(cache.get(path));
    expect(err).to.be.instanceOf(TemplateError);
    expect(err.message).to.include(path);
    await writeFile(path, 'now={{getv "/k"}}');
    expect(await renderVia(cache, path)).to.equal('now=v');
  });

  it('recompiles a template edited in place (new size)', async () => {
    await writeFile(path, 'a={{getv "/k"}}');
    const cache = new TemplateCache(counting);
    expect(await renderVia(cache, path)).to.equal('a=v');
    await writeFile(path, 'longer={{getv "/k"}}');
    expect(await renderVia(cache, path)).to.equal('longer=v');
    expect(compiles).to.equal(2);
  });

  it('recompiles a same-size edit whose mtime differs', async () => {
    await writeFile(path, 'a={{getv "/k"}}');
    const before = await stat(path);
    const cache = new TemplateCache(counting);
    expect(await renderVia(cache, path)).to.equal('a=v');
    await writeFile(path, 'b={{getv "/k"}}');
    // Kernel timestamps are coarse: make sure this edit does not share the first write's tick.
    await utimes(path, before.atime, new Date(before.mtimeMs + 5000));
    expect(await renderVia(cache, path)).to.equal('b=v');
  });

  it('recompiles a template replaced by rename (new inode), as editors and config managers do', async () => {
    await writeFile(path, 'a={{getv "/k"}}');
    const cache = new TemplateCache(counting);
    expect(await renderVia(cache, path)).to.equal('a=v');
    const next = join(dir, 't.hbs.new');
    await writeFile(next, 'c={{getv "/k"}}');
    await rename(next, path);
    expect(await renderVia(cache, path)).to.equal('c=v');
  });

  it('drops a template deleted from disk instead of rendering the stale copy', async () => {
    await writeFile(path, 'a={{getv "/k"}}');
    const cache = new TemplateCache(counting);
    await cache.get(path);
    await rm(path);
    expect(await rejection(cache.get(path))).to.be.instanceOf(TemplateError);
  });
});
