/**
 * A lever's form, made from the JSON Schema of its arguments (`GET /sim/api/levers`): which input
 * each argument gets, the values the lever's example fills in, and the arguments read back from
 * what the tester entered. Pure (no DOM, no Lit): lever-form.ts draws it.
 *
 * The mapping, for the shapes zod's toJSONSchema gives:
 *   string → text; enum, or anyOf/oneOf of consts → choice; integer/number → number (min/max);
 *   boolean → check (`const: true` sends true or nothing); array of scalars → list (one a line);
 *   anyOf of plain scalars (a seed: integer or string) → scalar, sent as a number when it reads as one;
 *   object → group of its properties; oneOf of objects sharing a `const` property → variants
 *   (a choice of the variant, then its fields). Anything else (anyOf of unrelated shapes, arrays of
 *   objects, records) → json, a textarea of JSON.
 *
 * Values are read from the form as text (FormData), keyed by the dotted path of the argument.
 * Nothing here checks ranges or patterns: the server's schema is the judge, and its refusals
 * name the fields by the same dotted paths.
 */

/** The parts of JSON Schema (draft 2020-12) the generator reads. */
export interface JsonSchema {
  readonly type?: string | readonly string[];
  readonly properties?: Readonly<Record<string, JsonSchema>>;
  readonly required?: readonly string[];
  readonly enum?: readonly unknown[];
  readonly const?: unknown;
  readonly anyOf?: readonly JsonSchema[];
  readonly oneOf?: readonly JsonSchema[];
  readonly items?: JsonSchema;
  readonly minimum?: number;
  readonly maximum?: number;
  readonly exclusiveMinimum?: number;
  readonly exclusiveMaximum?: number;
  readonly maxLength?: number;
  readonly description?: string;
}

type ScalarType = 'string' | 'number' | 'integer';

interface FieldBase {
  /** Argument names from the top; `[]` for the lever's arguments as a whole. */
  readonly path: readonly string[];
  /** Its parent object lists it as required. */
  readonly required: boolean;
  readonly description?: string;
}

export type FormField =
  | (FieldBase & { readonly kind: 'text'; readonly maxLength?: number })
  | (FieldBase & { readonly kind: 'number'; readonly integer: boolean; readonly min?: number; readonly max?: number; readonly minExclusive?: boolean; readonly maxExclusive?: boolean })
  | (FieldBase & { readonly kind: 'choice'; readonly options: readonly Scalar[] })
  | (FieldBase & { readonly kind: 'check'; readonly onlyTrue: boolean })
  | (FieldBase & { readonly kind: 'list'; readonly itemType: ScalarType })
  | (FieldBase & { readonly kind: 'scalar'; readonly types: readonly ScalarType[] })
  | (FieldBase & { readonly kind: 'group'; readonly fields: readonly FormField[] })
  | (FieldBase & { readonly kind: 'variants'; readonly tag: string; readonly variants: readonly Variant[] })
  | (FieldBase & { readonly kind: 'json'; /** What the JSON may be, in short: `true/false or {messages, windowMs, mode}`. */ readonly shape: string });

export type Scalar = string | number | boolean | null;

export interface Variant {
  readonly value: Scalar;
  /** Its fields, the tag itself left out. */
  readonly fields: readonly FormField[];
}

/** What the tester entered, by dotted path: text of inputs, selects and textareas; `true` for a ticked box. */
export type Entries = ReadonlyMap<string, string | boolean>;

export interface FieldProblem {
  readonly path: string;
  readonly message: string;
}

export function dotted(path: readonly string[]): string {
  return path.join('.');
}

/** A choice's option as the `value` of an <option> (JSON, so 500 and "500" stay apart). */
export function optionValue(option: Scalar): string {
  return JSON.stringify(option);
}

/** The form of a lever's arguments. */
export function formModel(schema: unknown): FormField {
  return fieldOf(isSchema(schema) ? schema : {}, [], true);
}

