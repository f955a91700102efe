import { expect } from 'chai';
import fc from 'fast-check';
import { keyIsUnder } from '../../../src/key-path.js';
import { prefixedKeys } from '../../../src/resources/load-resources.js';
import { changeAffects, dirtyMembers, resourceRoots, watchRoots } from '../../../src/process/watch-roots.js';

const r = (prefix: string, keys: string[]) => ({ prefix, keys });
/** Members named by their position, as watchRoots takes them. */
const members = (resources: ReturnType<typeof r>[]) =>
  resources.map((resource, i) => ({ id: String(i), resource }));

describe('watch roots', () => {
  it('watches a resource by its prefix, or by each key when it has none', () => {
    expect(resourceRoots(r('/app', ['/db', '/web']))).to.deep.equal(['/app']);
    expect(resourceRoots(r('/', ['/db', '/web']))).to.deep.equal(['/db', '/web']);
    expect(resourceRoots(r('/', []))).to.deep.equal([]);
  });

  it('also watches a key that .. lifts out of the prefix', () => {
    expect(resourceRoots(r('/app/one', ['/x', '../shared']))).to.deep.equal(['/app/one', '/app/shared']);
  });

  it('deduplicates roots and drops those under another root, on path boundaries', () => {
    const roots = watchRoots(
      members([
        r('/app', ['/db']),
        r('/app', ['/web']),
        r('/app/db', ['/']),
        r('/', ['/appx/y', '/other']),
        r('/other/deep', ['/z']),
      ]),
    );
    expect(roots).to.deep.equal([
      { prefix: '/app', keys: ['/app/db', '/app/web'], members: ['0', '1', '2'] },
      { prefix: '/appx/y', keys: ['/appx/y'], members: ['3'] },
      { prefix: '/other', keys: ['/other', '/other/deep/z'], members: ['3', '4'] },
    ]);
  });

  it('collapses everything into "/" when a resource reads the whole store', () => {
    const roots = watchRoots(members([r('/', ['/']), r('/app', ['/db'])]));
    expect(roots).to.deep.equal([{ prefix: '/', keys: ['/', '/app/db'], members: ['0', '1'] }]);
  });

  it('treats a changed key as affecting keys it equals, lies under or lies above', () => {
    expect(changeAffects(['/app/db'], '/app/db')).to.equal(true);
    expect(changeAffects(['/app/db'], '/app/db/host')).to.equal(true);
    expect(changeAffects(['/app/db'], '/app')).to.equal(true);
    expect(changeAffects(['/app/db'], '/app/dbx')).to.equal(false);
    expect(changeAffects(['/app/db'], '/app/web')).to.equal(false);
    expect(changeAffects([], '/app')).to.equal(false);
  });

  it('marks dirty only the covering resources of a root, or all of them for an unknown change', () => {
    const resources = [r('/app', ['/db']), r('/app', ['/web']), r('/app/db', ['/'])];
    const [root] = watchRoots(members(resources));
    const keys: Record<string, string[]> = { 0: ['/app/db'], 1: ['/app/web'], 2: ['/app/db'] };
    const keysOf = (id: string) => keys[id] ?? [];
    expect(dirtyMembers(root!, keysOf, ['/app/db/host'])).to.deep.equal(['0', '2']);
    expect(dirtyMembers(root!, keysOf, ['/app/web/port', '/app/dbx'])).to.deep.equal(['1']);
    expect(dirtyMembers(root!, keysOf, [])).to.deep.equal([]);
    expect(dirtyMembers(root!, keysOf, undefined)).to.deep.equal(['0', '1', '2']);
  });
});

/** The rule watchRoots implements, written the obvious (resources x prefixes) way. */
function naiveWatchRoots(resources: readonly { id: string; resource: { prefix: string; keys: string[] } }[]) {
  const own = resources.map((member) => ({ member, roots: resourceRoots(member.resource) }));
  const candidates = [...new Set(own.flatMap((o) => o.roots))].sort();
  const prefixes = candidates.filter(
    (prefix) => !candidates.some((other) => other !== prefix && keyIsUnder(prefix, other)),
  );
  return prefixes.map((prefix) => {
    const under = own.filter((o) => o.roots.some((root) => keyIsUnder(root, prefix)));
    const keys = new Set<string>();
    for (const { member } of under)
      for (const key of prefixedKeys(member.resource)) if (keyIsUnder(key, prefix)) keys.add(key);
    return { prefix, keys: [...keys].sort(), members: under.map((o) => o.member.id) };
  });
}

describe('watch roots (properties)', () => {
  const segment = fc.constantFrom('a', 'b', 'ab', 'a-b', '..', 'é');
  const path = fc.array(segment, { maxLength: 3 }).map((parts) => `/${parts.join('/')}`);
  const resource = fc.record({
    prefix: fc.oneof(path, fc.constant('/')),
    keys: fc.array(path, { maxLength: 3 }),
  });

  it('finds the same prefixes, keys and members as the resources x prefixes rule', () => {
    fc.assert(
      fc.property(fc.array(resource, { maxLength: 8 }), (resources) => {
        const given = members(resources.map((res) => r(res.prefix, res.keys)));
        expect(watchRoots(given)).to.deep.equal(naiveWatchRoots(given));
      }),
      { numRuns: 1000 },
    );
  });

  it('gives 1,000 resources with their own prefixes 1,000 roots of one member each', () => {
    const given = members(Array.from({ length: 1000 }, (_, i) => r(`/svc/${i}`, ['/a', '/b'])));
    const roots = watchRoots(given);
    expect(roots).to.have.length(1000);
    expect(roots.every((root) => root.members.length === 1 && root.keys.length === 2)).to.equal(true);
  });
});
