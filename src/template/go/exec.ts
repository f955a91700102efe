import { sprint } from './fmt.js';
import type { GoFunc } from './func.js';
import { FuncError, numIn } from './func.js';
import { methodOf } from './methods.js';
import type {
  BranchNode,
  ChainNode,
  CommandNode,
  FieldNode,
  IdentifierNode,
  Node,
  NumberNode,
  PipeNode,
  TemplateNode,
  VariableNode,
} from './nodes.js';
import { errorContext, nodeString } from './nodes.js';
import type { Tree } from './parser.js';
import { quote } from './strconv.js';
import type { GoType } from './types.js';
import {
  assignableTo,
  BOOL,
  canBeNil,
  COMPLEX128,
  EMPTY_INTERFACE,
  FLOAT64,
  INT,
  isIntKind,
  isUintKind,
  STRING,
} from './types.js';
import {
  INVALID,
  indexSlice,
  indirect,
  indirectInterface,
  isNilValue,
  isValid,
  lengthOf,
  mapEntry,
  sortedKeys,
  structField,
  Value,
  zeroValue,
} from './values.js';

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

export class ExecError extends Error {
  override name = 'ExecError';
}

/** Go's missingVal: "no final argument from a previous pipeline stage". */
const MISSING = new Value({ kind: 'struct', name: 'template.missingValType', named: true, fields: [] }, {});

/** Go reports a runaway recursion at this depth; JavaScript's stack gives out first, see walkTemplate. */
const MAX_EXEC_DEPTH = 100000;

/** {{break}} and {{continue}} unwind like Go's panics; one instance each, so no stack is captured per loop. */
class LoopSignal extends Error {}
const BREAK = new LoopSignal('break');
const CONTINUE = new LoopSignal('continue');

interface Variable {
  name: string;
  value: Value;
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

class State {
  node: Node | undefined;
  private readonly templates: Templates;
  private readonly out: string[];

  constructor(
    private readonly shared: Shared,
    private readonly name: string,
    private readonly vars: Variable[],
    private readonly depth: number,
  ) {
    this.templates = shared.templates;
    this.out = shared.out;
  }

  // ------------------------------------------------------------------ errors and variables

  errorf(message: string, cause?: FuncError): never {
    const options = cause ? { cause } : undefined;
    if (!this.node) throw new ExecError(`template: ${this.name}: ${message}`, options);
    const { location, context } = errorContext(this.node);
    throw new ExecError(
      `template: ${location}: executing ${quote(this.name)} at <${context}>: ${message}`,
      options,
    );
  }

  private at(node: Node): void {
    this.node = node;
  }

  private mark(): number {
    return this.vars.length;
  }

  private pop(mark: number): void {
    this.vars.length = mark;
  }

  private setVar(name: string, value: Value): void {
    for (let i = this.vars.length - 1; i >= 0; i--) {
      const v = this.vars[i] as Variable;
      if (v.name === name) {
        v.value = value;
        return;
      }
    }
    this.errorf(`undefined variable: ${name}`);
  }

  private setTopVar(n: number, value: Value): void {
    (this.vars[this.vars.length - n] as Variable).value = value;
  }

  private varValue(name: string): Value {
    for (let i = this.vars.length - 1; i >= 0; i--) {
      const v = this.vars[i] as Variable;
      if (v.name === name) return v.value;
    }
    this.errorf(`undefined variable: ${name}`);
  }

  // ------------------------------------------------------------------ walking

