import { readFile } from 'node:fs/promises';
import Handlebars from 'handlebars';
import { errorMessage, TemplateError } from '../errors.js';
import { DEFAULT_LOOKUP_TIMEOUT_MS, DnsLookups } from './dns-lookups.js';
import type { DnsResolver } from './dns-lookups.js';
import { registerGoConditionals } from './helpers/go-conditionals.js';
import { createHelpers, HELPER_NAMES, PRINT_HELPER } from './helpers/registry.js';
import type { KVStore } from './kv-store.js';
import { systemResolver } from './system-resolver.js';
import { prepareTemplateAst } from './template-ast.js';
import { toTemplateError } from './template-errors.js';

export interface RenderOptions {
  /** Where DNS helpers look names up; the system resolver by default. */
  resolver?: DnsResolver;
  /** The time `datetime` reports; now by default. */
  now?: Date;
  /**
   * Deadline for each DNS lookup a helper makes (`-request-timeout`); 10 s by default. A lookup still
   * unanswered then fails the render with ETIMEOUT.
   */
  lookupTimeoutMs?: number;
}

export interface CompiledTemplate {
  readonly path: string;
  /** Renders against one store. Safe to call repeatedly and concurrently: nothing is kept between renders. */
  render(store: KVStore, options?: RenderOptions): Promise<string>;
}

/** A render that keeps queueing new DNS names (each answer naming another) gives up after this many passes. */
const MAX_RENDER_PASSES = 8;

// Handlebars' `log` is left out on purpose: it would write to stdout, past the logger.
const KNOWN_HELPERS = new Set([...HELPER_NAMES, PRINT_HELPER, 'if', 'unless', 'each', 'with', 'lookup']);

const COMPILE_OPTIONS = {
  // Config files, not HTML: never escape.
  noEscape: true,
  knownHelpers: Object.fromEntries([...KNOWN_HELPERS].map((name) => [name, true])),
};

/** Isolated from the global Handlebars instance: nothing anyone else registers leaks into templates. */
let environment: typeof Handlebars | undefined;

/** Reads and compiles a template file once; syntax errors and unknown helpers fail here, with the line. */
export async function compileTemplate(path: string): Promise<CompiledTemplate> {
  let source: string;
  try {
    source = await readFile(path, 'utf8');
  } catch (err) {
    throw new TemplateError(
      `${path}: cannot read template: ${errorMessage(err)}`,
      path,
      undefined,
      undefined,
      {
        cause: err,
      },
    );
  }
  return compileTemplateSource(source, path);
}

/** Compiles template text; `path` names it in errors. */
export function compileTemplateSource(source: string, path: string): CompiledTemplate {
  environment ??= createEnvironment();
  const hb = environment;
  let template: HandlebarsTemplateDelegate;
  try {
    // Handlebars compiles lazily; precompiling once surfaces every compile error now rather than mid-render.
    hb.precompile(prepare(hb, source), COMPILE_OPTIONS);
    template = hb.compile(prepare(hb, source), COMPILE_OPTIONS);
  } catch (err) {
    throw toTemplateError(err, path);
  }
  return {
    path,
    async render(store, options = {}) {
      const timeoutMs = options.lookupTimeoutMs ?? DEFAULT_LOOKUP_TIMEOUT_MS;
      const dns = new DnsLookups(options.resolver ?? systemResolver({ timeoutMs }), { timeoutMs });
      const helpers = createHelpers({ store, dns, now: options.now ?? new Date() });
      for (let pass = 1; ; pass++) {
        let output = '';
        let failure: { error: unknown } | undefined;
        try {
          output = template({}, { helpers });
        } catch (error) {
          failure = { error };
        }
        // A pass that queued lookups ran on empty answers, so its output (or failure) does not count yet.
        if (!dns.pending) {
          if (failure) throw toTemplateError(failure.error, path);
          return output;
        }
        if (pass === MAX_RENDER_PASSES) {
          throw new TemplateError(`${path}: DNS lookups still unresolved after ${pass} render passes`, path);
        }
        await dns.resolvePending();
      }
    },
  };
}

function createEnvironment(): typeof Handlebars {
  const hb = Handlebars.create();
  registerGoConditionals(hb);
  return hb;
}

/**
 * Parses without Handlebars' standalone-line processing, which compile applies itself (applying it twice
 * would eat blank lines), then checks helpers and routes output through the Go-style printer.
 */
function prepare(hb: typeof Handlebars, source: string): hbs.AST.Program {
  const ast = hb.parseWithoutProcessing(source);
  prepareTemplateAst(ast, KNOWN_HELPERS, PRINT_HELPER);
  return ast;
}