function fieldOf(s: JsonSchema, path: readonly string[], required: boolean): FormField {
  const base = { path, required, ...(s.description !== undefined ? { description: s.description } : {}) };
  const options = s.oneOf ?? s.anyOf;
  if (options) {
    const consts = options.map((o) => o.const);
    if (consts.every(isScalar)) return { ...base, kind: 'choice', options: consts };
    const tag = commonTag(options);
    if (tag !== undefined) {
      const variants = options.map((o) => ({ value: o.properties![tag]!.const as Scalar, fields: propertiesOf(o, path).filter((f) => f.path.at(-1) !== tag) }));
      return { ...base, kind: 'variants', tag, variants };
    }
    const types = options.map((o) => (o.enum === undefined && o.const === undefined ? scalarType(o.type) : undefined));
    if (types.every((t) => t !== undefined)) return { ...base, kind: 'scalar', types: [...new Set(types)] };
    return { ...base, kind: 'json', shape: shapeOf(s) };
  }
  if (s.enum && s.enum.every(isScalar)) return { ...base, kind: 'choice', options: s.enum };
  if (s.type === 'boolean') return { ...base, kind: 'check', onlyTrue: s.const === true };
  if (s.const !== undefined && isScalar(s.const)) return { ...base, kind: 'choice', options: [s.const] };
  if (s.type === 'integer' || s.type === 'number') {
    const integer = s.type === 'integer';
    // An exclusive bound of an integer is the next whole number; of a real number, the bound itself, said so in the hint.
    const min = s.minimum ?? (s.exclusiveMinimum !== undefined ? s.exclusiveMinimum + (integer ? 1 : 0) : undefined);
    const max = s.maximum ?? (s.exclusiveMaximum !== undefined ? s.exclusiveMaximum - (integer ? 1 : 0) : undefined);
    const minExclusive = !integer && s.minimum === undefined && s.exclusiveMinimum !== undefined;
    const maxExclusive = !integer && s.maximum === undefined && s.exclusiveMaximum !== undefined;
    return {
      ...base,
      kind: 'number',
      integer,
      ...(min !== undefined ? { min } : {}),
      ...(max !== undefined ? { max } : {}),
      ...(minExclusive ? { minExclusive } : {}),
      ...(maxExclusive ? { maxExclusive } : {}),
    };
  }
  if (s.type === 'string') return { ...base, kind: 'text', ...(s.maxLength !== undefined ? { maxLength: s.maxLength } : {}) };
  if (s.type === 'array' && s.items) {
    const itemType = s.items.enum === undefined && s.items.anyOf === undefined && s.items.oneOf === undefined ? scalarType(s.items.type) : undefined;
    if (itemType) return { ...base, kind: 'list', itemType };
  }
  if (s.type === 'object' && s.properties) return { ...base, kind: 'group', fields: propertiesOf(s, path) };
  return { ...base, kind: 'json', shape: shapeOf(s) };
}

/** A schema in a few words, for the hint of a JSON field. */
function shapeOf(s: JsonSchema): string {
  const options = s.oneOf ?? s.anyOf;
  if (options) return options.map(shapeOf).join(' or ');
  if (s.const !== undefined) return JSON.stringify(s.const);
  if (s.enum) return s.enum.map((v) => JSON.stringify(v)).join(' | ');
  switch (s.type) {
    case 'boolean':
      return 'true/false';
    case 'string':
      return '"text"';
    case 'integer':
    case 'number':
      return 'a number';
    case 'array':
      return `[${s.items ? shapeOf(s.items) : '…'}, …]`;
    case 'object':
      return `{${Object.keys(s.properties ?? {}).join(', ') || '…'}}`;
    default:
      return 'any JSON';
  }
}

function propertiesOf(s: JsonSchema, path: readonly string[]): FormField[] {
  const required = new Set(s.required ?? []);
  return Object.entries(s.properties ?? {}).map(([key, property]) => fieldOf(property, [...path, key], required.has(key)));
}

/** The property every option is an object with, holding a different scalar `const` in each. */
function commonTag(options: readonly JsonSchema[]): string | undefined {
  const first = options[0]?.properties;
  if (!first) return undefined;
  return Object.keys(first).find((key) => {
    const values = options.map((o) => o.properties?.[key]?.const);
    return values.every(isScalar) && new Set(values).size === values.length;
  });
}

function scalarType(type: JsonSchema['type']): ScalarType | undefined {
  return type === 'string' || type === 'number' || type === 'integer' ? type : undefined;
}

function isScalar(value: unknown): value is Scalar {
  return value === null || ['string', 'number', 'boolean'].includes(typeof value);
}

