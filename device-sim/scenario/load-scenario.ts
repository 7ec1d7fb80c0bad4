/**
 * Reads a scenario file into a validated `Scenario`, or into errors that each name the file,
 * line, column and field path (`scenarios/x.scenario.yaml:14:7 steps.3.expect.job.phase: …`).
 *
 * In order: parse the YAML keeping every value's place (yaml-tree.ts); read the `include:` files
 * (relative to the including file, depth first, each once; a cycle or a missing file is an error
 * at the including line); gather `config` (included files' first, this file's over them, `-d`
 * over both; `-d` must name a known key); replace `${key}` in every string (a string that is only
 * `${key}` of a number becomes that number; an unknown key is an error at its line); merge the
 * setups (included first: settings field by field, lists one after the other, oauth the last
 * one given); validate with scenario-schema.ts; give each step back the place it was written.
 *
 * Paths in errors are the merged file's: in the lists of `setup`, included entries count first.
 * Not done: `${key}` in keys and in include paths (includes are read before the config they
 * contribute to is known), and YAML merge keys (`<<:` is an unknown key like any other).
 */
import { readFile } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import type { z } from 'zod';
import { LEVER_NAMES } from '../control/levers.ts';
import {
  CONFIG_REFERENCE,
  configSchema,
  EXPECT_FIELD_NAMES,
  EXPECT_KEYS,
  includeSchema,
  scenarioSchema,
  SCENARIO_KEYS,
  SETUP_FILE_KEYS,
  SETUP_KEYS,
  STEP_COMPANION_KEYS,
  STEP_KEYS,
  type ExpectField,
  type LeverStep,
  type ParsedStep,
  type Scenario,
  type Step,
} from './scenario-schema.ts';
import { mapStrings, parseYamlTree, treeAt, treeValue, withEntry, type MapTree, type Scalar, type SourceAt, type YamlTree } from './yaml-tree.ts';

export type { SourceAt } from './yaml-tree.ts';

export interface LoadOptions {
  /** `-d key=value`: overrides of `config` values; each must name a key the scenario's config has. */
  readonly defines?: Readonly<Record<string, string>>;
}

export interface LoadError {
  readonly file: string;
  readonly line: number;
  readonly column: number;
  /** The field, dotted (`steps.3.expect.job.phase`); '' for the file as a whole. */
  readonly path: string;
  readonly message: string;
}

export type LoadResult =
  | { readonly ok: true; readonly scenario: Scenario; readonly source: { readonly file: string; readonly text: string } }
  | { readonly ok: false; readonly errors: readonly LoadError[] };

/** One error a line: `file:line:column path: message`. */
export function formatErrors(errors: readonly LoadError[]): string {
  return errors.map((e) => `${e.file}:${e.line}:${e.column} ${e.path ? `${e.path}: ` : ''}${e.message}`).join('\n');
}

interface SourceFile {
  readonly file: string;
  readonly text: string;
  readonly tree: MapTree;
}

type Path = readonly PropertyKey[];
type Fail = (at: SourceAt, path: Path, message: string) => void;

