import { HelperCallError } from './helper-call-error.js';

type Program = hbs.AST.Program;
type Expression = hbs.AST.Expression;
type PathExpression = hbs.AST.PathExpression;
type Call = hbs.AST.MustacheStatement | hbs.AST.BlockStatement | hbs.AST.SubExpression;

/** Words from Go's template language that turn up when a confd template is converted by hand. */
const GO_ACTIONS = new Set(['range', 'end', 'define', 'template', 'block', 'else', '-']);

/**
 * Prepares a parsed template before Handlebars compiles it:
 *  - every call of a helper that does not exist fails now, with its line, instead of at render time
 *    (or, for a typo in a rarely taken branch, never);
 *  - every `{{expression}}` is routed through `printHelper`, so values print as in Go.
 * Mutates `ast` in place.
 */
export function prepareTemplateAst(
  ast: Program,
  knownHelpers: ReadonlySet<string>,
  printHelper: string,
): void {
  new Preparer(knownHelpers, printHelper).program(ast, []);
}

class Preparer {
  constructor(
    private readonly known: ReadonlySet<string>,
    private readonly printHelper: string,
  ) {}

  program(program: Program, scope: readonly string[]): void {
    for (const statement of program.body) this.statement(statement, scope);
  }

  private statement(node: hbs.AST.Statement, scope: readonly string[]): void {
    switch (node.type) {
      case 'MustacheStatement': {
        const mustache = node as hbs.AST.MustacheStatement;
        this.call(mustache, scope);
        this.printThrough(mustache, scope);
        return;
      }
      case 'BlockStatement': {
        const block = node as hbs.AST.BlockStatement;
        this.call(block, scope);
        if (block.program) this.program(block.program, [...scope, ...(block.program.blockParams ?? [])]);
        if (block.inverse) this.program(block.inverse, scope);
        return;
      }
      case 'PartialStatement':
      case 'PartialBlockStatement': {
        const partial = node as hbs.AST.PartialStatement | hbs.AST.PartialBlockStatement;
        for (const param of partial.params) this.expression(param, scope);
        if ('program' in partial && partial.program) this.program(partial.program, scope);
        return;
      }
      default:
        return;
    }
  }

  private expression(node: Expression, scope: readonly string[]): void {
    if (node.type === 'SubExpression') this.call(node as hbs.AST.SubExpression, scope);
  }

  /** Checks the helper a call names, then its arguments. */
  private call(node: Call, scope: readonly string[]): void {
    const name = helperName(node.path, scope);
    const invokes = node.type === 'SubExpression' || node.params.length > 0 || node.hash !== undefined;
    if (name !== undefined && invokes && !this.known.has(name)) {
      const hint =
        GO_ACTIONS.has(name) || name.startsWith('$') ? ' (Go template syntax; see docs/templates.md)' : '';
      throw new HelperCallError(
        `unknown helper "${name}"${hint}`,
        node.loc.start.line,
        node.loc.start.column + 1,
      );
    }
    for (const param of node.params) this.expression(param, scope);
    for (const pair of node.hash?.pairs ?? []) this.expression(pair.value, scope);
  }

  /** `{{x ...}}` becomes `{{printHelper (x ...)}}`; a plain lookup `{{a.b}}` becomes `{{printHelper a.b}}`. */
  private printThrough(node: hbs.AST.MustacheStatement, scope: readonly string[]): void {
    if (node.path.type !== 'PathExpression') return;
    const path = node.path as PathExpression;
    const name = helperName(path, scope);
    const callsHelper =
      node.params.length > 0 || node.hash !== undefined || (name !== undefined && this.known.has(name));
    if (path.data && callsHelper) return;
    const value: Expression = callsHelper
      ? ({
          type: 'SubExpression',
          path,
          params: node.params,
          hash: node.hash,
          loc: node.loc,
        } as hbs.AST.SubExpression)
      : path;
    node.path = {
      type: 'PathExpression',
      data: false,
      depth: 0,
      parts: [this.printHelper],
      original: this.printHelper,
      loc: node.loc,
    };
    node.params = [value];
    (node as { hash?: hbs.AST.Hash }).hash = undefined;
  }
}

/** The helper a path could name: a bare identifier that is not a block parameter in scope. */
function helperName(path: PathExpression | hbs.AST.Literal, scope: readonly string[]): string | undefined {
  if (path.type !== 'PathExpression') return undefined;
  const p = path as PathExpression;
  if (p.data || p.depth > 0 || p.parts.length !== 1 || /^\.|this\b/.test(p.original)) return undefined;
  const name = p.parts[0] as string;
  return scope.includes(name) ? undefined : name;
}
