import { basename } from 'node:path';
import { TemplateError } from '../../errors.js';
import type { CompiledTemplate, RenderOptions } from '../compiled-template.js';
import type { EngineChoice } from '../engine.js';
import { engineHint } from '../engine.js';
import type { KVStore } from '../kv-store.js';
import { renderInPasses } from '../render-passes.js';
import { confdFuncs } from './confd-funcs.js';
import { ExecError } from './exec.js';
import { FuncError } from './func.js';
import { ParseError } from './parser.js';
import { GoTemplate } from './template.js';
import type { Value } from './values.js';
import { INVALID } from './values.js';

/**
 * The Go engine behind CompiledTemplate. Like confd, the template is named by its file's base name and
 * executed with nil data; errors keep Go's text ("template: app.tmpl:3:7: executing ...") behind the
 * full path of the file.
 */
export function compileGoSource(source: string, path: string, choice?: EngineChoice): CompiledTemplate {
  let template: GoTemplate;
  try {
    template = GoTemplate.parse(basename(path), source);
  } catch (err) {
    if (!(err instanceof ParseError)) throw err;
    throw new TemplateError(
      `${path}: ${err.message}${choice ? engineHint(choice) : ''}`,
      path,
      lineOf(err.message),
      undefined,
      {
        cause: err,
      },
    );
  }
  return {
    path,
    render: (store, options = {}) => renderGo(template, path, store, options, INVALID),
  };
}

/** Renders in DNS passes, with `data` as dot ($); confd always passes nil, tests pass JSON data. */
export function renderGo(
  template: GoTemplate,
  path: string,
  store: KVStore,
  options: RenderOptions,
  data: Value,
): Promise<string> {
  // A fixed clock (tests, docs) has no monotonic reading to print.
  const monotonic = options.now === undefined;
  return renderInPasses(path, store, options, (ctx) => {
    try {
      return template.execute(data, confdFuncs(ctx, monotonic));
    } catch (err) {
      if (!(err instanceof ExecError)) throw err;
      const key = err.cause instanceof FuncError ? err.cause.key : undefined;
      throw new TemplateError(`${path}: ${err.message}`, path, lineOf(err.message), key, { cause: err });
    }
  });
}

function lineOf(message: string): number | undefined {
  const match = /^template: .*?:(\d+)(?::\d+)?: /.exec(message);
  return match ? Number(match[1]) : undefined;
}
