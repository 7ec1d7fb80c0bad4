/**
 * The levers on the command line, against a running simulator, made from the lever table
 * (device-sim/control/levers.ts): each lever is a command (its name's words, or the words its
 * entry gives), its arguments are flags (`--kebab-name value`, numbers with units) or positional.
 *
 *   npm run sim -- levers [GROUP]                      every lever with its flags
 *   npm run sim -- faults                              the faults in force
 *   npm run sim -- clear [FAULT-ID]                    undo one fault, or every one
 *   npm run sim -- fault net smtp.office365.com:587 --reset-after 2MB
 *   npm run sim -- smtp office365 --on MAIL --reply "421 4.7.0 Try again later" --times 2
 *   npm run sim -- lever NAME --json '{"…": …}'        any lever with its arguments as JSON
 *   … [--sim http://127.0.0.1:8081]  (or SIM_URL)
 *
 * Exit codes as `scan`'s (scan-cli.ts): 0 done · 2 bad usage or arguments (the field is named) ·
 * 3 refused (no such target, or not now) · 4 the simulator cannot be reached.
 */
import { parseArgs } from 'node:util';
import { LEVER_GROUPS, type CliFlag, type Lever } from '../control/lever-kit.ts';
import { LEVERS, LEVER_NAMES, type LeverName } from '../control/levers.ts';
import type { FaultView, LeverPull } from '../control/sim-state.ts';
import { EXIT } from './scan-cli.ts';
import { durationMs, durationS, sizeBytes } from './units.ts';

interface Io {
  readonly out: NodeJS.WritableStream;
  readonly err: NodeJS.WritableStream;
  readonly fetch: typeof fetch;
}

/** The commands this module answers (the first word after `sim`). */
export function isLeverCommand(word: string | undefined): boolean {
  return word !== undefined && (['levers', 'faults', 'clear', 'lever'].includes(word) || LEVER_NAMES.some((n) => wordsOf(n)[0] === word));
}

function wordsOf(name: LeverName): readonly string[] {
  return (LEVERS[name] as Lever).cli?.words ?? name.split('.');
}

const kebab = (field: string) => field.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

interface JsonSchemaField {
  readonly type?: string | readonly string[];
  readonly enum?: readonly unknown[];
  readonly description?: string;
  readonly items?: JsonSchemaField;
  readonly anyOf?: readonly JsonSchemaField[];
  readonly oneOf?: readonly JsonSchemaField[];
}

/** The top-level fields of a lever's schema (an object, or the union of a discriminated union's options). */
export function fieldsOf(l: Lever): Map<string, JsonSchemaField> {
  const schema = l.args.toJSONSchema({ io: 'input', unrepresentable: 'any' }) as { properties?: Record<string, JsonSchemaField>; oneOf?: { properties?: Record<string, JsonSchemaField> }[]; anyOf?: { properties?: Record<string, JsonSchemaField> }[] };
  const fields = new Map<string, JsonSchemaField>();
  for (const part of [schema, ...(schema.oneOf ?? []), ...(schema.anyOf ?? [])]) for (const [k, v] of Object.entries(part.properties ?? {})) if (!fields.has(k)) fields.set(k, v);
  return fields;
}

/** How a field is typed on the command line; `json` for a union of kinds (true, or settings). */
export function typeOf(field: JsonSchemaField): string {
  const options = field.anyOf ?? field.oneOf;
  if (options) {
    const kinds = new Set(options.map((o) => typeOf(o)));
    return kinds.size === 1 ? [...kinds][0]! : 'json';
  }
  const t = field.type;
  return Array.isArray(t) ? (t[0] as string) : ((t as string | undefined) ?? (field.enum ? typeof field.enum[0] : 'string'));
}

/** A flag's text as the field's value: units by the field's name, JSON for objects. */
function fieldValue(name: string, field: JsonSchemaField, text: string): unknown {
  const type = typeOf(field);
  if (type === 'integer' || type === 'number') {
    if (name.endsWith('Ms') || name === 'ms') return name === 'wallMs' && Number.isNaN(Number(text)) && !Number.isNaN(Date.parse(text)) ? Date.parse(text) : durationMs(text);
    if (name.endsWith('S') && name !== 'bytesPerS') return durationS(text);
    if (/(Bytes|Octets|bytesPerS|octets)$/.test(name)) return sizeBytes(text);
    const n = Number(text);
    if (Number.isNaN(n)) throw new Error(`--${kebab(name)}: not a number: ${JSON.stringify(text)}`);
    return n;
  }
  if (type === 'boolean') return text !== 'false';
  if (type === 'object' || type === 'array' || type === 'json') {
    try {
      return JSON.parse(text);
    } catch {
      if (type === 'array') return text.split(',').map((s) => s.trim());
      if (type === 'json') return text;
      throw new Error(`--${kebab(name)}: JSON expected, such as '{"kind":"timeout"}'`);
    }
  }
  return text;
}