export async function loadScenario(file: string, options: LoadOptions = {}): Promise<LoadResult> {
  const errors: LoadError[] = [];
  const fail: Fail = (at, path, message) => errors.push({ ...at, path: path.map(String).join('.'), message });
  const failed = (): LoadResult => ({ ok: false, errors: uniqueErrors(errors) });

  const main = await readSource(file, { file, line: 1, column: 1 }, fail);
  if (!main) return failed();
  const included = await readIncludes(main, fail);
  if (errors.length > 0) return failed();
  const config = gatherConfig([...included, main], options.defines ?? {}, fail);
  if (errors.length > 0) return failed();

  // ${key} in every string but the config and include lists; in setup files, in their setup.
  const mainTree = substituteEntries(main.tree, (key) => key !== 'config' && key !== 'include', config, fail);
  const setups = [...included.map((source) => substituteEntries(source.tree, (key) => key === 'setup', config, fail)), mainTree].flatMap((tree) => {
    const setup = tree.entries.get('setup');
    return setup ? [setup] : [];
  });
  if (errors.length > 0) return failed();

  const merged = setups.length > 0 ? withEntry(mainTree, 'setup', mergeSetups(setups)) : mainTree;
  const parsed = scenarioSchema.safeParse(treeValue(merged));
  if (!parsed.success) {
    for (const issue of parsed.error.issues) explainIssue(issue, [], merged, fail);
    return failed();
  }
  const scenario: Scenario = {
    ...parsed.data,
    config: Object.fromEntries(config),
    setup: { ...parsed.data.setup, levers: parsed.data.setup.levers.map((lever: LeverStep, i: number) => ({ ...lever, at: treeAt(merged, ['setup', 'levers', i]).node.at })) },
    steps: placeSteps(parsed.data.steps, ['steps'], merged),
    file,
    includes: included.map((source) => source.file),
  };
  return { ok: true, scenario, source: { file, text: main.text } };
}

/** The setup files `source` includes, depth first (a file's includes come before it), each once. */
async function readIncludes(source: SourceFile, fail: Fail, stack: readonly string[] = [resolve(source.file)], seen = new Set(stack)): Promise<SourceFile[]> {
  const list = source.tree.entries.get('include');
  if (!list || !checkPart(list, ['include'], includeSchema, fail) || list.kind !== 'seq') return [];
  const out: SourceFile[] = [];
  for (const [i, item] of list.items.entries()) {
    const written = String((item as { value: Scalar }).value);
    const target = isAbsolute(written) ? written : join(dirname(source.file), written);
    const key = resolve(target);
    if (stack.includes(key)) {
      fail(item.at, ['include', i], `include cycle: ${[...stack, key].slice(stack.indexOf(key)).map((f) => relative('.', f)).join(' → ')}`);
      continue;
    }
    if (seen.has(key)) continue;
    seen.add(key);
    const setup = await readSource(target, item.at, fail, ['include', i]);
    if (!setup) continue;
    for (const [k, v] of setup.tree.entries) {
      if (!SETUP_FILE_KEYS.includes(k)) fail(v.keyAt ?? v.at, [k], `an include file holds ${SETUP_FILE_KEYS.map((s) => `${s}:`).join(', ')} only${suggestion(k, SETUP_FILE_KEYS)}`);
    }
    out.push(...(await readIncludes(setup, fail, [...stack, key], seen)), setup);
  }
  return out;
}

/** The config in force: the files' values in order (later over earlier), then the -d overrides. */
function gatherConfig(sources: readonly SourceFile[], defines: Readonly<Record<string, string>>, fail: Fail): Map<string, string | number> {
  const config = new Map<string, string | number>();
  for (const source of sources) {
    const tree = source.tree.entries.get('config');
    if (!tree || !checkPart(tree, ['config'], configSchema, fail) || tree.kind !== 'map') continue;
    for (const [key, value] of tree.entries) config.set(key, (value as { value: string | number }).value);
  }
  // -d is about the scenario file: its errors point at its config (or its top).
  const main = sources.at(-1)!.tree;
  const configTree = main.entries.get('config');
  const at = configTree ? (configTree.keyAt ?? configTree.at) : main.at;
  for (const [key, text] of Object.entries(defines)) {
    const known = config.get(key);
    if (known === undefined) {
      fail(at, ['config', key], `-d ${key}: no such key in config${configHint(config, key)}`);
    } else if (typeof known === 'number') {
      const n = Number(text);
      if (text.trim() === '' || !Number.isFinite(n)) fail(at, ['config', key], `-d ${key}=${text}: ${key} is a number in config`);
      else config.set(key, n);
    } else config.set(key, text);
  }
  return config;
}

