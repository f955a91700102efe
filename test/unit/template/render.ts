import { expect } from 'chai';
import { TemplateError } from '../../../src/errors.js';
import { compileTemplateSource } from '../../../src/template/compile-source.js';
import type { RenderOptions } from '../../../src/template/compile-template.js';
import { KVStore } from '../../../src/template/kv-store.js';

/** A test's store, written as an object literal (KVStore copies it into its Map). */
export type Pairs = Readonly<Record<string, string>>;

export const TEMPLATE = '/etc/confd/templates/test.hbs';

/** A resolver that never touches the network, so helper tests cannot hang or depend on the host. */
export const NO_DNS: RenderOptions['resolver'] = {
  lookupIP: () => Promise.resolve([]),
  lookupSRV: () => Promise.resolve([]),
};

export function render(source: string, pairs: Pairs = {}, options: RenderOptions = {}): Promise<string> {
  return compileTemplateSource(source, TEMPLATE).render(new KVStore(pairs), { resolver: NO_DNS, ...options });
}

/** The TemplateError a render (or the compile before it) fails with. */
export async function renderError(source: string, pairs: Pairs = {}): Promise<TemplateError> {
  try {
    await render(source, pairs);
  } catch (err) {
    expect(err).to.be.instanceOf(TemplateError);
    return err as TemplateError;
  }
  expect.fail(`expected ${JSON.stringify(source)} to fail`);
}