/** Which lever a command line names: the longest matching words. */
export function leverFor(argv: readonly string[]): { name: LeverName; rest: string[] } | undefined {
  let best: { name: LeverName; length: number } | undefined;
  for (const name of LEVER_NAMES) {
    const words = wordsOf(name);
    if (words.every((w, i) => argv[i] === w) && (!best || words.length > best.length)) best = { name, length: words.length };
  }
  return best && { name: best.name, rest: argv.slice(best.length) };
}

/** The arguments of `name` from its command line (after its words). */
export function leverArgs(name: LeverName, argv: readonly string[]): Record<string, unknown> {
  const l: Lever = LEVERS[name];
  const fields = fieldsOf(l);
  const own: Readonly<Record<string, CliFlag>> = l.cli?.flags ?? {};
  const options: Record<string, { type: 'string' | 'boolean'; multiple?: boolean }> = { json: { type: 'string' } };
  for (const [field, schema] of fields) {
    options[kebab(field)] = { type: typeOf(schema) === 'boolean' ? 'boolean' : 'string', ...(typeOf(schema) === 'array' ? { multiple: true } : {}) };
    // A yes/no field also has its no: --no-enabled.
    if (typeOf(schema) === 'boolean') options[`no-${kebab(field)}`] = { type: 'boolean' };
  }
  for (const [flag, def] of Object.entries(own)) options[flag] = { type: def.type, ...(def.multiple ? { multiple: true } : {}) };
  const { values, positionals } = parseArgs({ args: [...argv], options, allowPositionals: true, strict: true });
  const args: Record<string, unknown> = values.json !== undefined ? (JSON.parse(values.json as string) as Record<string, unknown>) : {};
  const positional = l.cli?.positional ?? [];
  if (positionals.length > positional.length) throw new Error(`too many arguments: ${positionals.slice(positional.length).join(' ')}`);
  positionals.forEach((p, i) => (args[positional[i]!] = fieldValue(positional[i]!, fields.get(positional[i]!) ?? {}, p)));
  for (const [field, schema] of fields) {
    if (values[`no-${kebab(field)}`] === true) args[field] = false;
    const v = values[kebab(field)];
    if (v === undefined) continue;
    if (typeOf(schema) === 'array') args[field] = (v as string[]).flatMap((x) => x.split(',').map((s) => s.trim())).filter(Boolean);
    else args[field] = typeof v === 'boolean' ? v : fieldValue(field, schema, v as string);
  }
  for (const [flag, def] of Object.entries(own)) {
    const v = values[flag];
    if (v !== undefined) def.set(args, v as string | boolean | string[]);
  }
  return args;
}

function usage(name: LeverName): string {
  const l: Lever = LEVERS[name];
  const fields = fieldsOf(l);
  const positional = l.cli?.positional ?? [];
  const flags = [...fields.keys()].filter((f) => !positional.includes(f)).map((f) => `[--${kebab(f)} ${typeOf(fields.get(f)!) === 'boolean' ? '' : fields.get(f)!.enum ? (fields.get(f)!.enum as unknown[]).join('|') : f.toUpperCase()}]`.replace(' ]', ']'));
  const own = Object.entries(l.cli?.flags ?? {}).map(([f, d]) => `[--${f}${d.type === 'boolean' ? '' : ' VALUE'}]  ${d.help}`);
  return [`  ${[...wordsOf(name), ...positional.map((p) => p.toUpperCase())].join(' ')} ${flags.join(' ')}`, `      ${l.summary}`, ...own.map((o) => `      ${o}`)].join('\n');
}