/** The mapping with `${key}` replaced in the strings under the chosen keys. */
function substituteEntries(source: MapTree, chosen: (key: string) => boolean, config: ReadonlyMap<string, string | number>, fail: Fail): MapTree {
  const replace = (value: string, at: SourceAt, path: Path): Scalar => {
    const whole = /^\$\{([^}]*)\}$/.exec(value);
    const number = whole ? config.get(whole[1]!) : undefined;
    if (typeof number === 'number') return number;
    return value.replace(CONFIG_REFERENCE, (_match, escaped: string | undefined, key: string) => {
      if (escaped) return `\${${key}}`;
      const found = config.get(key);
      if (found !== undefined) return String(found);
      fail(at, path, `\${${key}}: no such key in config${configHint(config, key)}`);
      return '';
    });
  };
  let out = source;
  for (const [key, value] of source.entries) if (chosen(key)) out = withEntry(out, key, mapStrings(value, replace, [key]));
  return out;
}

/** The parsed steps with the place each was written (and, for expect, each expectation's). */
function placeSteps(steps: readonly ParsedStep[], base: Path, tree: YamlTree): Step[] {
  return steps.map((step, i): Step => {
    const path = [...base, i];
    const at = treeAt(tree, path).node.at;
    switch (step.kind) {
      case 'never':
      case 'repeat':
        return { ...step, steps: placeSteps(step.steps, [...path, step.kind, 'steps'], tree), at };
      case 'expect': {
        const fieldAt: { [F in ExpectField]?: SourceAt } = {};
        for (const field of EXPECT_FIELD_NAMES) {
          const found = treeAt(tree, [...path, 'expect', field]);
          if (step.expect[field] !== undefined && found.rest.length === 0) fieldAt[field] = found.node.keyAt ?? found.node.at;
        }
        return { ...step, at, fieldAt };
      }
      default:
        return { ...step, at };
    }
  });
}

/** A file read and parsed; its root must be a mapping. Problems go to `fail` at `from` (the including line). */
async function readSource(file: string, from: SourceAt, fail: Fail, fromPath: Path = []): Promise<SourceFile | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    fail(from, fromPath, `cannot read ${file}: ${code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'a directory' : (e as Error).message}`);
    return undefined;
  }
  const parsed = parseYamlTree(text, file);
  if (!parsed.ok) {
    for (const problem of parsed.problems) fail(problem.at, [], problem.message);
    return undefined;
  }
  if (parsed.tree?.kind !== 'map') {
    fail(parsed.tree?.at ?? { file, line: 1, column: 1 }, [], parsed.tree ? 'the file is a mapping of keys (name:, description:, steps: …)' : 'the file is empty');
    return undefined;
  }
  return { file, text, tree: parsed.tree };
}

/** Checks one part of a file before the rest is read (config, include); false if it is refused. */
function checkPart(tree: YamlTree, path: Path, schema: z.ZodType, fail: Fail): boolean {
  const parsed = schema.safeParse(treeValue(tree));
  if (!parsed.success) for (const issue of parsed.error.issues) explainIssue(issue, path, rootedAt(tree, path), fail);
  return parsed.success;
}

/** A tree holding `tree` at `path` (so issue paths and tree paths agree). */
function rootedAt(tree: YamlTree, path: Path): YamlTree {
  let out = tree;
  for (const key of [...path].reverse()) out = { kind: 'map', at: tree.at, entries: new Map([[String(key), out]]) };
  return out;
}

// ---------------------------------------------------------------------------------------------
// Setup merging.

/** The setups in order, merged: settings field by field, lists one after another, the rest the last one's. */
function mergeSetups(setups: readonly YamlTree[]): YamlTree {
  return setups.reduce((into, next) => {
    if (into.kind !== 'map' || next.kind !== 'map') return into.kind !== 'map' ? into : next;
    let out: MapTree = { ...next, entries: into.entries };
    for (const [key, value] of next.entries) {
      const before = into.entries.get(key);
      if (key === 'settings' && before?.kind === 'map' && value.kind === 'map') {
        let settings: MapTree = { ...value, entries: before.entries };
        for (const [section, fields] of value.entries) {
          const old = before.entries.get(section);
          settings = withEntry(settings, section, old?.kind === 'map' && fields.kind === 'map' ? { ...fields, entries: new Map([...old.entries, ...fields.entries]) } : fields);
        }
        out = withEntry(out, key, settings);
      } else if (before?.kind === 'seq' && value.kind === 'seq') {
        out = withEntry(out, key, { ...value, items: [...before.items, ...value.items] });
      } else {
        out = withEntry(out, key, value);
      }
    }
    return out;
  });
}

