/**
 * The control page's lever forms are made from the levers' JSON Schemas (lever-form-model.ts):
 * every lever of the table gets a form, its example fills the form in and reads back unchanged,
 * and the shapes map to the inputs the page promises (nested objects as groups, a
 * discriminated union as variants, unrelated unions as JSON). A refusal's dotted path lands on
 * the deepest field on show.
 */
import { describe, expect, it } from 'vitest';
import { LeverBench } from '../../device-sim/control/lever-bench.ts';
import type { Bench } from '../../device-sim/control/lever-kit.ts';
import { formModel, placeOf, prefill, readArgs, visiblePaths, type FormField } from '../../device-sim/control/page/lever-form-model.ts';

const catalogue = new LeverBench({} as Bench, () => 0).catalogue();
const lever = (name: string) => catalogue.find((l) => l.name === name)!;
const kinds = (f: FormField): unknown =>
  f.kind === 'group' ? Object.fromEntries(f.fields.map((c) => [c.path.at(-1), kinds(c)])) : f.kind === 'variants' ? { [`variants of ${f.tag}`]: f.variants.map((v) => v.value) } : f.kind;

describe('lever forms from the JSON Schemas', () => {
  it.each(catalogue.map((l) => [l.name, l] as const))('%s: the example fills the form in and reads back as it was', (_, l) => {
    const model = formModel(l.schema);
    const read = readArgs(model, prefill(model, l.example));
    expect(read.problems).toEqual([]);
    expect(read.value).toEqual(l.example);
  });

  it('maps each kind of argument to its input', () => {
    expect(kinds(formModel(lever('net.fault').schema))).toEqual({
      target: 'text',
      fault: 'choice',
      latencyMs: 'number',
      jitterMs: 'number',
      bytesPerS: 'number',
      afterBytes: 'number',
      direction: 'choice',
      connections: 'number',
      probability: 'number',
    });
    expect(kinds(formModel(lever('smtp.rule').schema))).toEqual({
      server: 'choice',
      rule: { on: 'choice', match: 'json', act: { reply: { code: 'number', enhanced: 'text', text: 'text', lines: 'list' }, delayMs: 'number', disconnect: 'check', stall: 'check' }, times: 'number', nth: 'number', probability: 'number' },
    });
    expect(kinds(formModel(lever('clock.device').schema))).toEqual({ 'variants of action': ['set', 'jump', 'drift', 'battery-loss'] });
    expect(kinds(formModel(lever('identity.outage').schema))).toEqual({ endpoint: 'choice', mode: { 'variants of kind': ['status', 'timeout'] } });
    expect(kinds(formModel(lever('random.seed').schema))).toEqual({ seed: 'scalar' });
    expect(Object.values(kinds(formModel(lever('exchange.limits').schema)) as object)).toEqual(Array(5).fill('json'));
  });

  it('reads what the tester entered: numbers as numbers, empty fields and empty optional objects left out', () => {
    const model = formModel(lever('smtp.rule').schema);
    const entries = new Map<string, string | boolean>([
      ['server', '"gmail"'],
      ['rule.on', '"rcpt"'],
      ['rule.act.reply.code', ''],
      ['rule.act.reply.text', ''],
      ['rule.act.disconnect', true],
      ['rule.times', '3'],
      ['rule.match', ''],
    ]);
    expect(readArgs(model, entries)).toEqual({ value: { server: 'gmail', rule: { on: 'rcpt', act: { disconnect: true }, times: 3 } }, problems: [] });
    expect(readArgs(model, new Map([['rule.match', '{"regex": ']]))).toMatchObject({ problems: [{ path: 'rule.match', message: expect.stringMatching(/^not JSON/) }] });
    expect(readArgs(formModel(lever('random.seed').schema), new Map([['seed', 'blue moon']])).value).toEqual({ seed: 'blue moon' });
  });

  it('shows the fields of the chosen variant only, and places a refusal on the deepest field on show', () => {
    const model = formModel(lever('clock.device').schema);
    const drift = new Map([['action', '"drift"']]);
    // Each variant carries `device` too (which printer of a fleet).
    expect(visiblePaths(model, drift)).toEqual(['action', 'ppm', 'device']);
    expect(readArgs(model, new Map([...drift, ['ppm', '12.5']])).value).toEqual({ action: 'drift', ppm: 12.5 });
    const rule = visiblePaths(formModel(lever('smtp.rule').schema), new Map());
    expect(placeOf('rule.act.reply.code', rule)).toBe('rule.act.reply.code');
    expect(placeOf('rule.act', rule)).toBe('rule.act');
    expect(placeOf('rule.match.regex', rule)).toBe('rule.match');
    expect(placeOf('(input)', rule)).toBeUndefined();
  });
});
