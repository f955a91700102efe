import type { Item } from './lexer.js';
import { itemString, T } from './lexer.js';
import type { CommandNode, Node, NumberNode, PipeNode, TreeRef, VariableNode } from './nodes.js';
import { nodeString } from './nodes.js';
import { parseNumber } from './numbers.js';
import { quote, SyntaxError as QuoteSyntaxError, unquote } from './strconv.js';

/**
 * The token and pipeline half of text/template's parser (parse/parse.go): Go's three-token lookahead over
 * the shared item stream, its error texts, and pipelines, commands, operands and terms with variable
 * scoping. parser.ts builds trees and control structures on top.
 */
export class ParseError extends Error {
  override name = 'ParseError';
}

/** What the trees of one parse read from: the items, the position in them, the function names. */
export interface TokenSource {
  readonly items: Item[];
  next: number;
  readonly hasFunction: (name: string) => boolean;
  readonly text: string;
  readonly parseName: string;
}

const ZERO_ITEM: Item = { typ: T.Error, pos: 0, val: '', line: 0 };

export class PipelineParser implements TreeRef {
  readonly parseName: string;
  readonly text: string;
  protected readonly token: Item[] = [ZERO_ITEM, ZERO_ITEM, ZERO_ITEM];
  protected peekCount = 0;
  protected vars: string[] = ['$'];
  protected actionLine = 0;

  constructor(protected readonly shared: TokenSource) {
    this.parseName = shared.parseName;
    this.text = shared.text;
  }

  // ------------------------------------------------------------------ tokens

  protected lexNext(): Item {
    return this.shared.items[this.shared.next++] ?? ZERO_ITEM;
  }

  protected next(): Item {
    if (this.peekCount > 0) this.peekCount--;
    else this.token[0] = this.lexNext();
    return this.token[this.peekCount] as Item;
  }

  protected backup(): void {
    this.peekCount++;
  }

  protected backup2(t1: Item): void {
    this.token[1] = t1;
    this.peekCount = 2;
  }

  protected backup3(t2: Item, t1: Item): void {
    this.token[1] = t1;
    this.token[2] = t2;
    this.peekCount = 3;
  }

  protected peek(): Item {
    if (this.peekCount > 0) return this.token[this.peekCount - 1] as Item;
    this.peekCount = 1;
    this.token[0] = this.lexNext();
    return this.token[0];
  }

  protected nextNonSpace(): Item {
    let token: Item;
    do token = this.next();
    while (token.typ === T.Space);
    return token;
  }

  protected peekNonSpace(): Item {
    const token = this.nextNonSpace();
    this.backup();
    return token;
  }

  // ------------------------------------------------------------------ errors

  protected errorf(message: string): never {
    throw new ParseError(`template: ${this.parseName}:${this.token[0]?.line ?? 0}: ${message}`);
  }

  protected expect(expected: T, context: string): Item {
    const token = this.nextNonSpace();
    if (token.typ !== expected) this.unexpected(token, context);
    return token;
  }

  protected expectOneOf(a: T, b: T, context: string): Item {
    const token = this.nextNonSpace();
    if (token.typ !== a && token.typ !== b) this.unexpected(token, context);
    return token;
  }

  protected unexpected(token: Item, context: string): never {
    if (token.typ === T.Error) {
      let extra = '';
      if (this.actionLine !== 0 && this.actionLine !== token.line) {
        extra = ` in action started at ${this.parseName}:${this.actionLine}`;
        if (token.val.endsWith(' action')) extra = extra.slice(' in action'.length);
      }
      this.errorf(`${itemString(token)}${extra}`);
    }
    this.errorf(`unexpected ${itemString(token)} in ${context}`);
  }

  protected pipeline(context: string, end: T): PipeNode {
    const token = this.peekNonSpace();
    const pipe: PipeNode = { type: 'pipe', pos: token.pos, tree: this, isAssign: false, decl: [], cmds: [] };
    decls: for (;;) {
      const v = this.peekNonSpace();
      if (v.typ !== T.Variable) break;
      this.next();
      // Spaces are significant here: $x := ... versus $x (a command).
      const tokenAfterVariable = this.peek();
      const next = this.peekNonSpace();
      if (next.typ === T.Assign || next.typ === T.Declare) {
        pipe.isAssign = next.typ === T.Assign;
        this.nextNonSpace();
        pipe.decl.push(this.newVariable(v.pos, v.val));
        this.vars.push(v.val);
      } else if (next.typ === T.Char && next.val === ',') {
        this.nextNonSpace();
        pipe.decl.push(this.newVariable(v.pos, v.val));
        this.vars.push(v.val);
        if (context === 'range' && pipe.decl.length < 2) {
          const after = this.peekNonSpace().typ;
          if (after === T.Variable || after === T.RightDelim || after === T.RightParen) continue decls;
          this.errorf('range can only initialize variables');
        }
        this.errorf(`too many declarations in ${context}`);
      } else if (tokenAfterVariable.typ === T.Space) {
        this.backup3(v, tokenAfterVariable);
      } else {
        this.backup2(v);
      }
      break;
    }
    for (;;) {
      const t = this.nextNonSpace();
      if (t.typ === end) {
        this.checkPipeline(pipe, context);
        return pipe;
      }
      switch (t.typ) {
        case T.Bool:
        case T.CharConstant:
        case T.Complex:
        case T.Dot:
        case T.Field:
        case T.Identifier:
        case T.Number:
        case T.Nil:
        case T.RawString:
        case T.String:
        case T.Variable:
        case T.LeftParen:
          this.backup();
          pipe.cmds.push(this.command());
          break;
        default:
          this.unexpected(t, context);
      }
    }
  }

