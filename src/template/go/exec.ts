import { Evaluator, isTrue, MISSING, type Variable } from './exec-args.js';
import { sprint } from './fmt.js';
import type { GoFunc } from './func.js';
import { methodOf } from './methods.js';
import type {
  ActionNode,
  BranchNode,
  ChainNode,
  CommandNode,
  FieldNode,
  IdentifierNode,
  Node,
  PipeNode,
  TemplateNode,
  VariableNode,
} from './nodes.js';
import { nodeString } from './nodes.js';
import type { Tree } from './parser.js';
import { quote } from './strconv.js';
import type { GoType } from './types.js';
import { BOOL, fieldOf, INT, STRING } from './types.js';
import {
  INVALID,
  indexSlice,
  indirect,
  indirectInterface,
  isValid,
  lengthOf,
  mapEntry,
  sortedKeys,
  slotValue,
  Value,
} from './values.js';

export { ExecError, isTrue } from './exec-args.js';

/**
 * text/template's executor (exec.go, Go 1.19): walks a parsed tree against a data value, with Go's
 * variable scoping, truth, range/with/if/template semantics, argument conversion and error texts
 * ("template: NAME:LINE:COL: executing "NAME" at <NODE>: ..."). Only the declared fields of the closed
 * set of Go types, own keys of maps and allow-listed methods are reachable.
 */
export interface Templates {
  /** The template named `name` (the file itself, or a {{define}} / {{block}}). */
  lookup(name: string): Tree | undefined;
  /** confd's functions first, then the builtins, as Go's findFunction. */
  findFunction(name: string): { fn: GoFunc; builtin: boolean } | undefined;
}

/** Go reports a runaway recursion at this depth; JavaScript's stack gives out first, see walkTemplate. */
const MAX_EXEC_DEPTH = 100000;

/** {{break}} and {{continue}} unwind like Go's panics; one instance each, so no stack is captured per loop. */
class LoopSignal extends Error {}
const BREAK = new LoopSignal('break');
const CONTINUE = new LoopSignal('continue');

/**
 * `{{.Name}}` on a struct whose exported field Name is a Go string, with no method of that name: what the
 * general path (pipeline, command, field chain, a Value for the field, printValue) comes to is printing
 * the field's text as it is. A range over `gets` runs `{{.Key}}` and `{{.Value}}` once per pair: at
 * 10,000 pairs that path was most of the render. Decided once per action, for the first receiver type it
 * meets there; any other type at that action, and any other action, goes the general way.
 */
interface FieldShortcut {
  readonly type: GoType;
  readonly name: string;
}

const fieldShortcuts = new WeakMap<ActionNode, FieldShortcut | null>();

function fieldShortcut(node: ActionNode, dot: Value): FieldShortcut | null {
  const { pipe } = node;
  const args = pipe.cmds.length === 1 ? pipe.cmds[0]?.args : undefined;
  if (pipe.decl.length > 0 || args?.length !== 1) return null;
  const word = args[0] as Node;
  if (word.type !== 'field' || word.ident.length !== 1 || dot.type.kind !== 'struct') return null;
  const name = word.ident[0] as string;
  const slot = fieldOf(dot.type, name);
  if (!slot?.exported || slot.type !== STRING || methodOf(dot, name) !== undefined) return null;
  return { type: dot.type, name };
}

/**
 * A range body made of text and FieldShortcut actions only, as a range over `gets` usually is
 * (`{{range gets "/k/*"}}{{.Key}}={{.Value}}\n{{end}}`): each iteration pushes its parts in turn, with no
 * Value per element, no walk per node and no lookup of each action's shortcut. Decided once per range
 * node, for the element type of the first slice it meets there (a slice's elements share that static type
 * unless it is an interface, which is never taken); a slice of any other type at that node goes the
 * general way. Nothing in such a body can fail, reads a variable or breaks the loop, so skipping the
 * per-iteration variables and node positions changes nothing but the time (every step that can fail
 * records its own node first).
 */
interface RangeBody {
  readonly type: GoType;
  /** In order: a text to print, or the name of the string field of the element to print. */
  readonly parts: ReadonlyArray<string | { readonly field: string }>;
}

const rangeBodies = new WeakMap<BranchNode, RangeBody | null>();

function rangeBody(r: BranchNode, elem: Value): RangeBody | null {
  const parts: Array<string | { field: string }> = [];
  for (const node of r.list.nodes) {
    if (node.type === 'text') parts.push(node.text);
    else if (node.type === 'action') {
      const shortcut = fieldShortcut(node, elem);
      if (shortcut === null) return null;
      parts.push({ field: shortcut.name });
    } else if (node.type !== 'comment') return null;
  }
  return { type: elem.type, parts };
}

