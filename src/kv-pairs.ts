/**
 * Flat key/value pairs as confd sees them: absolute, '/'-separated keys mapped to string values. Stores
 * produce them and templates read them; both import the type from here, so neither imports the other.
 */
export type KVPairs = Record<string, string>;
