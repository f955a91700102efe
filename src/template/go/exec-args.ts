import type { GoFunc } from './func.js';
import { FuncError, numIn } from './func.js';
import type {
  ChainNode,
  FieldNode,
  IdentifierNode,
  Node,
  NumberNode,
  PipeNode,
  VariableNode,
} from './nodes.js';
import { errorContext, nodeString } from './nodes.js';
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
import { INVALID, indirectInterface, isNilValue, isValid, lengthOf, Value, zeroValue } from './values.js';

/**
 * The half of text/template's executor (exec.go) that scopes variables, reports errors and calls
 * functions: argument counts, the conversion of each argument to its parameter's type (evalArg,
 * validateType) and the constants of the template. exec.ts walks the tree on top of it.
 */
export class ExecError extends Error {
  override name = 'ExecError';
}

/** Go's missingVal: "no final argument from a previous pipeline stage". */
export const MISSING = new Value(
  { kind: 'struct', name: 'template.missingValType', named: true, fields: [] },
  {},
);

export interface Variable {
  name: string;
  value: Value;
}

export abstract class Evaluator {
  node: Node | undefined;

  constructor(
    protected readonly name: string,
    protected readonly vars: Variable[],
  ) {}

  protected abstract evalPipeline(dot: Value, pipe: PipeNode | undefined): Value;
  protected abstract evalFieldNode(dot: Value, field: FieldNode, args: readonly Node[], final: Value): Value;
  protected abstract evalChainNode(dot: Value, chain: ChainNode, args: readonly Node[], final: Value): Value;
  protected abstract evalVariableNode(
    dot: Value,
    variable: VariableNode,
    args: readonly Node[],
    final: Value,
  ): Value;
  protected abstract evalFunction(
    dot: Value,
    node: IdentifierNode,
    cmd: Node,
    args: readonly Node[],
    final: Value,
  ): Value;

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

  protected at(node: Node): void {
    this.node = node;
  }

  protected mark(): number {
    return this.vars.length;
  }

  protected pop(mark: number): void {
    // Most range iterations declare nothing: no length write (a slow path in V8) when nothing was pushed.
    if (this.vars.length !== mark) this.vars.length = mark;
  }

  protected setVar(name: string, value: Value): void {
    for (let i = this.vars.length - 1; i >= 0; i--) {
      const v = this.vars[i] as Variable;
      if (v.name === name) {
        v.value = value;
        return;
      }
    }
    this.errorf(`undefined variable: ${name}`);
  }

  protected setTopVar(n: number, value: Value): void {
    (this.vars[this.vars.length - n] as Variable).value = value;
  }

  protected varValue(name: string): Value {
    for (let i = this.vars.length - 1; i >= 0; i--) {
      const v = this.vars[i] as Variable;
      if (v.name === name) return v.value;
    }
    this.errorf(`undefined variable: ${name}`);
  }

  protected idealConstant(constant: NumberNode): Value {
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
  // ------------------------------------------------------------------ calls and arguments

  protected evalCall(
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

  protected validateType(value: Value, typ: GoType | undefined): Value {
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

  protected evalArg(dot: Value, typ: GoType | undefined, n: Node): Value {
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

  protected evalEmptyInterface(dot: Value, n: Node): Value {
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
