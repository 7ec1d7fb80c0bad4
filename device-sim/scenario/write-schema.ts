/**
 * Publishes the scenario format for editors: `scenarios/scenario.schema.json` (scenario files)
 * and `scenarios/setup.schema.json` (the setup files they include), made from the zod schemas in
 * scenario-schema.ts with zod's toJSONSchema (the input side: what a tester writes). A file opts in
 * with `# yaml-language-server: $schema=./scenario.schema.json`.
 *
 *   npm run scenarios:schema
 *
 * Draft-07, which every YAML language server reads. Where a number or a checked string is
 * expected, a string holding `${key}` is accepted too: the loader replaces it from `config`
 * before it validates, so the editor must not flag it (not in `config` and `include`, and not in
 * keys, which the loader leaves as written).
 */
import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { z } from 'zod';
import { scenarioSchema, setupFileSchema } from './scenario-schema.ts';

/** The repository. */
export const ROOT = resolve(import.meta.dirname, '../..');

/** The files this writes, relative to the repository, and what each holds. */
export const SCHEMA_FILES = {
  'scenarios/scenario.schema.json': scenarioSchema,
  'scenarios/setup.schema.json': setupFileSchema,
} as const;

/** A string with a `${key}` in it, as the loader will replace it. */
const WITH_REFERENCE = { type: 'string', pattern: '\\$\\{[A-Za-z_][A-Za-z0-9_.-]*\\}' } as const;

/** The JSON Schema text of one of the files. */
export function jsonSchemaText(schema: z.ZodType): string {
  const json = z.toJSONSchema(schema, {
    io: 'input',
    target: 'draft-07',
    unrepresentable: 'any',
    override: ({ jsonSchema, path }) => {
      if (path[1] === 'config' || path[1] === 'include' || path.includes('propertyNames')) return;
      const checked = jsonSchema.type === 'number' || jsonSchema.type === 'integer' || (jsonSchema.type === 'string' && (jsonSchema.pattern !== undefined || jsonSchema.format !== undefined));
      if (!checked) return;
      const { description, default: fallback, ...own } = jsonSchema;
      for (const key of Object.keys(jsonSchema)) delete (jsonSchema as Record<string, unknown>)[key];
      Object.assign(jsonSchema, { ...(description !== undefined ? { description } : {}), ...(fallback !== undefined ? { default: fallback } : {}), anyOf: [own, WITH_REFERENCE] });
    },
  });
  return `${JSON.stringify(json, null, 2)}\n`;
}

async function main(): Promise<void> {
  for (const [file, schema] of Object.entries(SCHEMA_FILES)) {
    await writeFile(resolve(ROOT, file), jsonSchemaText(schema));
    process.stdout.write(`wrote ${file}\n`);
  }
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(import.meta.filename)) await main();
