import { isGoStruct } from './go-struct.js';

/**
 * text/template's notion of "true", used by and/or/not and by block helpers: false, 0, "", nil and empty
 * slices and maps are false. Structs are always true.
 */
export function goTruth(value: unknown): boolean {
  if (value === undefined || value === null) return false;
  if (typeof value === 'boolean') return value;
  if (typeof value === 'number') return value !== 0;
  if (typeof value === 'string') return value.length > 0;
  if (Array.isArray(value)) return value.length > 0;
  if (typeof value === 'object') return isGoStruct(value) || Object.keys(value).length > 0;
  return true;
}