function isSchema(value: unknown): value is JsonSchema {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isRecord(value: unknown): value is Readonly<Record<string, unknown>> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

// ---------------------------------------------------------------------------------------------
// Filling the form in, and reading it back.

/** The entries that show `value` (the lever's example) in the form. */
export function prefill(field: FormField, value: unknown): Map<string, string | boolean> {
  const entries = new Map<string, string | boolean>();
  const fill = (f: FormField, v: unknown): void => {
    const key = dotted(f.path);
    switch (f.kind) {
      case 'text':
        if (typeof v === 'string') entries.set(key, v);
        return;
      case 'number':
        if (typeof v === 'number') entries.set(key, String(v));
        return;
      case 'scalar':
        if (typeof v === 'string' || typeof v === 'number') entries.set(key, String(v));
        return;
      case 'choice':
        if (isScalar(v) && f.options.includes(v)) entries.set(key, optionValue(v));
        return;
      case 'check':
        if (v === true) entries.set(key, true);
        return;
      case 'list':
        if (Array.isArray(v)) entries.set(key, v.map(String).join('\n'));
        return;
      case 'json':
        if (v !== undefined) entries.set(key, JSON.stringify(v));
        return;
      case 'group':
        for (const child of f.fields) fill(child, isRecord(v) ? v[child.path.at(-1)!] : undefined);
        return;
      case 'variants': {
        const tagValue = isRecord(v) ? v[f.tag] : undefined;
        const variant = f.variants.find((x) => x.value === tagValue);
        if (!variant) return;
        entries.set(dotted([...f.path, f.tag]), optionValue(variant.value));
        for (const child of variant.fields) fill(child, isRecord(v) ? v[child.path.at(-1)!] : undefined);
        return;
      }
    }
  };
  fill(field, value);
  return entries;
}

/** The option a choice shows: the one entered, else the first of a required choice (it has no empty option). */
export function chosen(field: { readonly path: readonly string[]; readonly required: boolean; readonly options: readonly Scalar[] }, entries: Entries): Scalar | undefined {
  const entry = entries.get(dotted(field.path));
  const option = typeof entry === 'string' && entry !== '' ? field.options.find((o) => optionValue(o) === entry) : undefined;
  return option ?? (field.required ? field.options[0] : undefined);
}

/** The variant shown: the one chosen, else the first when the argument is required. */
export function chosenVariant(field: Extract<FormField, { kind: 'variants' }>, entries: Entries): Variant | undefined {
  const value = chosen({ path: [...field.path, field.tag], required: field.required, options: field.variants.map((v) => v.value) }, entries);
  return field.variants.find((v) => v.value === value);
}

/** The fields on show for these entries, groups and variant tags included (where a refusal can be shown). */
export function visiblePaths(field: FormField, entries: Entries): string[] {
  const paths: string[] = field.path.length > 0 ? [dotted(field.path)] : [];
  if (field.kind === 'group') for (const child of field.fields) paths.push(...visiblePaths(child, entries));
  if (field.kind === 'variants') {
    paths.push(dotted([...field.path, field.tag]));
    for (const child of chosenVariant(field, entries)?.fields ?? []) paths.push(...visiblePaths(child, entries));
  }
  return paths;
}

/** Where a problem at `path` ("rule.act.reply.code", "sendAs.2") shows: the deepest field on show that holds it. */
export function placeOf(path: string, shown: readonly string[]): string | undefined {
  let best: string | undefined;
  for (const candidate of shown) {
    const holds = path === candidate || path.startsWith(`${candidate}.`);
    if (holds && (best === undefined || candidate.length > best.length)) best = candidate;
  }
  return best;
}

/**
 * The lever's arguments from the entries: empty inputs are left out (the server says which are
 * needed), an optional object with nothing entered is left out. Problems are what cannot even be
 * sent (text that is not JSON, a list item that is not a number).
 */
export function readArgs(field: FormField, entries: Entries): { readonly value: unknown; readonly problems: readonly FieldProblem[] } {
  const problems: FieldProblem[] = [];
  const read = (f: FormField): unknown => {
    const key = dotted(f.path);
    const entry = entries.get(key);
    const text = typeof entry === 'string' ? entry : '';
    switch (f.kind) {
      case 'text':
        return text === '' ? undefined : text;
      case 'number': {
        if (text.trim() === '') return undefined;
        const n = Number(text);
        if (Number.isFinite(n)) return n;
        problems.push({ path: key, message: 'a number' });
        return undefined;
      }
      case 'scalar':
        return scalarOf(text, f.types);
      case 'choice':
        return chosen(f, entries);
      case 'check':
        return entry === true ? true : f.onlyTrue || !f.required ? undefined : false;
      case 'list': {
        const items = text.split('\n').map((line) => line.trim()).filter((line) => line !== '');
        if (items.length === 0) return undefined;
        if (f.itemType === 'string') return items;
        const numbers = items.map(Number);
        if (numbers.every(Number.isFinite)) return numbers;
        problems.push({ path: key, message: 'one number a line' });
        return undefined;
      }
      case 'json':
        if (text.trim() === '') return undefined;
        try {
          return JSON.parse(text) as unknown;
        } catch (e) {
          problems.push({ path: key, message: `not JSON: ${(e as Error).message}` });
          return undefined;
        }
      case 'group': {
        const object = objectOf(f.fields);
        return Object.keys(object).length > 0 || f.required || f.path.length === 0 ? object : undefined;
      }
      case 'variants': {
        const variant = chosenVariant(f, entries);
        return variant ? { [f.tag]: variant.value, ...objectOf(variant.fields) } : undefined;
      }
    }
  };
  const objectOf = (fields: readonly FormField[]): Record<string, unknown> => {
    const object: Record<string, unknown> = {};
    for (const child of fields) {
      const value = read(child);
      if (value !== undefined) object[child.path.at(-1)!] = value;
    }
    return object;
  };
  const value = read(field);
  return { value, problems };
}

/** Text in an input that takes a number or a string: a number when it reads as one the schema takes. */
function scalarOf(text: string, types: readonly ScalarType[]): unknown {
  const trimmed = text.trim();
  if (trimmed === '') return undefined;
  if (types.includes('integer') && /^-?\d+$/.test(trimmed)) return Number(trimmed);
  if (types.includes('number') && trimmed !== '' && Number.isFinite(Number(trimmed))) return Number(trimmed);
  return types.includes('string') ? text : trimmed;
}
