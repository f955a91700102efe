import type { Item } from './lexer.js';
import { lex } from './lex.js';
import { T } from './lexer.js';
import type { BranchNode, ListNode, Node, PipeNode, TemplateNode, TreeRef } from './nodes.js';
import { nodeString } from './nodes.js';
import type { TokenSource } from './parse-pipeline.js';
import { PipelineParser } from './parse-pipeline.js';
import { quote } from './strconv.js';

/**
 * text/template's parser (parse/parse.go, Go 1.19): recursive descent over the lexer's items with Go's
 * three-token lookahead, variable scoping and error texts ("template: NAME:LINE: unexpected ..."). One
 * call parses one file into its named trees: the file itself and each {{define}} / {{block}}.
 */
export interface Tree extends TreeRef {
  readonly name: string;
  readonly root: ListNode;
}

export { ParseError } from './parse-pipeline.js';

/** Parses `text` as the template `name`; `hasFunction` says which identifiers are functions. */
export function parseTemplates(
  name: string,
  text: string,
  hasFunction: (name: string) => boolean,
): Map<string, Tree> {
  const items = lex(text, { breakOK: !hasFunction('break'), continueOK: !hasFunction('continue') });
  const shared: Shared = { items, next: 0, treeSet: new Map(), hasFunction, text, parseName: name };
  const parser = new Parser(name, shared);
  parser.parse();
  parser.add();
  return shared.treeSet;
}

interface Shared extends TokenSource {
  readonly treeSet: Map<string, Tree>;
}

/** One Tree being parsed; {{define}} and {{block}} bodies get their own, sharing the item stream. */
class Parser extends PipelineParser {
  root: ListNode | undefined;
  private rangeDepth = 0;

  constructor(
    public name: string,
    private readonly all: Shared,
  ) {
    super(all);
  }

  // ------------------------------------------------------------------ trees

  add(): void {
    const root = this.root as ListNode;
    const existing = this.all.treeSet.get(this.name);
    if (!existing || isEmptyTree(existing.root)) {
      this.all.treeSet.set(this.name, {
        name: this.name,
        parseName: this.parseName,
        text: this.text,
        root,
      });
      return;
    }
    if (!isEmptyTree(root)) this.errorf(`template: multiple definition of template ${quote(this.name)}`);
  }

  parse(): void {
    this.root = this.newList(this.peek().pos);
    while (this.peek().typ !== T.EOF) {
      if (this.peek().typ === T.LeftDelim) {
        const delim = this.next();
        if (this.nextNonSpace().typ === T.Define) {
          const definition = new Parser('definition', this.all);
          definition.parseDefinition();
          continue;
        }
        this.backup2(delim);
      }
      const n = this.textOrAction();
      if (n.type === 'end' || n.type === 'else') this.errorf(`unexpected ${nodeString(n)}`);
      this.root.nodes.push(n);
    }
  }

  protected parseDefinition(): void {
    const context = 'define clause';
    const name = this.expectOneOf(T.String, T.RawString, context);
    this.name = this.unquote(name.val);
    this.expect(T.RightDelim, context);
    const [list, end] = this.itemList();
    this.root = list;
    if (end.type !== 'end') this.errorf(`unexpected ${nodeString(end)} in ${context}`);
    this.add();
  }

  protected itemList(): [ListNode, Node] {
    const list = this.newList(this.peekNonSpace().pos);
    while (this.peekNonSpace().typ !== T.EOF) {
      const n = this.textOrAction();
      if (n.type === 'end' || n.type === 'else') return [list, n];
      list.nodes.push(n);
    }
    this.errorf('unexpected EOF');
  }

  protected textOrAction(): Node {
    const token = this.nextNonSpace();
    switch (token.typ) {
      case T.Text:
        return { type: 'text', pos: token.pos, tree: this, text: token.val };
      case T.LeftDelim:
        this.actionLine = token.line;
        try {
          return this.action();
        } finally {
          this.actionLine = 0;
        }
      default:
        this.unexpected(token, 'input');
    }
  }

