/**
 * docs/testing.md carries the lever reference made from the lever table (device-sim/cli/lever-docs.ts):
 * a lever added, renamed or re-worded without `npm run docs:levers` fails here. And each lever's
 * command-line example parses back to the arguments of its API example.
 */
import { readdir, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { leverArgs, leverFor } from '../../device-sim/cli/lever-cli.ts';
import { cliExample, DOC_FILE, documentWithReference } from '../../device-sim/cli/lever-docs.ts';
import { LEVERS, LEVER_NAMES } from '../../device-sim/control/levers.ts';

/** A shell line's words (single or double quotes as the examples write them). */
function shellWords(line: string): string[] {
  return [...line.matchAll(/'((?:[^']|'\\'')*)'|"([^"]*)"|(\S+)/g)].map((m) => (m[1] !== undefined ? m[1].replace(/'\\''/g, "'") : (m[2] ?? m[3]!)));
}

describe('the lever reference in docs/testing.md', () => {
  it('is the one the lever table makes (run npm run docs:levers)', async () => {
    expect(await readFile(DOC_FILE, 'utf8')).toBe(await documentWithReference());
  });

  it.each(LEVER_NAMES)('%s: the command-line example means the API example', (name) => {
    const words = shellWords(cliExample(name)).slice(4);
    const leverWords = LEVERS[name].cli?.words ?? name.split('.');
    expect(words.slice(0, leverWords.length)).toEqual([...leverWords]);
    const parsed = LEVERS[name].args.safeParse(leverArgs(name, words.slice(leverWords.length)));
    const expected = LEVERS[name].args.safeParse(LEVERS[name].example);
    expect(parsed.success, JSON.stringify(parsed.error?.issues)).toBe(true);
    expect(parsed.data).toEqual(expected.data);
  });

  it('every command line in its prose and in the README pulls a lever with arguments the lever accepts', async () => {
    const text = await readFile(DOC_FILE, 'utf8');
    const prose = text.slice(0, text.indexOf('<!-- levers:begin'));
    const readme = (await readFile(join(dirname(DOC_FILE), '../README.md'), 'utf8')).replace(/\n\s+/g, ' ');
    const lines = [...prose.matchAll(/^npm run sim -- (.+?)(?:\s+#.*)?$/gm), ...readme.matchAll(/`npm run sim -- ([^`]+)`/g)].map((m) => m[1]!);
    expect(lines.length).toBeGreaterThan(15);
    for (const line of lines) {
      const words = shellWords(line);
      if (['levers', 'faults', 'clear', 'scan', 'run'].includes(words[0]!)) continue;
      const found = leverFor(words);
      expect(found, line).toBeDefined();
      const parsed = LEVERS[found!.name].args.safeParse(leverArgs(found!.name, found!.rest));
      expect(parsed.success, `${line}: ${JSON.stringify(parsed.error?.issues)}`).toBe(true);
    }
  });

  it('its example scenarios are scenarios of the library (so make test runs them)', async () => {
    const text = await readFile(DOC_FILE, 'utf8');
    const examples = [...text.matchAll(/```yaml\n(# yaml-language-server[^`]*?)```/g)].map((m) => m[1]!);
    expect(examples.length).toBeGreaterThanOrEqual(2);
    const library = join(dirname(DOC_FILE), '../scenarios');
    const files = (await readdir(library, { recursive: true })).filter((f) => f.endsWith('.scenario.yaml'));
    const texts = await Promise.all(files.map((f) => readFile(join(library, f), 'utf8')));
    for (const example of examples) expect(texts, example.split('\n')[1]).toContain(example);
  });
});