// ---------------------------------------------------------------------------------------------
// zod issues as errors at places.

type Issue = z.core.$ZodIssue;

/**
 * One zod issue as errors with places. A step that fits no member of the step union is explained
 * by the member its key names (or, with no known key, by the key itself); other unions by the
 * member that got furthest.
 */
function explainIssue(issue: Issue, base: Path, tree: YamlTree, fail: Fail): void {
  const path = [...base, ...issue.path];
  const { node, rest } = treeAt(tree, path);
  switch (issue.code) {
    case 'unrecognized_keys': {
      const members = stepUnionAt(path);
      const stepKey = members && node.kind === 'map' ? [...node.entries.keys()].find((k) => members.includes(k)) : undefined;
      for (const key of issue.keys) {
        const entry = node.kind === 'map' ? node.entries.get(key) : undefined;
        if (stepKey !== undefined) {
          const companions = (STEP_COMPANION_KEYS as Record<string, readonly string[] | undefined>)[stepKey] ?? [];
          fail(entry?.keyAt ?? node.at, [...path, key], `unknown key ${JSON.stringify(key)} beside ${stepKey}: ${companions.length ? `only ${companions.join(', ')} may stand beside it` : 'a step is one key'}${suggestion(key, [...companions, ...members!])}`);
        } else fail(entry?.keyAt ?? node.at, [...path, key], `unknown key ${JSON.stringify(key)}${suggestion(key, knownKeys(path))}`);
      }
      return;
    }
    case 'invalid_union': {
      const members = stepUnionAt(path);
      if (members && rest.length === 0) return explainStep(issue, path, node, members, tree, fail);
      if (issue.errors.length === 0) {
        fail(node.at, path, issue.message);
        return;
      }
      const best = bestMember(issue.errors);
      if (best) for (const inner of best) explainIssue(inner, path, tree, fail);
      else fail(node.at, path, `expected ${expectedOf(issue.errors.flat())}`);
      return;
    }
    case 'invalid_type':
      if (rest.length > 0) {
        fail(node.keyAt ?? node.at, path, 'required');
        return;
      }
      fail(node.at, path, issue.message);
      return;
    default:
      fail(rest.length > 0 ? (node.keyAt ?? node.at) : node.at, path, issue.message);
  }
}

/** The step keys a union at this path chooses between: steps lists, and setup.levers (levers only). */
function stepUnionAt(path: Path): readonly string[] | undefined {
  if (path.length >= 2 && path[path.length - 2] === 'steps') return STEP_KEYS;
  if (path.length === 3 && path[0] === 'setup' && path[1] === 'levers') return LEVER_NAMES;
  return undefined;
}