/** Run a lever command; resolves to the exit code. */
export async function leverCli(argv: readonly string[], io: Io = { out: process.stdout, err: process.stderr, fetch }): Promise<number> {
  const simAt = argv.indexOf('--sim');
  const sim = simAt >= 0 ? argv[simAt + 1] : (process.env.SIM_URL ?? 'http://127.0.0.1:8081');
  const args = simAt >= 0 ? [...argv.slice(0, simAt), ...argv.slice(simAt + 2)] : [...argv];
  const base = sim === undefined ? null : URL.parse(sim);
  if (!base) {
    io.err.write(`--sim: not a URL: ${sim ?? '(missing)'}\n`);
    return EXIT.usage;
  }
  const api = async (method: string, path: string, body?: unknown): Promise<{ status: number; json: any } | undefined> => {
    try {
      const r = await io.fetch(new URL(path, base), { method, ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }) });
      return { status: r.status, json: r.status === 204 ? undefined : await r.json().catch(() => undefined) };
    } catch (e) {
      io.err.write(`The simulator at ${base.href} cannot be reached (${(e as Error).message}). Is \`make run\` running? (--sim URL or SIM_URL)\n`);
      return undefined;
    }
  };
  const [command] = args;
  if (command === 'levers') {
    const group = args[1];
    if (group !== undefined && !Object.hasOwn(LEVER_GROUPS, group)) {
      io.err.write(`levers: no group ${group}; the groups are ${Object.keys(LEVER_GROUPS).join(', ')}\n`);
      return EXIT.usage;
    }
    for (const [g, title] of Object.entries(LEVER_GROUPS)) {
      if (group !== undefined && g !== group) continue;
      const names = LEVER_NAMES.filter((n) => LEVERS[n].group === g);
      if (names.length > 0) io.out.write(`${title}\n${names.map(usage).join('\n')}\n\n`);
    }
    io.out.write('Every lever also: npm run sim -- lever NAME --json \'{…}\'.  Undo: npm run sim -- clear [ID].\n');
    return EXIT.delivered;
  }
  if (command === 'faults') {
    const r = await api('GET', '/sim/api/faults');
    if (!r) return EXIT.unreachable;
    const faults = r.json as FaultView[];
    io.out.write(faults.length === 0 ? 'No faults in force.\n' : faults.map((f) => `${f.id}  ${f.sentence}${f.active ? '' : ' (run its course)'}`).join('\n') + '\n');
    return EXIT.delivered;
  }
  if (command === 'clear') {
    const id = args[1];
    const r = id === undefined ? await api('DELETE', '/sim/api/faults') : await api('DELETE', `/sim/api/faults/${encodeURIComponent(id)}`);
    if (!r) return EXIT.unreachable;
    if (r.status === 404) {
      io.err.write(`${(r.json as { message: string }).message}\n`);
      return EXIT.refused;
    }
    io.out.write(id === undefined ? `Cleared ${(r.json as { cleared: number }).cleared} fault(s); the world is back to normal.\n` : `Cleared ${id}.\n`);
    return EXIT.delivered;
  }
  let name: LeverName;
  let rest: string[];
  if (command === 'lever') {
    const given = args[1];
    if (given === undefined || !Object.hasOwn(LEVERS, given)) {
      io.err.write(`lever: name one of ${LEVER_NAMES.join(', ')}\n`);
      return EXIT.usage;
    }
    name = given as LeverName;
    rest = args.slice(2);
  } else {
    const found = leverFor(args);
    if (!found) {
      io.err.write(`No lever is called ${args.join(' ')}: npm run sim -- levers\n`);
      return EXIT.usage;
    }
    ({ name, rest } = found);
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    io.out.write(`${usage(name)}\n`);
    return EXIT.delivered;
  }
  let leverArgsValue: Record<string, unknown>;
  try {
    leverArgsValue = leverArgs(name, rest);
  } catch (e) {
    io.err.write(`${(e as Error).message}\n${usage(name)}\n`);
    return EXIT.usage;
  }
  const r = await api('POST', `/sim/api/levers/${name}`, leverArgsValue);
  if (!r) return EXIT.unreachable;
  if (r.status >= 400) {
    const refusal = r.json as { message?: string; fields?: { path: string; message: string }[] } | undefined;
    io.err.write(`${refusal?.message ?? `HTTP ${r.status}`}\n`);
    if (r.status === 400) io.err.write(`${usage(name)}\n`);
    return r.status === 400 ? EXIT.usage : EXIT.refused;
  }
  const pull = r.json as LeverPull;
  io.out.write(pull.fault ? `${pull.fault.id}  ${pull.sentence}\n` : `${pull.sentence}\n`);
  if (pull.result !== undefined && !pull.fault) io.out.write(`${JSON.stringify(pull.result, null, 2)}\n`);
  return EXIT.delivered;
}
