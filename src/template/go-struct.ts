/**
 * Go prints structs ("{a b}") and maps ("map[a:b]") differently, but both arrive in JavaScript as plain
 * objects. Values that stand for Go structs (KVPair, net.SRV) carry this non-enumerable brand so printing
 * can tell them apart without changing how they compare or serialise.
 */
const GO_STRUCT = Symbol('confd.goStruct');

export function goStruct<T extends object>(value: T): T {
  Object.defineProperty(value, GO_STRUCT, { value: true, enumerable: false });
  return value;
}

/**
 * The brand on a class's prototype: its instances are Go structs without a defineProperty each (which cost
 * more than the rest of building the 10,000 KVPairs of one gets).
 */
export function brandGoStructs(prototype: object): void {
  Object.defineProperty(prototype, GO_STRUCT, { value: true, enumerable: false });
}

export function isGoStruct(value: unknown): boolean {
  return typeof value === 'object' && value !== null && GO_STRUCT in value;
}
