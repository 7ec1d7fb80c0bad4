/**
 * The lever reference of docs/testing.md, made from the lever table so the two cannot disagree:
 * per lever its summary, whether it lasts, its example as an API call and as a command line.
 *
 *   npm run docs:levers        rewrites the block between the markers in docs/testing.md
 * (test/unit/lever-docs.test.ts fails when the block is out of date.)
 */
import { readFile, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { LEVER_GROUPS, type Lever } from '../control/lever-kit.ts';
import { fieldsOf, typeOf } from './lever-cli.ts';
import { LEVERS, LEVER_NAMES, type LeverName } from '../control/levers.ts';

export const DOC_FILE = resolve(import.meta.dirname, '../../docs/testing.md');
export const BEGIN = '<!-- levers:begin (made by npm run docs:levers from device-sim/control/levers.ts) -->';
export const END = '<!-- levers:end -->';

const kebab = (field: string) => field.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
const shellWord = (value: string) => (/^[\w.:@/+-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`);

/** The example of `name` as `npm run sim -- …`: its words, positional values, then flags. */
export function cliExample(name: LeverName): string {
  const l: Lever = LEVERS[name];
  const example = l.example as Record<string, unknown>;
  const words = [...(l.cli?.words ?? name.split('.'))];
  const positional = l.cli?.positional ?? [];
  for (const p of positional) if (example[p] !== undefined) words.push(shellWord(String(example[p])));
  const fields = fieldsOf(l);
  for (const [field, value] of Object.entries(example)) {
    if (positional.includes(field)) continue;
    if (typeof value === 'boolean' && typeOf(fields.get(field) ?? {}) === 'boolean') words.push(value ? `--${kebab(field)}` : `--no-${kebab(field)}`);
    else if (Array.isArray(value)) for (const v of value) words.push(`--${kebab(field)}`, shellWord(String(v)));
    else if (typeof value === 'object' && value !== null) words.push(`--${kebab(field)}`, shellWord(JSON.stringify(value)));
    else words.push(`--${kebab(field)}`, shellWord(String(value)));
  }
  return `npm run sim -- ${words.join(' ')}`;
}

export function leverReference(): string {
  const parts: string[] = [];
  for (const [group, title] of Object.entries(LEVER_GROUPS)) {
    const names = LEVER_NAMES.filter((n) => LEVERS[n].group === group);
    if (names.length === 0) continue;
    parts.push(`### ${title}\n`);
    for (const name of names) {
      const l: Lever = LEVERS[name];
      parts.push(
        `#### \`${name}\` (${l.makes === 'fault' ? 'a fault: lasts until cleared' : 'an action: happens once'})\n`,
        `${l.summary}.\n`,
        '```sh',
        `curl -s -X POST http://127.0.0.1:8081/sim/api/levers/${name} -H 'content-type: application/json' -d ${shellWord(JSON.stringify(l.example))}`,
        cliExample(name),
        '```\n',
      );
    }
  }
  return `${BEGIN}\n\n${parts.join('\n')}\n${END}`;
}

/** docs/testing.md with its lever block made afresh. */
export async function documentWithReference(): Promise<string> {
  const text = await readFile(DOC_FILE, 'utf8');
  const begin = text.indexOf(BEGIN);
  const end = text.indexOf(END);
  if (begin < 0 || end < begin) throw new Error(`${DOC_FILE}: the markers ${BEGIN} … ${END} are missing`);
  return `${text.slice(0, begin)}${leverReference()}${text.slice(end + END.length)}`;
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(import.meta.filename)) {
  await writeFile(DOC_FILE, await documentWithReference());
  process.stdout.write(`${DOC_FILE}: lever reference written (${LEVER_NAMES.length} levers)\n`);
}
