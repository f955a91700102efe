/**
 * The shared conformance fixture under test/fixtures/conformance/: data.json (every key and value, relative
 * to a per-run root), conf.d/ and templates/ (one resource per case) and expected/ (the committed golden
 * output of each resource, the same for every backend). Each case exists twice: `<case>.toml` renders a
 * Handlebars template (`<case>.conf.hbs`), its twin `<case>.go.toml` the same case written as a Go
 * text/template (`<case>.conf.tmpl`), and both must produce the one golden file expected/<case>.conf.
 */
import { randomBytes } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { cp, mkdir, readFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const fixtureDir = resolve(dirname(fileURLToPath(import.meta.url)), '../../fixtures/conformance');

/** Flat key -> value map; keys are absolute and relative to the run's root. */
export type FixtureData = Readonly<Record<string, string>>;

/** The case whose template reads a missing key without a default: it must fail on every backend. */
export const FAILING_CASE = 'missing';

/** The case a resource renders: its name without the Go twin's `.go`. */
export function caseOf(resource: string): string {
  return resource.replace(/\.go$/, '');
}

/** Relative to the confdir and the working directory of the run (dests in conf.d are relative). */
export function destOf(resource: string): string {
  return `out/${resource}.conf`;
}

/**
 * Resources the env backend cannot render, and why. Env keys travel as UPPER_SNAKE variable names, so a
 * key survives only if lower-casing its upper-cased name and turning `_` back into `/` gives it back.
 */
export const ENV_SKIPPED: Readonly<Record<string, string>> = {
  names:
    'its keys hold "_" (/names/max_conns reads back as /names/max/conns), upper case (/names/Upper.Case ' +
    'reads back as /names/upper.case) and "ß" (upper-cased to "SS", read back as /names/strasse)',
};

/** Resource names (conf.d/<name>.toml), sorted; read synchronously because mocha declares tests at load. */
export const RESOURCES: readonly string[] = readdirSync(join(fixtureDir, 'conf.d'))
  .filter((name) => name.endsWith('.toml'))
  .map((name) => basename(name, '.toml'))
  .sort();

/** The failing case's resources: its Handlebars original and its Go twin. */
export const FAILING_RESOURCES: readonly string[] = RESOURCES.filter((r) => caseOf(r) === FAILING_CASE);

/** Resources expected to render, with their golden file. */
export const RENDERED_RESOURCES: readonly string[] = RESOURCES.filter((r) => caseOf(r) !== FAILING_CASE);

/** Resources the env backend cannot render: both engines' versions of every ENV_SKIPPED case. */
export const ENV_SKIPPED_RESOURCES: readonly string[] = RESOURCES.filter((r) => caseOf(r) in ENV_SKIPPED);

/** A fresh root for one run, lower-case alphanumeric so that it survives the env backend's mapping too. */
export function randomRoot(): string {
  return `/conformance${randomBytes(6).toString('hex')}`;
}

/**
 * Reads data.json and checks it fits every store's key model: values only on leaves (in ZooKeeper and
 * YAML a node with children cannot also hold a value confd reads), no empty values (the file backend
 * drops them, as confd does).
 */
export async function readFixtureData(): Promise<FixtureData> {
  const data = JSON.parse(await readFile(join(fixtureDir, 'data.json'), 'utf8')) as Record<string, unknown>;
  const keys = Object.keys(data);
  for (const [key, value] of Object.entries(data)) {
    if (typeof value !== 'string' || value === '')
      throw new Error(`data.json: ${key} needs a non-empty string`);
    if (!key.startsWith('/') || key.endsWith('/') || key.includes('//'))
      throw new Error(`data.json: bad key ${key}`);
    const child = keys.find((other) => other.startsWith(`${key}/`));
    if (child) throw new Error(`data.json: ${key} holds a value and has ${child} under it`);
  }
  return data as FixtureData;
}

/** The golden output of a rendered resource: its case's, whichever engine renders it. */
export function readExpected(resource: string): Promise<Buffer> {
  return readFile(join(fixtureDir, 'expected', `${caseOf(resource)}.conf`));
}

/** The error a failing resource must report, identical on every backend (each engine words its own). */
export async function readExpectedError(resource: string): Promise<string> {
  return (await readFile(join(fixtureDir, 'expected', `${resource}.error`), 'utf8')).trim();
}

/**
 * The variable name of `key`, by confd's documented rule (written out here rather than imported, so a bug
 * in the backend's own mapping cannot hide itself): drop the leading '/', '/' -> '_', upper case.
 */
export function envName(key: string): string {
  return key.slice(1).replaceAll('/', '_').toUpperCase();
}

/** Whether `key` comes back unchanged from its variable name (see ENV_SKIPPED). */
export function survivesEnv(key: string): boolean {
  return `/${envName(key).toLowerCase().replaceAll('_', '/')}` === key;
}

/** Copies conf.d/ (without the `skip` resources) and templates/ into `confdir`. */
export async function copyConfdir(confdir: string, skip: readonly string[] = []): Promise<void> {
  await mkdir(confdir, { recursive: true });
  await cp(join(fixtureDir, 'templates'), join(confdir, 'templates'), { recursive: true });
  await cp(join(fixtureDir, 'conf.d'), join(confdir, 'conf.d'), {
    recursive: true,
    filter: (source) => !skip.includes(basename(source, '.toml')),
  });
}
