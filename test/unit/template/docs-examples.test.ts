import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { compileTemplateSource } from '../../../src/template/compile-source.js';
import type { RenderOptions } from '../../../src/template/compile-template.js';
import type { DnsResolver } from '../../../src/template/dns-lookups.js';
import type { TemplateEngine } from '../../../src/template/engine.js';
import { HELPER_NAMES } from '../../../src/template/helpers/helper-specs.js';
import { KVStore } from '../../../src/template/kv-store.js';
import type { Pairs } from './render.js';

/**
 * docs/templates.md promises outputs; these tests hold it to them. Examples are rendered against the
 * store the document lists (the `text example-store` block) and the world it describes next to it.
 */
const DOC_PATH = new URL('../../../docs/templates.md', import.meta.url);
const doc = readFileSync(DOC_PATH, 'utf8');

interface Fence {
  info: string;
  body: string;
}

function fences(markdown: string): Fence[] {
  const found: Fence[] = [];
  const pattern = /^```([^\n]*)\n([\s\S]*?)^```$/gm;
  for (const match of markdown.matchAll(pattern)) found.push({ info: match[1] ?? '', body: match[2] ?? '' });
  return found;
}

/** Markdown tables escape `|` inside code spans; templates mean the bare character. */
const unescape = (text: string): string => text.replaceAll('\\|', '|');

function exampleStore(): Pairs {
  const block = fences(doc).find((fence) => fence.info === 'text example-store');
  if (!block) expect.fail('docs/templates.md has no `text example-store` block');
  const pairs: Record<string, string> = {};
  for (const line of block.body.split('\n').filter((l) => l.trim() !== '')) {
    const [, key, value] = /^(\S+)\s+(.*)$/.exec(line) ?? expect.fail(`bad store line ${line}`);
    pairs[key as string] = (value as string).trim();
  }
  return pairs;
}

const resolver: DnsResolver = {
  lookupIP: (host) =>
    host === 'db.internal'
      ? Promise.resolve(['fd00::5', '10.0.0.5'])
      : Promise.reject(Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' })),
  lookupSRV: (service, proto, name) =>
    Promise.resolve(
      `${service}/${proto}/${name}` === 'http/tcp/example.com'
        ? [{ Target: 'node1.example.com.', Port: 80, Priority: 10, Weight: 5 }]
        : [],
    ),
};

const OPTIONS: RenderOptions = { resolver, now: new Date('2024-03-05T06:08:09.120Z') };
const UNSET_VARIABLES = ['LISTEN_PORT', 'PORT'];

function renderExample(source: string, engine: TemplateEngine = 'handlebars'): Promise<string> {
  return compileTemplateSource(source, 'docs/templates.md', engine).render(
    new KVStore(exampleStore()),
    OPTIONS,
  );
}

/** Every "`{{template}}` -> `output`" pair, in tables and prose alike. */
function promisedOutputs(): [template: string, output: string][] {
  const pattern = /`(\{\{[^`]*\}\})`\s*->\s*`([^`]*)`/g;
  return [...doc.matchAll(pattern)].map((m) => [unescape(m[1] ?? ''), unescape(m[2] ?? '')]);
}

interface TableRow {
  cells: string[];
  /** The last column's header. */
  column: string;
}

/** Rows of every table whose last column is an example column. */
function exampleRows(): TableRow[] {
  const rows: TableRow[] = [];
  let header: string | undefined;
  for (const line of doc.split('\n')) {
    if (!line.startsWith('|')) {
      header = undefined;
      continue;
    }
    const cells = line
      .slice(1, -1)
      .split(/(?<!\\)\|/)
      .map((cell) => cell.trim());
    if (header === undefined) header = cells.at(-1) ?? '';
    else if (header.startsWith('Example') && !/^-+$/.test(cells[0] ?? ''))
      rows.push({ cells, column: header });
  }
  return rows;
}

describe('docs/templates.md examples', () => {
  const saved = new Map<string, string | undefined>();
  before(() => {
    for (const name of UNSET_VARIABLES) {
      saved.set(name, process.env[name]);
      delete process.env[name];
    }
  });
  after(() => {
    for (const [name, value] of saved) if (value !== undefined) process.env[name] = value;
  });

  describe('template blocks render as shown', () => {
    const blocks = fences(doc);
    const engines: Record<string, TemplateEngine> = { handlebars: 'handlebars', gotemplate: 'go' };
    const templates = blocks.flatMap((fence, i) => (fence.info in engines ? [i] : []));
    it('the document has template blocks for both engines', () => {
      expect(templates.filter((i) => blocks[i]?.info === 'handlebars')).to.have.length.greaterThan(1);
      expect(templates.filter((i) => blocks[i]?.info === 'gotemplate')).to.have.length.greaterThan(1);
    });
    for (const i of templates) {
      const { body: source = '', info = '' } = blocks[i] ?? {};
      it(`${info}: ${source.split('\n')[0] ?? ''}`, async () => {
        const output = blocks[i + 1];
        expect(output?.info, 'a `text` block with the output follows each template').to.equal('text');
        expect(await renderExample(source, engines[info])).to.equal(output?.body);
      });
    }
  });

  describe('"template -> output" pairs hold', () => {
    const pairs = promisedOutputs();
    it('the document promises outputs', () => {
      expect(pairs).to.have.length.greaterThan(50);
    });
    for (const [template, output] of pairs) {
      it(template, async () => {
        expect(await renderExample(template)).to.equal(output);
      });
    }
  });

  describe('examples without a shown output still render', () => {
    const withOutput = new Set(promisedOutputs().map(([template]) => template));
    const spans = exampleRows().flatMap(({ cells }) =>
      [...(cells.at(-1) ?? '').matchAll(/`(\{\{[^`]*\}\})`/g)].map((m) => unescape(m[1] ?? '')),
    );
    for (const template of spans.filter((t) => !withOutput.has(t))) {
      it(template, async () => {
        expect(await renderExample(template)).to.be.a('string');
      });
    }
  });

  it('every helper has a row of its own, with an example calling it', () => {
    const rows = exampleRows();
    const missing = HELPER_NAMES.filter(
      (name) =>
        !rows.some(
          ({ cells }) =>
            new RegExp(`^\`${name}[ \`]`).test(cells[0] ?? '') &&
            !/`,/.test(cells[0] ?? '') &&
            new RegExp(`[{(]#?${name}\\b`).test(cells.at(-1) ?? ''),
        ),
    );
    expect(missing).to.deep.equal([]);
  });

  it('examples quote strings with double quotes, as Go templates must', () => {
    const templates = [
      ...fences(doc)
        .filter((fence) => fence.info === 'handlebars' || fence.info === 'gotemplate')
        .map((fence) => fence.body),
      ...promisedOutputs().map(([template]) => template),
    ];
    expect(templates.filter((t) => t.includes("'"))).to.deep.equal([]);
  });
});
