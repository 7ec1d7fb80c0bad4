/**
 * A lever's input that failed validation, as a value that names each bad field by its dotted path
 * (the shape control/json-api.ts answers with), and as the error a library call throws when its
 * caller skipped the check at the door.
 */
import type { z } from 'zod';

export interface FieldProblem {
  /** Dotted path of the field ("act.reply.code"); "(input)" for the whole value. */
  readonly path: string;
  readonly message: string;
}

export type Checked<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly problems: readonly FieldProblem[] };

/** `schema` applied to `input`, with zod's issues as field problems. */
export function check<T>(schema: z.ZodType<T>, input: unknown): Checked<T> {
  const parsed = schema.safeParse(input);
  if (parsed.success) return { ok: true, value: parsed.data };
  return { ok: false, problems: parsed.error.issues.flatMap((i) => problemsOf(i, [])) };
}

/**
 * One issue as field problems. zod reports a value that fits no option of a union as one
 * "Invalid input"; when exactly one option is of the value's type (an object where `true` or
 * settings were allowed), that option's own issues say what is wrong, with their paths.
 */
function problemsOf(issue: z.core.$ZodIssue, base: readonly PropertyKey[]): FieldProblem[] {
  const path = [...base, ...issue.path];
  if (issue.code === 'invalid_union') {
    const typeOnly = (branch: readonly z.core.$ZodIssue[]) => branch.every((i) => i.code === 'invalid_type' && i.path.length === 0);
    const fitting = issue.errors.filter((branch) => !typeOnly(branch));
    if (fitting.length === 1) return fitting[0]!.flatMap((i) => problemsOf(i, path));
    if (fitting.length === 0) {
      const expected = issue.errors.flatMap((branch) => branch.map((i) => (i.code === 'invalid_type' ? i.expected : undefined))).filter((e) => e !== undefined);
      if (expected.length > 0) return [{ path: dotted(path), message: `expected ${[...new Set(expected)].join(' or ')}` }];
    }
  }
  return [{ path: dotted(path), message: issue.message }];
}

function dotted(path: readonly PropertyKey[]): string {
  return path.map(String).join('.') || '(input)';
}

export class InvalidInputError extends Error {
  constructor(
    what: string,
    readonly problems: readonly FieldProblem[],
  ) {
    super(`invalid ${what}: ${problems.map((p) => `${p.path}: ${p.message}`).join('; ')}`);
    this.name = 'InvalidInputError';
  }
}

/** The checked value, or an InvalidInputError naming the fields (for library calls). */
export function checked<T>(what: string, schema: z.ZodType<T>, input: unknown): T {
  const result = check(schema, input);
  if (!result.ok) throw new InvalidInputError(what, result.problems);
  return result.value;
}