function explainStep(issue: z.core.$ZodIssueInvalidUnion, path: Path, node: YamlTree, members: readonly string[], tree: YamlTree, fail: Fail): void {
  const what = members === STEP_KEYS ? 'step' : 'lever';
  if (node.kind !== 'map') {
    fail(node.at, path, `a ${what} is one key and its value, such as ${what === 'step' ? '- advance: 1h' : '- dns.remove: { name: smtp.gmail.com }'}`);
    return;
  }
  const keys = [...node.entries.keys()];
  const named = keys.filter((k) => members.includes(k));
  if (named.length === 0) {
    const unknown = keys.filter((k) => k !== 'as');
    if (unknown.length === 0) fail(node.at, path, `a ${what} names what it does: ${members.join(', ')}`);
    for (const key of unknown) {
      const entry = node.entries.get(key)!;
      const message = key.includes('.') ? `there is no lever ${JSON.stringify(key)}` : `${JSON.stringify(key)} is not a ${what}`;
      fail(entry.keyAt ?? entry.at, [...path, key], `${message}${suggestion(key, members) || (what === 'step' ? ` (steps: ${STEP_KEYS.filter((k) => !LEVER_NAMES.includes(k as never)).join(', ')}, or a lever)` : '')}`);
    }
    return;
  }
  if (named.length > 1) {
    const second = node.entries.get(named[1]!)!;
    fail(second.keyAt ?? second.at, [...path, named[1]!], `a ${what} does one thing: ${named.map((k) => JSON.stringify(k)).join(' and ')} are ${named.length} ${what}s; make them separate list items`);
    return;
  }
  for (const inner of issue.errors[members.indexOf(named[0]!)] ?? []) explainIssue(inner, path, tree, fail);
}

/**
 * The member of a union whose issues got furthest into the value; undefined when every member
 * refused the value at its root (a wrong type, or not one of the literals).
 */
function bestMember(members: readonly (readonly Issue[])[]): readonly Issue[] | undefined {
  const atRoot = (i: Issue) => i.path.length === 0 && (i.code === 'invalid_type' || i.code === 'invalid_value');
  const depth = (issues: readonly Issue[]) => (issues.every(atRoot) ? -1 : Math.max(0, ...issues.map((i) => i.path.length + (i.code === 'invalid_type' ? 0 : 1))));
  let best: readonly Issue[] | undefined;
  let bestDepth = -1;
  for (const issues of members) {
    const d = depth(issues);
    if (d > bestDepth || (d === bestDepth && best && issues.length < best.length)) {
      best = issues;
      bestDepth = d;
    }
  }
  return bestDepth < 0 ? undefined : best;
}

/** What the members of a union would have taken: `150, 300 or 600`, `a number or a string`. */
function expectedOf(issues: readonly Issue[]): string {
  const wanted = issues.flatMap((i) => (i.code === 'invalid_value' ? i.values.map((v) => JSON.stringify(v)) : i.code === 'invalid_type' ? [`a ${i.expected}`] : []));
  const unique = [...new Set(wanted)];
  return unique.length <= 1 ? (unique[0] ?? 'another value') : `${unique.slice(0, -1).join(', ')} or ${unique.at(-1)}`;
}

/** The keys allowed where an unknown key was found, for a suggestion. */
function knownKeys(path: Path): readonly string[] {
  if (path.length === 0) return SCENARIO_KEYS;
  if (path.length === 1 && path[0] === 'setup') return SETUP_KEYS;
  if (path[path.length - 1] === 'expect') return EXPECT_KEYS;
  return [];
}

/** What config does have, for an unknown key: the closest key, or all of them. */
function configHint(config: ReadonlyMap<string, unknown>, key: string): string {
  const keys = [...config.keys()];
  return suggestion(key, keys) || (keys.length ? ` (config has ${keys.join(', ')})` : ' (there is no config)');
}

/** ` (did you mean x?)` when a candidate is close to `word`. */
function suggestion(word: string, candidates: readonly string[]): string {
  let best: string | undefined;
  let bestDistance = Math.max(2, Math.floor(word.length / 3)) + 1;
  for (const candidate of candidates) {
    const d = editDistance(word.toLowerCase(), candidate.toLowerCase());
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best === undefined ? '' : ` (did you mean ${best}?)`;
}

/** Levenshtein distance, with a swap of two neighbours counted as one edit. */
function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, d[i - 2]![j - 2]! + 1);
      d[i]![j] = v;
    }
  }
  return d[a.length]![b.length]!;
}

/** Each error once (a part checked before the rest may be refused again by the whole). */
function uniqueErrors(errors: readonly LoadError[]): LoadError[] {
  const unique = new Map(errors.map((e) => [`${e.file}:${e.line}:${e.column}:${e.path}:${e.message}`, e]));
  return [...unique.values()];
}