export function execute(templates: Templates, name: string, data: Value): string {
  const tree = templates.lookup(name);
  const shared: Shared = { templates, out: [], deepestCall: undefined };
  const state: State = new State(shared, name, [{ name: '$', value: data }], 0);
  if (!tree) state.errorf(`${quote(name)} is an incomplete or empty template`);
  try {
    state.walk(data, tree.root);
  } catch (err) {
    // JavaScript's call stack is shallower than Go's depth limit: a runaway {{template}} recursion is
    // reported as Go reports it, at the innermost call (found here, where there is stack to spare).
    if (err instanceof RangeError && shared.deepestCall) {
      const { node, name: caller } = shared.deepestCall;
      const at = new State(shared, caller, [], 0);
      at.node = node;
      at.errorf(`exceeded maximum template depth (${MAX_EXEC_DEPTH})`);
    }
    throw err;
  }
  return shared.out.join('');
}

/** What every template call of one execution shares. */
interface Shared {
  readonly templates: Templates;
  readonly out: string[];
  /** The innermost {{template}} call entered, for the depth error. */
  deepestCall: { node: TemplateNode; name: string } | undefined;
}

class State extends Evaluator {
  private readonly templates: Templates;
  private readonly out: string[];

  constructor(
    private readonly shared: Shared,
    name: string,
    vars: Variable[],
    private readonly depth: number,
  ) {
    super(name, vars);
    this.templates = shared.templates;
    this.out = shared.out;
  }

  // ------------------------------------------------------------------ walking

  walk(dot: Value, node: Node): void {
    this.at(node);
    switch (node.type) {
      case 'action': {
        let shortcut = fieldShortcuts.get(node);
        if (shortcut === undefined) {
          shortcut = fieldShortcut(node, dot);
          fieldShortcuts.set(node, shortcut);
        }
        if (shortcut !== null && dot.type === shortcut.type) {
          this.out.push((dot.v as Record<string, string>)[shortcut.name] as string);
          return;
        }
        const val = this.evalPipeline(dot, node.pipe);
        if (node.pipe.decl.length === 0) this.printValue(node, val);
        return;
      }
      case 'break':
        throw BREAK;
      case 'continue':
        throw CONTINUE;
      case 'comment':
        return;
      case 'if':
      case 'with':
        return this.walkIfOrWith(node, dot);
      case 'list': {
        // Indexed loops on the paths every range iteration takes: no iterator object per node list.
        const nodes = node.nodes;
        for (let i = 0; i < nodes.length; i++) this.walk(dot, nodes[i] as Node);
        return;
      }
      case 'range':
        return this.walkRange(dot, node);
      case 'template':
        return this.walkTemplate(dot, node);
      case 'text':
        this.out.push(node.text);
        return;
      default:
        this.errorf(`unknown node: ${nodeString(node)}`);
    }
  }

  private walkIfOrWith(node: BranchNode, dot: Value): void {
    const mark = this.mark();
    try {
      const val = this.evalPipeline(dot, node.pipe);
      if (isTrue(indirectInterface(val))) this.walk(node.type === 'with' ? val : dot, node.list);
      else if (node.elseList) this.walk(dot, node.elseList);
    } finally {
      this.pop(mark);
    }
  }

  private walkRange(dot: Value, r: BranchNode): void {
    this.at(r);
    const outer = this.mark();
    try {
      const [val] = indirect(this.evalPipeline(dot, r.pipe));
      const mark = this.mark();
      const oneIteration = (index: Value, elem: Value): void => {
        if (r.pipe.decl.length > 0) this.setTopVar(1, elem);
        if (r.pipe.decl.length > 1) this.setTopVar(2, index);
        try {
          this.walk(elem, r.list);
        } catch (err) {
          if (err !== CONTINUE) throw err;
        } finally {
          this.pop(mark);
        }
      };
      switch (val.type.kind) {
        case 'slice': {
          const n = lengthOf(val);
          if (n === 0) break;
          const elemType = val.type.elem as GoType;
          if (elemType.kind !== 'interface') {
            let body = rangeBodies.get(r);
            if (body === undefined) {
              body = rangeBody(r, indexSlice(val, 0));
              rangeBodies.set(r, body);
            }
            if (body !== null && body.type === elemType) {
              this.runRangeBody(body, val.v as ReadonlyArray<Record<string, string>>);
              return;
            }
          }
          // The index is a value only for a range that declares it ({{range $i, $e := ...}}).
          const indexed = r.pipe.decl.length > 1;
          for (let i = 0; i < n; i++) oneIteration(indexed ? new Value(INT, i) : INVALID, indexSlice(val, i));
          return;
        }
        case 'map': {
          const keys = sortedKeys(val);
          if (keys.length === 0) break;
          const keyType = val.type.key as GoType;
          for (const key of keys) oneIteration(new Value(keyType, key), mapEntry(val, key) as Value);
          return;
        }
        case 'invalid':
          break; // An invalid value is likely a nil map, etc. and acts like an empty map.
        default:
          this.errorf(`range can't iterate over ${sprint([val])}`);
      }
      if (r.elseList) this.walk(dot, r.elseList);
    } catch (err) {
      if (err !== BREAK) throw err;
    } finally {
      this.pop(outer);
    }
  }