  protected checkPipeline(pipe: PipeNode, context: string): void {
    if (pipe.cmds.length === 0) this.errorf(`missing value for ${context}`);
    pipe.cmds.slice(1).forEach((c, i) => {
      const first = c.args[0]?.type;
      if (
        first === 'bool' ||
        first === 'dot' ||
        first === 'nil' ||
        first === 'number' ||
        first === 'string'
      ) {
        this.errorf(`non executable command in pipeline stage ${i + 2}`);
      }
    });
  }

  protected command(): CommandNode {
    const cmd: CommandNode = { type: 'command', pos: this.peekNonSpace().pos, tree: this, args: [] };
    for (;;) {
      this.peekNonSpace(); // skip leading spaces.
      const operand = this.operand();
      if (operand) cmd.args.push(operand);
      const token = this.next();
      if (token.typ === T.Space) continue;
      if (token.typ === T.RightDelim || token.typ === T.RightParen) this.backup();
      else if (token.typ !== T.Pipe) this.unexpected(token, 'operand');
      break;
    }
    if (cmd.args.length === 0) this.errorf('empty command');
    return cmd;
  }

  protected operand(): Node | undefined {
    const node = this.term();
    if (!node) return undefined;
    if (this.peek().typ !== T.Field) return node;
    const pos = this.peek().pos;
    const fields: string[] = [];
    while (this.peek().typ === T.Field) fields.push(this.next().val.slice(1));
    switch (node.type) {
      case 'field':
        return { type: 'field', pos, tree: this, ident: [...node.ident, ...fields] };
      case 'variable':
        return { type: 'variable', pos, tree: this, ident: [...node.ident, ...fields] };
      case 'bool':
      case 'string':
      case 'number':
      case 'nil':
      case 'dot':
        this.errorf(`unexpected . after term ${quote(nodeString(node))}`);
      // falls through: errorf never returns
      default:
        return { type: 'chain', pos, tree: this, node, field: fields };
    }
  }

  protected term(): Node | undefined {
    const token = this.nextNonSpace();
    switch (token.typ) {
      case T.Identifier:
        if (!this.shared.hasFunction(token.val)) this.errorf(`function ${quote(token.val)} not defined`);
        return { type: 'identifier', pos: token.pos, tree: this, ident: token.val };
      case T.Dot:
        return { type: 'dot', pos: token.pos, tree: this };
      case T.Nil:
        return { type: 'nil', pos: token.pos, tree: this };
      case T.Variable:
        return this.useVar(token.pos, token.val);
      case T.Field:
        return { type: 'field', pos: token.pos, tree: this, ident: token.val.slice(1).split('.') };
      case T.Bool:
        return { type: 'bool', pos: token.pos, tree: this, value: token.val === 'true' };
      case T.CharConstant:
      case T.Complex:
      case T.Number:
        return this.newNumber(token);
      case T.LeftParen:
        return this.pipeline('parenthesized pipeline', T.RightParen);
      case T.String:
      case T.RawString:
        return {
          type: 'string',
          pos: token.pos,
          tree: this,
          quoted: token.val,
          text: this.unquote(token.val),
        };
    }
    this.backup();
    return undefined;
  }

  protected newNumber(token: Item): NumberNode {
    const kind = token.typ === T.CharConstant ? 'char' : token.typ === T.Complex ? 'complex' : 'number';
    let value;
    try {
      value = parseNumber(token.val, kind);
    } catch (err) {
      this.errorf((err as Error).message);
    }
    return { type: 'number', pos: token.pos, tree: this, text: token.val, ...value };
  }

  protected unquote(text: string): string {
    try {
      return unquote(text);
    } catch (err) {
      if (err instanceof QuoteSyntaxError) this.errorf(err.message);
      throw err;
    }
  }

  protected newVariable(pos: number, ident: string): VariableNode {
    return { type: 'variable', pos, tree: this, ident: ident.split('.') };
  }

  protected useVar(pos: number, name: string): VariableNode {
    const v = this.newVariable(pos, name);
    if (!this.vars.includes(v.ident[0] as string))
      this.errorf(`undefined variable ${quote(v.ident[0] as string)}`);
    return v;
  }
}
