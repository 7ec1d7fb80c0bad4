/**
 * A YAML file as a tree of plain values that remembers where each one was written, so that a
 * problem found later (by zod, by the config substitution, by an include) can name the file,
 * line and column. The `yaml` package parses (YAML 1.2 core schema: `yes` stays a string, dates
 * stay strings, duplicate keys are errors); this file turns its nodes into our tree and back into
 * plain values. Anchors and aliases are followed (with a bound, against alias bombs); tags,
 * complex keys and multiple documents are refused.
 */
import { isAlias, isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node } from 'yaml';

/** Where something was written: 1-based line and column. */
export interface SourceAt {
  readonly file: string;
  readonly line: number;
  readonly column: number;
}

export type Scalar = string | number | boolean | null;

interface TreeBase {
  /** Where the value starts. */
  readonly at: SourceAt;
  /** Where its key is, for a value in a mapping. */
  readonly keyAt?: SourceAt;
}
export interface ScalarTree extends TreeBase {
  readonly kind: 'scalar';
  readonly value: Scalar;
}
export interface MapTree extends TreeBase {
  readonly kind: 'map';
  readonly entries: ReadonlyMap<string, YamlTree>;
}
export interface SeqTree extends TreeBase {
  readonly kind: 'seq';
  readonly items: readonly YamlTree[];
}
export type YamlTree = ScalarTree | MapTree | SeqTree;

/** A problem in a file, at a place and (once known) at a field path. */
export interface SourceProblem {
  readonly at: SourceAt;
  readonly message: string;
}

/** Nodes one file may expand to through aliases: far beyond any scenario, far below a bomb. */
const MAX_NODES = 200_000;

/** The YAML text as a tree, or every syntax problem with its place. */
export function parseYamlTree(text: string, file: string): { readonly ok: true; readonly tree: YamlTree | undefined } | { readonly ok: false; readonly problems: readonly SourceProblem[] } {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true, strict: true });
  const place = (offset: number): SourceAt => {
    const { line, col } = lines.linePos(offset);
    return { file, line: Math.max(line, 1), column: Math.max(col, 1) };
  };
  const syntax = [...doc.errors, ...doc.warnings];
  if (syntax.length > 0) return { ok: false, problems: syntax.map((e) => ({ at: place(e.pos[0]), message: firstLine(e.message) })) };
  const problems: SourceProblem[] = [];
  let nodes = 0;
  const convert = (node: Node | null | undefined, fallback: SourceAt, keyAt?: SourceAt): YamlTree => {
    if (++nodes > MAX_NODES) throw new TooLarge();
    const at = node?.range ? place(node.range[0]) : fallback;
    const base = keyAt ? { at, keyAt } : { at };
    if (node === null || node === undefined) return { kind: 'scalar', value: null, ...base };
    if (isAlias(node)) {
      const target = node.resolve(doc as Document);
      if (!target) {
        problems.push({ at, message: `unknown alias *${node.source}` });
        return { kind: 'scalar', value: null, ...base };
      }
      return { ...convert(target, at), ...base };
    }
    if (node.tag !== undefined && !isMap(node) && !isSeq(node) && !node.tag.startsWith('tag:yaml.org,2002:')) {
      problems.push({ at, message: `tags such as ${node.tag} are not used in scenario files` });
    }
    if (isScalar(node)) {
      const value = node.value;
      if (value === null || typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return { kind: 'scalar', value, ...base };
      problems.push({ at, message: 'a string, a number, true, false or null' });
      return { kind: 'scalar', value: null, ...base };
    }
    if (isSeq(node)) return { kind: 'seq', items: node.items.map((item) => convert(item as Node, at)), ...base };
    if (isMap(node)) {
      const entries = new Map<string, YamlTree>();
      for (const pair of node.items) {
        if (!isPair(pair)) continue;
        const key = pair.key as Node | null;
        const keyPlace = key?.range ? place(key.range[0]) : at;
        if (!isScalar(key) || key.value === null || typeof key.value === 'object') {
          problems.push({ at: keyPlace, message: 'a key is a plain name' });
          continue;
        }
        entries.set(String(key.value), convert(pair.value as Node | null, keyPlace, keyPlace));
      }
      return { kind: 'map', entries, ...base };
    }
    problems.push({ at, message: 'not a value scenario files use' });
    return { kind: 'scalar', value: null, ...base };
  };
  try {
    const tree = doc.contents === null ? undefined : convert(doc.contents as Node, place(0));
    return problems.length > 0 ? { ok: false, problems } : { ok: true, tree };
  } catch (e) {
    if (e instanceof TooLarge) return { ok: false, problems: [{ at: place(0), message: `the file expands to more than ${MAX_NODES} values (aliases?)` }] };
    throw e;
  }
}

class TooLarge extends Error {}

function firstLine(message: string): string {
  return message.split('\n')[0]!.trim();
}

/** The plain value (objects, arrays, scalars) the tree stands for. */
export function treeValue(tree: YamlTree): unknown {
  switch (tree.kind) {
    case 'scalar':
      return tree.value;
    case 'seq':
      return tree.items.map(treeValue);
    case 'map': {
      const out: Record<string, unknown> = {};
      // defineProperty: a key named __proto__ is data here, not the prototype.
      for (const [key, value] of tree.entries) Object.defineProperty(out, key, { value: treeValue(value), enumerable: true, writable: true, configurable: true });
      return out;
    }
  }
}

/** The node at `path`, and how far the path got: `rest` is what the tree does not have. */
export function treeAt(tree: YamlTree, path: readonly PropertyKey[]): { readonly node: YamlTree; readonly rest: readonly PropertyKey[] } {
  let node = tree;
  for (let i = 0; i < path.length; i++) {
    const step = path[i]!;
    const next = node.kind === 'map' ? node.entries.get(String(step)) : node.kind === 'seq' && typeof step === 'number' ? node.items[step] : undefined;
    if (!next) return { node, rest: path.slice(i) };
    node = next;
  }
  return { node, rest: [] };
}

/** A copy of the tree with each string scalar passed through `f` (which may turn it into a number). */
export function mapStrings(tree: YamlTree, f: (value: string, at: SourceAt, path: readonly PropertyKey[]) => Scalar, path: readonly PropertyKey[] = []): YamlTree {
  switch (tree.kind) {
    case 'scalar':
      return typeof tree.value === 'string' ? { ...tree, value: f(tree.value, tree.at, path) } : tree;
    case 'seq':
      return { ...tree, items: tree.items.map((item, i) => mapStrings(item, f, [...path, i])) };
    case 'map':
      return { ...tree, entries: new Map([...tree.entries].map(([key, value]) => [key, mapStrings(value, f, [...path, key])])) };
  }
}

/** A copy of a mapping with `key` set to `value` (added at the end when it was not there). */
export function withEntry(tree: MapTree, key: string, value: YamlTree): MapTree {
  const entries = new Map(tree.entries);
  entries.set(key, value);
  return { ...tree, entries };
}