  private runRangeBody(body: RangeBody, elems: ReadonlyArray<Record<string, string>>): void {
    const { out } = this;
    const { parts } = body;
    for (let i = 0; i < elems.length; i++) {
      const elem = elems[i] as Record<string, string>;
      for (let j = 0; j < parts.length; j++) {
        const part = parts[j] as string | { field: string };
        out.push(typeof part === 'string' ? part : (elem[part.field] as string));
      }
    }
  }

  private walkTemplate(dot: Value, t: TemplateNode): void {
    this.at(t);
    const tree = this.templates.lookup(t.name);
    if (!tree) this.errorf(`template ${quote(t.name)} not defined`);
    if (this.depth === MAX_EXEC_DEPTH) this.errorf(`exceeded maximum template depth (${MAX_EXEC_DEPTH})`);
    const newDot = this.evalPipeline(dot, t.pipe);
    this.shared.deepestCall = { node: t, name: this.name };
    new State(this.shared, t.name, [{ name: '$', value: newDot }], this.depth + 1).walk(newDot, tree.root);
  }

  // ------------------------------------------------------------------ pipelines and commands

  protected evalPipeline(dot: Value, pipe: PipeNode | undefined): Value {
    if (!pipe) return INVALID;
    this.at(pipe);
    let value = MISSING;
    const { cmds, decl } = pipe;
    for (let i = 0; i < cmds.length; i++) {
      value = this.evalCommand(dot, cmds[i] as CommandNode, value); // previous value is this one's final arg.
      // An interface {} result is replaced by what it holds (nil: no value at all).
      if (value.type.kind === 'interface') value = indirectInterface(value);
    }
    for (let i = 0; i < decl.length; i++) {
      const name = (decl[i] as VariableNode).ident[0] as string;
      if (pipe.isAssign) this.setVar(name, value);
      else this.vars.push({ name, value });
    }
    return value;
  }

  private notAFunction(args: readonly Node[], final: Value): void {
    if (args.length > 1 || final !== MISSING) {
      this.errorf(`can't give argument to non-function ${nodeString(args[0] as Node)}`);
    }
  }

  private evalCommand(dot: Value, cmd: CommandNode, final: Value): Value {
    const firstWord = cmd.args[0] as Node;
    switch (firstWord.type) {
      case 'field':
        return this.evalFieldNode(dot, firstWord, cmd.args, final);
      case 'chain':
        return this.evalChainNode(dot, firstWord, cmd.args, final);
      case 'identifier':
        return this.evalFunction(dot, firstWord, cmd, cmd.args, final);
      case 'pipe':
        // Parenthesized pipeline. The arguments are all inside the pipeline; final must be absent.
        this.notAFunction(cmd.args, final);
        return this.evalPipeline(dot, firstWord);
      case 'variable':
        return this.evalVariableNode(dot, firstWord, cmd.args, final);
    }
    this.at(firstWord);
    this.notAFunction(cmd.args, final);
    switch (firstWord.type) {
      case 'bool':
        return new Value(BOOL, firstWord.value);
      case 'dot':
        return dot;
      case 'nil':
        return this.errorf('nil is not a command');
      case 'number':
        return this.idealConstant(firstWord);
      case 'string':
        return new Value(STRING, firstWord.text);
    }
    this.errorf(`can't evaluate command ${quote(nodeString(firstWord))}`);
  }

  protected evalFieldNode(dot: Value, field: FieldNode, args: readonly Node[], final: Value): Value {
    this.at(field);
    return this.evalFieldChain(dot, dot, field, field.ident, args, final);
  }