  protected action(): Node {
    const token = this.nextNonSpace();
    switch (token.typ) {
      case T.Block:
        return this.blockControl();
      case T.Break:
        return this.loopControl('break', token);
      case T.Continue:
        return this.loopControl('continue', token);
      case T.Else:
        return this.elseControl();
      case T.End:
        return { type: 'end', pos: this.expect(T.RightDelim, 'end').pos, tree: this };
      case T.If:
        return this.branch('if', true);
      case T.Range:
        return this.branch('range', false);
      case T.Template:
        return this.templateControl();
      case T.With:
        return this.branch('with', false);
    }
    this.backup();
    const first = this.peek();
    return { type: 'action', pos: first.pos, tree: this, pipe: this.pipeline('command', T.RightDelim) };
  }

  protected loopControl(kind: 'break' | 'continue', keyword: Item): Node {
    const token = this.nextNonSpace();
    if (token.typ !== T.RightDelim) this.unexpected(token, `{{${kind}}}`);
    if (this.rangeDepth === 0) this.errorf(`{{${kind}}} outside {{range}}`);
    return { type: kind, pos: keyword.pos, tree: this };
  }

  protected branch(kind: BranchNode['type'], allowElseIf: boolean): BranchNode {
    const mark = this.vars.length;
    try {
      const pipe = this.pipeline(kind, T.RightDelim);
      if (kind === 'range') this.rangeDepth++;
      const [list, first] = this.itemList();
      let next = first;
      if (kind === 'range') this.rangeDepth--;
      let elseList: ListNode | undefined;
      if (next.type === 'else') {
        if (allowElseIf && this.peek().typ === T.If) {
          // "{{else if ...}}" is an if nested in the else branch, ending at the same {{end}}.
          this.next();
          elseList = this.newList(next.pos);
          elseList.nodes.push(this.branch('if', true));
        } else {
          [elseList, next] = this.itemList();
          if (next.type !== 'end') this.errorf(`expected end; found ${nodeString(next)}`);
        }
      }
      return { type: kind, pos: pipe.pos, tree: this, pipe, list, elseList };
    } finally {
      this.vars.length = mark;
    }
  }

  protected elseControl(): Node {
    const peek = this.peekNonSpace();
    if (peek.typ === T.If) return { type: 'else', pos: peek.pos, tree: this };
    const token = this.expect(T.RightDelim, 'else');
    return { type: 'else', pos: token.pos, tree: this };
  }

  protected blockControl(): Node {
    const context = 'block clause';
    const token = this.nextNonSpace();
    const name = this.parseTemplateName(token, context);
    const pipe = this.pipeline(context, T.RightDelim);
    const block = new Parser(name, this.all);
    const [list, end] = block.itemList();
    block.root = list;
    if (end.type !== 'end') this.errorf(`unexpected ${nodeString(end)} in ${context}`);
    block.add();
    return this.newTemplate(token.pos, name, pipe);
  }

  protected templateControl(): Node {
    const context = 'template clause';
    const token = this.nextNonSpace();
    const name = this.parseTemplateName(token, context);
    let pipe: PipeNode | undefined;
    if (this.nextNonSpace().typ !== T.RightDelim) {
      this.backup();
      pipe = this.pipeline(context, T.RightDelim);
    }
    return this.newTemplate(token.pos, name, pipe);
  }

  protected newTemplate(pos: number, name: string, pipe: PipeNode | undefined): TemplateNode {
    return { type: 'template', pos, tree: this, name, pipe };
  }

  protected parseTemplateName(token: Item, context: string): string {
    if (token.typ === T.String || token.typ === T.RawString) return this.unquote(token.val);
    this.unexpected(token, context);
  }

  protected newList(pos: number): ListNode {
    return { type: 'list', pos, tree: this, nodes: [] };
  }
}

/** parse.IsEmptyTree: only whitespace text and comments. */
export function isEmptyTree(node: Node | undefined): boolean {
  if (!node) return true;
  switch (node.type) {
    case 'list':
      return node.nodes.every(isEmptyTree);
    case 'comment':
      return true;
    case 'text':
      return ONLY_SPACE.test(node.text);
    default:
      return false;
  }
}

/** Go's unicode.IsSpace, which bytes.TrimSpace uses (JavaScript's trim() differs on U+0085 and U+FEFF). */
const ONLY_SPACE = /^[\t\n\v\f\r \u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*$/;
