/**
 * Where the time of one confd run goes: summarises a V8 CPU profile (`node --cpu-prof`) by self samples per
 * package (node_modules/<name>, confd-ts's own dist/<folder>, node's internals) and per function.
 *
 *   node --cpu-prof --cpu-prof-dir=/tmp/prof bin/confd -onetime ...
 *   npx tsx bench/cpu-profile.ts /tmp/prof/<file>.cpuprofile [top]
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

/** The package a script belongs to: node_modules/<pkg> (scoped too), dist/<folder>, node:<internal>. */
function owner(url: string, fn: string): string {
  if (url === '') return fn.startsWith('(') ? fn : '(native)';
  const mod = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (mod) return mod[1] ?? url;
  const dist = /\/dist\/([^/]+)\//.exec(url);
  if (dist) return `confd-ts ${dist[1] ?? ''}`;
  // node:internal/modules/esm/loader → node:internal/modules: module loading shows as such.
  if (url.startsWith('node:')) return `node:${url.slice(5).split('/').slice(0, 2).join('/')}`;
  return url;
}

const [file, topArg] = process.argv.slice(2);
if (!file) throw new Error('usage: npx tsx bench/cpu-profile.ts <file.cpuprofile> [top]');
const top = Number(topArg ?? 15);
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
// Samples, not time deltas: on a loaded machine one delta can span the time the process was not running,
// while the sampler takes one sample per interval of running time (--cpu-prof-interval, 1 ms by default).
const byOwner = new Map<string, number>();
const byFunction = new Map<string, number>();
profile.samples.forEach((id) => {
  const node = byId.get(id);
  if (!node) return;
  const { functionName, url, lineNumber } = node.callFrame;
  const who = owner(url, functionName);
  byOwner.set(who, (byOwner.get(who) ?? 0) + 1);
  const name = `${functionName || '(anonymous)'} ${who}:${lineNumber + 1}`;
  byFunction.set(name, (byFunction.get(name) ?? 0) + 1);
});
const total = (profile.endTime - profile.startTime) / 1000;
const samples = profile.samples.length;
const print = (title: string, m: Map<string, number>): void => {
  console.log(`\n${title}`);
  for (const [k, n] of [...m].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    console.log(`${String(n).padStart(7)} ${((n / samples) * 100).toFixed(1).padStart(5)}%  ${k}`);
  }
};
// What a run loads, roughly: every script sampled at least once appears in the profile with its URL.
const scripts = new Map<string, Set<string>>();
for (const node of profile.nodes) {
  const { url, functionName } = node.callFrame;
  if (url === '' || url.startsWith('node:')) continue;
  const who = owner(url, functionName);
  scripts.set(who, (scripts.get(who) ?? new Set()).add(url));
}
console.log(`${file}: ${total.toFixed(1)} ms wall, ${samples} samples`);
print('self samples by package', byOwner);
print('self samples by function', byFunction);
console.log(
  `\nscripts sampled at least once, by package (${[...scripts.values()].reduce((n, s) => n + s.size, 0)} in all)`,
);
for (const [who, urls] of [...scripts].sort((a, b) => b[1].size - a[1].size))
  console.log(`${String(urls.size).padStart(6)}  ${who}`);
