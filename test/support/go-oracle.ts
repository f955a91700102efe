/**
 * The Go oracle (test/go-oracle): Go's own text/template with confd's function map, built once per
 * source version with the system's Go toolchain (Debian's golang-go; scripts/go-oracle.sh installs it).
 * Differential tests render the same cases through it and through confd-ts and compare byte for byte.
 * A missing toolchain fails the tests that need it: they do not skip.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rename } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);

export const ORACLE_SOURCE = resolve(dirname(fileURLToPath(import.meta.url)), '../go-oracle');

export interface SrvAnswer {
  Target: string;
  Port: number;
  Priority: number;
  Weight: number;
}

/** One render: the template, its dot, the store and what DNS and the clock answer. */
export interface OracleCase {
  name?: string;
  template: string;
  data?: unknown;
  kv?: Record<string, string>;
  ips?: Record<string, string[]>;
  /** Keyed "service/proto/name". */
  srv?: Record<string, SrvAnswer[]>;
  /** Unix milliseconds; datetime returns this instant in local time. */
  now?: number;
}

export type OracleResult = { output: string; error?: undefined } | { error: string; output?: undefined };

const GO_ENV = {
  ...process.env,
  // Standard library only: nothing may be downloaded, whatever the environment says.
  GOFLAGS: '-mod=mod',
  GOPROXY: 'off',
  GOTOOLCHAIN: 'local',
  GO111MODULE: 'on',
  CGO_ENABLED: '0',
};

let built: Promise<string> | undefined;

/** Builds the oracle (cached by a hash of its sources) and returns the binary's path. */
export function oracleBinary(): Promise<string> {
  built ??= build();
  return built;
}

async function build(): Promise<string> {
  const go = await findGo();
  const hash = createHash('sha256');
  for (const file of await sourceFiles(ORACLE_SOURCE)) {
    hash.update(file);
    hash.update(await readFile(join(ORACLE_SOURCE, file)));
  }
  const dir = process.env.GO_ORACLE_CACHE ?? join(tmpdir(), 'confd-ts-go-oracle');
  const binary = join(dir, `go-oracle-${hash.digest('hex').slice(0, 16)}`);
  if (existsSync(binary)) return binary;
  await mkdir(dir, { recursive: true });
  const partial = `${binary}.${process.pid}.tmp`;
  const env = { ...GO_ENV, GOCACHE: process.env.GOCACHE ?? join(dir, 'gocache') };
  try {
    await run(go, ['build', '-o', partial, '.'], { cwd: ORACLE_SOURCE, env });
  } catch (err) {
    const { stderr } = err as { stderr?: string };
    throw new Error(`building the Go oracle in ${ORACLE_SOURCE} failed:\n${stderr ?? String(err)}`, {
      cause: err,
    });
  }
  await rename(partial, binary);
  return binary;
}

async function findGo(): Promise<string> {
  for (const candidate of ['go', '/usr/lib/go/bin/go', '/usr/local/go/bin/go']) {
    try {
      await run(candidate, ['version'], { env: GO_ENV });
      return candidate;
    } catch {
      // try the next one
    }
  }
  throw new Error(
    'the Go toolchain is missing: the differential tests compare confd-ts with Go itself. ' +
      'Install it with `bash scripts/go-oracle.sh install` (Debian golang-go).',
  );
}

async function sourceFiles(dir: string, prefix = ''): Promise<string[]> {
  const files: string[] = [];
  for (const entry of (await readdir(join(dir, prefix), { withFileTypes: true })).sort((a, b) =>
    a.name < b.name ? -1 : 1,
  )) {
    const rel = join(prefix, entry.name);
    if (entry.isDirectory()) files.push(...(await sourceFiles(dir, rel)));
    else if (/\.(go|mod)$/.test(entry.name)) files.push(rel);
  }
  return files;
}

/** Renders every case through Go, in one process. */
export async function runOracle(cases: readonly OracleCase[]): Promise<OracleResult[]> {
  const binary = await oracleBinary();
  const child = execFile(binary, [], { maxBuffer: 256 * 1024 * 1024, env: process.env });
  const output = new Promise<string>((ok, fail) => {
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (chunk: string) => (stdout += chunk));
    child.stderr?.on('data', (chunk: string) => (stderr += chunk));
    child.on('error', fail);
    child.on('close', (code) =>
      code === 0 ? ok(stdout) : fail(new Error(`go-oracle exited ${code}: ${stderr}`)),
    );
  });
  child.stdin?.end(JSON.stringify(cases.map((c) => ({ ...c, data: c.data ?? null }))));
  const results = JSON.parse(await output) as OracleResult[];
  if (results.length !== cases.length) throw new Error('go-oracle answered a different number of cases');
  return results;
}

