import { EVENT_ID, YAMLException, getScalarValue, parseEvents } from 'js-yaml';
import type { Event, ScalarEvent } from 'js-yaml';
import { ScalarTagError, decodeScalar, shortTag } from './yaml-v2-scalars.js';

/**
 * A data file's first YAML document as Go's yaml.v2 decodes it into interface{} (and so confd's file
 * backend reads it): mappings are Maps, sequences arrays, scalars as yaml-v2-scalars.ts decides, aliases
 * their anchor's value, `<<` merges as yaml.v2 does them. js-yaml parses (its event stream: one flat array,
 * no document model, ~5x faster than building one); this builds the tree from the events.
 *
 * One rule is confd-ts's own: mapping keys are path segments and stay as written (`on:`, `y:` and `1:`
 * name the keys "on", "y" and "1"; yaml.v2 would make them a boolean or a number, on which confd's
 * flattening panics).
 */
export interface YamlTree {
  /** The first document's content: a Map for a mapping, null for an empty document or file. */
  tree: unknown;
  /** How many documents the file holds (only the first is read, as yaml.v2's Unmarshal does). */
  documents: number;
}

/** A YAML error at a place in the text: `line` and `column` count from 1. */
export class YamlError extends Error {
  constructor(
    message: string,
    readonly line?: number,
    readonly column?: number,
  ) {
    super(message);
  }
}

const MAX_DEPTH = 1_000;

interface Anchored {
  value: unknown;
  /** Nodes under it, aliases expanded: what each further alias of it adds. */
  size: number;
  /** A scalar's text: its meaning as a mapping key. */
  keyText: string | undefined;
}

export function parseYamlTree(text: string): YamlTree {
  let events: Event[];
  try {
    events = parseEvents(text, { maxDepth: MAX_DEPTH });
  } catch (err) {
    if (!(err instanceof YAMLException)) throw err;
    // The reason only: js-yaml's message quotes the source around the error, which may hold a secret.
    const line = err.mark ? err.mark.line + 1 : undefined;
    const column = err.mark ? err.mark.column + 1 : undefined;
    throw new YamlError(err.reason, line, column);
  }
  const documents = events.filter((e) => e.type === EVENT_ID.DOCUMENT).length;
  const builder = new TreeBuilder(text, events);
  return { tree: documents === 0 ? null : builder.firstDocument(), documents };
}

class TreeBuilder {
  private next = 0;
  private readonly anchors = new Map<string, Anchored>();
  /** Nodes decoded so far, each alias counted at its anchor's size (yaml.v2's decodeCount)... */
  private decoded = 0;
  /** ...and of those, the ones decoded through an alias (its aliasCount). */
  private throughAliases = 0;
  private readonly tagHandles = new Map<string, string>([['!!', 'tag:yaml.org,2002:']]);

  constructor(
    private readonly text: string,
    private readonly events: Event[],
  ) {}

  firstDocument(): unknown {
    const doc = this.events[this.next++];
    if (doc?.type !== EVENT_ID.DOCUMENT) return null;
    for (const directive of doc.directives)
      if (directive.kind === 'tag') this.tagHandles.set(directive.handle, directive.prefix);
    const first = this.events[this.next];
    return first === undefined || first.type === EVENT_ID.POP ? null : this.node().value;
  }

  /** Builds the node at the cursor and moves past it. */
  private node(): Anchored {
    const event = this.events[this.next++];
    if (event === undefined) throw new YamlError('unexpected end of the event stream');
    let built: Anchored;
    let anchorEvent: { anchorStart: number; anchorEnd: number } | undefined;
    switch (event.type) {
      case EVENT_ID.SCALAR: {
        const text = getScalarValue(this.text, event);
        built = { value: this.scalar(event, text), size: 1, keyText: text };
        anchorEvent = event;
        break;
      }
      case EVENT_ID.SEQUENCE: {
        const items: unknown[] = [];
        let size = 1;
        while (this.events[this.next]?.type !== EVENT_ID.POP) {
          const item = this.node();
          items.push(item.value);
          size += item.size;
        }
        this.next++;
        built = { value: items, size, keyText: undefined };
        anchorEvent = event;
        break;
      }
      case EVENT_ID.MAPPING:
        built = this.mapping(event.start);
        anchorEvent = event;
        break;
      case EVENT_ID.ALIAS: {
        const name = this.text.slice(event.anchorStart, event.anchorEnd);
        const target = this.anchors.get(name);
        if (!target) throw this.errorAt(event.anchorStart, `unknown anchor '${name}' referenced`);
        this.count(target.size, true, event.anchorStart);
        return target;
      }
      default:
        throw new YamlError('unexpected event in the event stream');
    }
    this.count(1, false, 0);
    if (anchorEvent.anchorStart >= 0)
      this.anchors.set(this.text.slice(anchorEvent.anchorStart, anchorEvent.anchorEnd), built);
    return built;
  }