  protected evalChainNode(dot: Value, chain: ChainNode, args: readonly Node[], final: Value): Value {
    this.at(chain);
    if (chain.field.length === 0) this.errorf('internal error: no fields in evalChainNode');
    if (chain.node.type === 'nil') this.errorf(`indirection through explicit nil in ${nodeString(chain)}`);
    // (pipe).Field1.Field2 has pipe as .Node, fields as .Field. Eval the pipeline, then the fields.
    const pipe = this.evalArg(dot, undefined, chain.node);
    return this.evalFieldChain(dot, pipe, chain, chain.field, args, final);
  }

  protected evalVariableNode(dot: Value, variable: VariableNode, args: readonly Node[], final: Value): Value {
    this.at(variable);
    const value = this.varValue(variable.ident[0] as string);
    if (variable.ident.length === 1) {
      this.notAFunction(args, final);
      return value;
    }
    return this.evalFieldChain(dot, value, variable, variable.ident.slice(1), args, final);
  }

  private evalFieldChain(
    dot: Value,
    receiver0: Value,
    node: Node,
    ident: readonly string[],
    args: readonly Node[],
    final: Value,
  ): Value {
    let receiver = receiver0;
    const n = ident.length;
    for (let i = 0; i < n - 1; i++)
      receiver = this.evalField(dot, ident[i] as string, node, [], MISSING, receiver);
    // Now if it's a method, it gets the arguments.
    return this.evalField(dot, ident[n - 1] as string, node, args, final, receiver);
  }

  protected evalFunction(
    dot: Value,
    node: IdentifierNode,
    cmd: Node,
    args: readonly Node[],
    final: Value,
  ): Value {
    this.at(node);
    const found = this.templates.findFunction(node.ident);
    if (!found) this.errorf(`${quote(node.ident)} is not a defined function`);
    return this.evalCall(dot, found.fn, found.builtin, cmd, node.ident, args, final);
  }

  private evalField(
    dot: Value,
    fieldName: string,
    node: Node,
    args: readonly Node[],
    final: Value,
    receiver0: Value,
  ): Value {
    if (!isValid(receiver0)) return INVALID;
    const typ = receiver0.type;
    // Only pointers and interfaces have anything to indirect through: no pair is made for the rest (the
    // {{.Key}} of every iteration of a range over 10,000 pairs).
    let receiver = receiver0;
    let isNil = false;
    if (typ.kind === 'ptr' || typ.kind === 'interface') [receiver, isNil] = indirect(receiver0);
    if (receiver.type.kind === 'interface' && isNil) {
      // Calling a method on a nil interface can't work. The MissingKey option doesn't apply.
      this.errorf(`nil pointer evaluating ${typ.name}.${fieldName}`);
    }
    // Unless it's an interface, need to get to a value of type *T to guarantee we see all methods.
    const method = isNil ? undefined : methodOf(receiver, fieldName);
    if (method) return this.evalCall(dot, method, false, node, fieldName, args, final);
    const hasArgs = args.length > 1 || final !== MISSING;
    switch (receiver.type.kind) {
      case 'struct': {
        const field = fieldOf(receiver.type, fieldName);
        if (field) {
          if (!field.exported) this.errorf(`${fieldName} is an unexported field of struct type ${typ.name}`);
          if (hasArgs) this.errorf(`${fieldName} has arguments but cannot be invoked as function`);
          return slotValue(field.type, (receiver.v as Record<string, unknown>)[fieldName]);
        }
        break;
      }
      case 'map':
        if (receiver.type.key?.kind === 'string') {
          if (hasArgs) this.errorf(`${fieldName} is not a method but has arguments`);
          return mapEntry(receiver, fieldName) ?? INVALID;
        }
        break;
      case 'ptr': {
        const elem = receiver.type.elem as GoType;
        if (elem.kind === 'struct' && !elem.fields?.some((f) => f.name === fieldName)) break;
        if (isNil) this.errorf(`nil pointer evaluating ${typ.name}.${fieldName}`);
        break;
      }
    }
    this.errorf(`can't evaluate field ${fieldName} in type ${typ.name}`);
  }

  private printValue(n: Node, v: Value): void {
    this.at(n);
    const value = v.type.kind === 'ptr' ? indirect(v)[0] : v;
    if (!isValid(value)) {
      this.out.push('<no value>');
      return;
    }
    // A predeclared string prints as itself (fmt's fast path, no flags): no Printer per {{.Value}}.
    if (value.type.kind === 'string' && value.type.underlying === undefined) this.out.push(value.v as string);
    else this.out.push(sprint([value.type.kind === 'ptr' && value.v === null ? null : value]));
  }
}