/** A long-running oracle answering one case at a time (for property tests, which ask as they go). */
export class OracleSession {
  private readonly child;
  private buffered = '';
  private readonly waiting: ((line: string) => void)[] = [];
  private failure: Error | undefined;

  private constructor(binary: string) {
    this.child = execFile(binary, ['-lines'], { maxBuffer: 256 * 1024 * 1024, env: process.env });
    this.child.stdout?.setEncoding('utf8');
    this.child.stdout?.on('data', (chunk: string) => {
      this.buffered += chunk;
      for (let nl = this.buffered.indexOf('\n'); nl >= 0; nl = this.buffered.indexOf('\n')) {
        const line = this.buffered.slice(0, nl);
        this.buffered = this.buffered.slice(nl + 1);
        this.waiting.shift()?.(line);
      }
    });
    let stderr = '';
    this.child.stderr?.on('data', (chunk: string) => (stderr += chunk));
    this.child.on('close', (code) => {
      this.failure = new Error(`go-oracle exited ${code}: ${stderr}`);
    });
  }

  static async start(): Promise<OracleSession> {
    return new OracleSession(await oracleBinary());
  }

  render(c: OracleCase): Promise<OracleResult> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((ok) => {
      this.waiting.push((line) => ok(JSON.parse(line) as OracleResult));
      this.child.stdin?.write(`${JSON.stringify({ ...c, data: c.data ?? null })}\n`);
    });
  }

  close(): void {
    this.child.stdin?.end();
  }
}

/** The same case through confd-ts's Go engine; errors as Go prints them (without confd-ts's path prefix). */
/**
 * The one place confd-ts departs from Go on purpose: a helper refusing a value never quotes it (store
 * values can be secrets), it names the key holding it (docs/templates.md). Such errors are compared up to
 * the helper's name: where the template failed and which call failed must agree, the detail may not.
 */
const VALUE_REFUSING = /(error calling (?:atoi|parseBool|json|jsonArray|base64Decode)): .*$/s;

export function comparable(result: OracleResult): OracleResult {
  if (result.error === undefined) return result;
  return { error: result.error.replace(VALUE_REFUSING, '$1: <the refused value, described>') };
}

/**
 * The other departure: base64Decode refuses bytes that are not UTF-8 text (written out they would come out
 * mangled), where Go copies them through. Go's result stands for ours then, whatever Go did with it.
 */
export function asGoWouldHave(go: OracleResult, ours: OracleResult): OracleResult {
  const refusedBytes = ours.error?.includes('does not decode to UTF-8 text') === true;
  return refusedBytes && go.error === undefined ? go : ours;
}

export async function runEngine(c: OracleCase): Promise<OracleResult> {
  const { GoTemplate } = await import('../../src/template/go/template.js');
  const { renderGo } = await import('../../src/template/go/compile.js');
  const { dynamicOf, INVALID } = await import('../../src/template/go/values.js');
  const { KVStore } = await import('../../src/template/kv-store.js');
  const name = c.name ?? 'test.tmpl';
  const path = `/oracle/${name}`;
  // A name the case does not list does not exist (NXDOMAIN): an answer, which confd-ts turns into an
  // empty list as confd does (a lookup that fails otherwise is an error of its own, see dns-lookups.ts).
  const noSuchName = (what: string) =>
    Object.assign(new Error(`no such name ${what}`), { code: 'ENOTFOUND' });
  const resolver = {
    lookupIP: (host: string) =>
      c.ips?.[host] ? Promise.resolve([...c.ips[host]]) : Promise.reject(noSuchName(host)),
    lookupSRV: (service: string, proto: string, host: string) => {
      const records = c.srv?.[`${service}/${proto}/${host}`];
      return records ? Promise.resolve(records.map((r) => ({ ...r }))) : Promise.reject(noSuchName(host));
    },
  };
  try {
    const template = GoTemplate.parse(name, c.template);
    const data = c.data === undefined ? INVALID : (dynamicOf(c.data) ?? INVALID);
    const output = await renderGo(
      template,
      path,
      new KVStore(c.kv ?? {}),
      { resolver, now: new Date(c.now ?? 0) },
      data,
    );
    return { output };
  } catch (err) {
    const message = (err as Error).message;
    return { error: message.startsWith(`${path}: `) ? message.slice(path.length + 2) : message };
  }
}