  private mapping(start: number): Anchored {
    const map = new Map<string, unknown>();
    let size = 1;
    while (this.events[this.next]?.type !== EVENT_ID.POP) {
      const keyEvent = this.events[this.next];
      const key = this.node();
      const value = this.node();
      size += value.size;
      if (keyEvent?.type === EVENT_ID.SCALAR && this.isMerge(keyEvent, key.keyText)) {
        this.merge(map, value, keyEvent.valueStart);
      } else if (key.keyText === undefined) {
        throw this.errorAt(
          this.position(keyEvent) ?? start,
          'a mapping key must be a scalar (it names a path segment)',
        );
      } else {
        map.set(key.keyText, value.value);
      }
    }
    this.next++;
    return { value: map, size, keyText: undefined };
  }

  /** yaml.v2's isMerge: a plain `<<` without a tag, or any scalar tagged `!!merge`. */
  private isMerge(event: ScalarEvent, text: string | undefined): boolean {
    const tag = this.tagOf(event);
    return text === '<<' && ((tag === '' && event.style === 1) || tag === '!!merge');
  }

  /**
   * yaml.v2's merge: a mapping's pairs are set into `map` (over what it holds so far; later keys of its own
   * override them); in a sequence of mappings the earlier ones win.
   */
  private merge(map: Map<string, unknown>, source: Anchored, offset: number): void {
    const sources = Array.isArray(source.value) ? [...(source.value as unknown[])].reverse() : [source.value];
    for (const from of sources) {
      if (!(from instanceof Map))
        throw this.errorAt(offset, 'map merge requires map or sequence of maps as the value');
      for (const [k, v] of from as Map<string, unknown>) map.set(k, v);
    }
  }

  private scalar(event: ScalarEvent, text: string): unknown {
    try {
      return decodeScalar(this.tagOf(event), text, event.style === 1);
    } catch (err) {
      if (err instanceof ScalarTagError) throw this.errorAt(event.valueStart, err.message);
      throw err;
    }
  }

  /** The event's explicit tag, resolved through the document's %TAG handles, in yaml.v2's short form. */
  private tagOf(event: ScalarEvent): string {
    if (event.tagStart < 0) return '';
    const written = this.text.slice(event.tagStart, event.tagEnd);
    if (written.startsWith('!<')) return shortTag(uriDecoded(written.slice(2, -1)));
    const handle = /^!(?:[0-9A-Za-z-]*!)?/.exec(written)?.[0] ?? '!';
    const prefix = this.tagHandles.get(handle);
    return prefix === undefined ? written : shortTag(prefix + uriDecoded(written.slice(handle.length)));
  }

  /**
   * yaml.v2's guard against a "billion laughs" file (decode.go, allowedAliasRatio): aliases may account for
   * 99% of up to 400,000 decoded nodes, a share falling to 10% at 4,000,000, so a file sharing anchors
   * many times over still reads and one that multiplies them exponentially fails early.
   */
  private count(nodes: number, viaAlias: boolean, offset: number): void {
    this.decoded += nodes;
    if (viaAlias) this.throughAliases += nodes;
    if (this.throughAliases <= 100 || this.decoded <= 1000) return;
    const share =
      this.decoded <= 400_000
        ? 0.99
        : this.decoded >= 4_000_000
          ? 0.1
          : 0.99 - (0.89 * (this.decoded - 400_000)) / 3_600_000;
    if (this.throughAliases / this.decoded > share)
      throw this.errorAt(offset, 'document contains excessive aliasing');
  }

  private position(event: Event | undefined): number | undefined {
    if (event === undefined) return undefined;
    if (event.type === EVENT_ID.SCALAR) return event.valueStart;
    if (event.type === EVENT_ID.SEQUENCE || event.type === EVENT_ID.MAPPING) return event.start;
    if (event.type === EVENT_ID.ALIAS) return event.anchorStart;
    return undefined;
  }

  private errorAt(offset: number, message: string): YamlError {
    const before = this.text.slice(0, Math.max(0, offset));
    const line = before.split('\n').length;
    return new YamlError(message, line, offset - before.lastIndexOf('\n'));
  }
}

/** A tag's %-escapes decoded (`!!in%74` is `!!int`); a malformed escape leaves the tag as written. */
function uriDecoded(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
