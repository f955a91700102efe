import Handlebars from 'handlebars';
import type { CompiledTemplate } from './compiled-template.js';
import type { EngineChoice } from './engine.js';
import { engineHint } from './engine.js';
import { registerGoConditionals } from './helpers/go-conditionals.js';
import { HELPER_NAMES } from './helpers/helper-specs.js';
import { createHelpers, PRINT_HELPER } from './helpers/registry.js';
import { renderInPasses } from './render-passes.js';
import { prepareTemplateAst } from './template-ast.js';
import { toTemplateError } from './template-errors.js';

// Handlebars' `log` is left out on purpose: it would write to stdout, past the logger.
const KNOWN_HELPERS = new Set([...HELPER_NAMES, PRINT_HELPER, 'if', 'unless', 'each', 'with', 'lookup']);

const COMPILE_OPTIONS = {
  // Config files, not HTML: never escape.
  noEscape: true,
  knownHelpers: Object.fromEntries([...KNOWN_HELPERS].map((name) => [name, true])),
};

/** Isolated from the global Handlebars instance: nothing anyone else registers leaks into templates. */
let environment: typeof Handlebars | undefined;

/**
 * Compiles Handlebars template text; `path` names it in errors. A compile failure says it was read as
 * Handlebars when `choice` tells why (templates compiled from a file).
 */
export function compileHandlebarsSource(
  source: string,
  path: string,
  choice?: EngineChoice,
): CompiledTemplate {
  environment ??= createEnvironment();
  const hb = environment;
  let template: HandlebarsTemplateDelegate;
  try {
    // hb.compile would compile on the first render, so a broken template would fail mid-run. Precompiling
    // surfaces every compile error now, and loading its output (Handlebars' own form for precompiled
    // templates) is the one compile: no second pass through the compiler.
    // The typings call precompile's result a TemplateSpecification; it is that object's JavaScript source.
    const spec = hb.precompile(prepare(hb, source), COMPILE_OPTIONS) as unknown as string;
    // eslint-disable-next-line @typescript-eslint/no-implied-eval -- code Handlebars generated from the template, as hb.compile itself evaluates
    const load = new Function(`return ${spec}`) as () => TemplateSpecification;
    template = hb.template(load());
  } catch (err) {
    const error = toTemplateError(err, path);
    if (choice) error.message += engineHint(choice);
    throw error;
  }
  return {
    path,
    render(store, options = {}) {
      return renderInPasses(path, store, options, (ctx) => {
        try {
          return template({}, { helpers: createHelpers(ctx) });
        } catch (err) {
          throw toTemplateError(err, path);
        }
      });
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