  walk(dot: Value, node: Node): void {
    this.at(node);
    switch (node.type) {
      case 'action': {
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
      case 'list':
        for (const n of node.nodes) this.walk(dot, n);
        return;
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
          for (let i = 0; i < n; i++) oneIteration(new Value(INT, i), indexSlice(val, i));
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

  private evalPipeline(dot: Value, pipe: PipeNode | undefined): Value {
    if (!pipe) return INVALID;
    this.at(pipe);
    let value = MISSING;
    for (const cmd of pipe.cmds) {
      value = this.evalCommand(dot, cmd, value); // previous value is this one's final arg.
      // An interface {} result is replaced by what it holds (nil: no value at all).
      if (value.type.kind === 'interface') value = indirectInterface(value);
    }
    for (const variable of pipe.decl) {
      if (pipe.isAssign) this.setVar(variable.ident[0] as string, value);
      else this.vars.push({ name: variable.ident[0] as string, value });
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

  private idealConstant(constant: NumberNode): Value {
    this.at(constant);
    const text = constant.text;
    const isHexInt = /^0[xX]/.test(text) && text.length > 2 && !/[pP]/.test(text);
    const isRuneInt = text.startsWith("'");
    if (constant.isComplex) return new Value(COMPLEX128, constant.complex);
    if (constant.isFloat && !isHexInt && !isRuneInt && /[.eEpP]/.test(text)) {
      return new Value(FLOAT64, constant.float);
    }
    if (constant.isInt) return new Value(INT, goInt(constant.int));
    if (constant.isUint) this.errorf(`${text} overflows int`);
    return INVALID;
  }

  private evalFieldNode(dot: Value, field: FieldNode, args: readonly Node[], final: Value): Value {
    this.at(field);
    return this.evalFieldChain(dot, dot, field, field.ident, args, final);
  }

  private evalChainNode(dot: Value, chain: ChainNode, args: readonly Node[], final: Value): Value {
    this.at(chain);
    if (chain.field.length === 0) this.errorf('internal error: no fields in evalChainNode');
    if (chain.node.type === 'nil') this.errorf(`indirection through explicit nil in ${nodeString(chain)}`);
    // (pipe).Field1.Field2 has pipe as .Node, fields as .Field. Eval the pipeline, then the fields.
    const pipe = this.evalArg(dot, undefined, chain.node);
    return this.evalFieldChain(dot, pipe, chain, chain.field, args, final);
  }

  private evalVariableNode(dot: Value, variable: VariableNode, args: readonly Node[], final: Value): Value {
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

  private evalFunction(
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
    const [receiver, isNil] = indirect(receiver0);
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
        const field = receiver.type.fields?.find((f) => f.name === fieldName);
        if (field) {
          if (!field.exported) this.errorf(`${fieldName} is an unexported field of struct type ${typ.name}`);
          if (hasArgs) this.errorf(`${fieldName} has arguments but cannot be invoked as function`);
          return structField(receiver, fieldName) as Value;
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

  // ------------------------------------------------------------------ calls and arguments

  private evalCall(
    dot: Value,
    fn: GoFunc,
    isBuiltin: boolean,
    node: Node,
    name: string,
    args0: readonly Node[],
    final: Value,
  ): Value {
    const args = args0.slice(1); // Zeroth arg is function name/node; not passed to function.
    const declared = numIn(fn);
    let numArgs = args.length;
    if (final !== MISSING) numArgs++;
    let numFixed = args.length;
    if (fn.variadic) {
      numFixed = fn.params.length;
      if (numArgs < numFixed) {
        this.errorf(`wrong number of args for ${name}: want at least ${numFixed} got ${args.length}`);
      }
    } else if (numArgs !== declared) {
      this.errorf(`wrong number of args for ${name}: want ${declared} got ${numArgs}`);
    }
    if (fn.results !== undefined) {
      this.errorf(`can't call method/function ${quote(name)} with ${fn.results} results`);
    }
    // Special case for builtin and/or, which short-circuit.
    if (isBuiltin && (name === 'and' || name === 'or')) {
      let v: Value = INVALID;
      for (const arg of args) {
        v = this.evalArg(dot, fn.params[0], arg);
        if (isTrue(indirectInterface(v)) === (name === 'or')) return v;
      }
      if (final !== MISSING) v = this.validateType(final, fn.params[0]);
      return v;
    }
    const argv: Value[] = [];
    let i = 0;
    for (; i < numFixed && i < args.length; i++) argv.push(this.evalArg(dot, fn.params[i], args[i] as Node));
    if (fn.variadic) for (; i < args.length; i++) argv.push(this.evalArg(dot, fn.variadic, args[i] as Node));
    if (final !== MISSING) {
      let t = fn.variadic ?? fn.params[fn.params.length - 1];
      if (fn.variadic && numArgs - 1 < numFixed) t = fn.params[numArgs - 1];
      argv.push(this.validateType(final, t));
    }
    try {
      return fn.call(argv);
    } catch (err) {
      if (!(err instanceof FuncError)) throw err;
      this.at(node);
      this.errorf(`error calling ${name}: ${err.message}`, err);
    }
  }

  private validateType(value: Value, typ: GoType | undefined): Value {
    if (!isValid(value)) {
      if (typ === undefined || typ.kind === 'reflect') return INVALID;
      if (canBeNil(typ)) return zeroValue(typ);
      this.errorf(`invalid value; expected ${typ.name}`);
    }
    if (typ === undefined || typ.kind === 'reflect') return value;
    if (assignableTo(value.type, typ)) return value;
    let v = value;
    // An interface value holds something that may be of the right type.
    if (v.type.kind === 'interface' && v.v !== null) {
      v = v.v as Value;
      if (assignableTo(v.type, typ)) return v;
    }
    if (v.type.kind === 'ptr' && assignableTo(v.type.elem as GoType, typ)) {
      if (v.v === null) this.errorf(`dereference of nil pointer of type ${typ.name}`);
      return new Value(v.type.elem as GoType, v.v);
    }
    this.errorf(`wrong type for value; expected ${typ.name}; got ${v.type.name}`);
  }

  private evalArg(dot: Value, typ: GoType | undefined, n: Node): Value {
    this.at(n);
    switch (n.type) {
      case 'dot':
        return this.validateType(dot, typ);
      case 'nil':
        if (typ && canBeNil(typ)) return typ.kind === 'reflect' ? INVALID : zeroValue(typ);
        return this.errorf(`cannot assign nil to ${typ?.name ?? '<nil>'}`);
      case 'field':
        return this.validateType(this.evalFieldNode(dot, n, [n], MISSING), typ);
      case 'variable':
        return this.validateType(this.evalVariableNode(dot, n, [], MISSING), typ);
      case 'pipe':
        return this.validateType(this.evalPipeline(dot, n), typ);
      case 'identifier':
        return this.validateType(this.evalFunction(dot, n, n, [], MISSING), typ);
      case 'chain':
        return this.validateType(this.evalChainNode(dot, n, [], MISSING), typ);
    }
    const kind = typ?.kind;
    if (kind === 'bool') {
      if (n.type === 'bool') return new Value(typ as GoType, n.value);
      this.errorf(`expected bool; found ${nodeString(n)}`);
    }
    if (kind === 'complex128') {
      if (n.type === 'number' && n.isComplex) return new Value(typ as GoType, n.complex);
      this.errorf(`expected complex; found ${nodeString(n)}`);
    }
    if (kind === 'float64') {
      if (n.type === 'number' && n.isFloat) return new Value(typ as GoType, n.float);
      this.errorf(`expected float; found ${nodeString(n)}`);
    }
    if (kind !== undefined && isIntKind(kind)) {
      if (n.type === 'number' && n.isInt) return new Value(typ as GoType, goInt(n.int));
      this.errorf(`expected integer; found ${nodeString(n)}`);
    }
    if (kind === 'interface' && typ === EMPTY_INTERFACE) return this.evalEmptyInterface(dot, n);
    if (kind === 'reflect') return this.evalEmptyInterface(dot, n);
    if (kind === 'string') {
      if (n.type === 'string') return new Value(typ as GoType, n.text);
      this.errorf(`expected string; found ${nodeString(n)}`);
    }
    if (kind !== undefined && isUintKind(kind)) {
      if (n.type === 'number' && n.isUint) return new Value(typ as GoType, goInt(n.uint));
      this.errorf(`expected unsigned integer; found ${nodeString(n)}`);
    }
    this.errorf(`can't handle ${nodeString(n)} for arg of type ${typ?.name ?? '<nil>'}`);
  }

  private evalEmptyInterface(dot: Value, n: Node): Value {
    this.at(n);
    switch (n.type) {
      case 'bool':
        return new Value(BOOL, n.value);
      case 'number':
        return this.idealConstant(n);
      case 'string':
        return new Value(STRING, n.text);
    }
    this.errorf(`can't handle assignment of ${nodeString(n)} to empty interface argument`);
  }

  private printValue(n: Node, v: Value): void {
    this.at(n);
    const [value] = v.type.kind === 'ptr' ? indirect(v) : [v];
    if (!isValid(value)) {
      this.out.push('<no value>');
      return;
    }
    this.out.push(sprint([value.type.kind === 'ptr' && value.v === null ? null : value]));
  }
}

/**
 * Integers are JavaScript numbers; a literal beyond 2^53, which a number cannot hold exactly, stays a
 * bigint so that it prints and compares exactly (arithmetic on it is not Go's).
 */
function goInt(n: bigint): number | bigint {
  const x = Number(n);
  return Number.isSafeInteger(x) ? x : n;
}

/** text/template's truth: false, 0, "", nil, empty slices and maps are false; structs are true. */
export function isTrue(value: Value): boolean {
  if (!isValid(value)) return false;
  const kind = value.type.kind;
  switch (kind) {
    case 'slice':
    case 'map':
    case 'string':
      return lengthOf(value) > 0;
    case 'bool':
      return value.v as boolean;
    case 'complex128': {
      const [re, im] = value.v as [number, number];
      return re !== 0 || im !== 0;
    }
    case 'interface':
    case 'ptr':
      return !isNilValue(value);
    case 'float64':
      return (value.v as number) !== 0;
    case 'struct':
      return true;
    default:
      return isIntKind(kind) || isUintKind(kind) ? (value.v as number) !== 0 : true;
  }
}
