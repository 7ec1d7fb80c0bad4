/**
 * Scenario files (device-sim/scenario/): a file with every kind of step loads into typed values
 * (durations in ms, `${key}` replaced, included setup first, each step with its line), and every
 * kind of mistake a tester makes is named with its file, line, column and field. The published
 * JSON Schemas are the ones the zod schema makes.
 */
import { readFile } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatErrors, loadScenario, type LoadError, type LoadResult } from '../../device-sim/scenario/load-scenario.ts';
import { matchesPattern, type Scenario, type Step } from '../../device-sim/scenario/scenario-schema.ts';
import { jsonSchemaText, ROOT, SCHEMA_FILES } from '../../device-sim/scenario/write-schema.ts';

const FIXTURES = relative(process.cwd(), resolve(import.meta.dirname, '../fixtures/scenarios'));
const fixture = (name: string) => join(FIXTURES, name);

function loaded(result: LoadResult): Scenario {
  if (!result.ok) throw new Error(formatErrors(result.errors));
  return result.scenario;
}

async function errorsOf(name: string, defines?: Record<string, string>): Promise<readonly LoadError[]> {
  const result = await loadScenario(fixture(name), defines ? { defines } : {});
  expect(result.ok, 'the file should be refused').toBe(false);
  return result.ok ? [] : result.errors;
}

/** The one error, as formatErrors prints it. */
async function errorLine(name: string, defines?: Record<string, string>): Promise<string> {
  const errors = await errorsOf(name, defines);
  expect(errors, formatErrors(errors)).toHaveLength(1);
  return formatErrors(errors);
}

describe('OAuth pages in a scenario', () => {
  it('waits until a page shows a token status, and reads the code, words and remedy of the page, a rung and a test e-mail', async () => {
    const steps = loaded(await loadScenario(fixture('oauth-remedies.scenario.yaml'))).steps;
    expect(steps[0]).toMatchObject({ kind: 'advance', forMs: 2 * 86_400_000, until: { oauth: 'google', tokenStatus: 'reauthorization-needed' } });
    const step = steps[1]!;
    if (step.kind !== 'expect') throw new Error(step.kind);
    const { oauth, check, testEmail } = step.expect;
    expect(oauth).toMatchObject({ provider: 'google', tokenStatus: 'reauthorization-needed', code: '#847', device: 2 });
    expect(matchesPattern(oauth!.remedy!, 'If the consent screen is in "Testing": publish the app, then press Register.')).toBe(true);
    expect(matchesPattern(oauth!.message!, 'Re-authorization needed: Token has been expired or revoked.')).toBe(true);
    expect(matchesPattern(check!.remedy!, 'Press Register and sign in again.')).toBe(false);
    expect(matchesPattern(check!.remedy!, 'press Register and sign in again.')).toBe(true);
    expect(matchesPattern(testEmail!.remedy!, 'then press Register.')).toBe(true);
  });
});

describe('a scenario with every kind of step', async () => {
  const file = fixture('every-step.scenario.yaml');
  const result = await loadScenario(file);
  const scenario = loaded(result);
  const steps = scenario.steps;
  const kinds = (list: readonly Step[]): string[] => list.map((s) => (s.kind === 'lever' ? s.lever : s.kind));

  it('keeps the source text and names its files', () => {
    expect(result.ok && result.source.file).toBe(file);
    expect(scenario.file).toBe(file);
    expect(scenario.includes).toEqual([fixture('shared/office365.setup.yaml')]);
  });

  it('reads the top of the file, with defaults', () => {
    expect(scenario).toMatchObject({ name: 'Office 365 answers 421 to MAIL twice, then takes the message', tags: ['smtp', 'office365'], seed: 42, virtualTime: true, devices: 2 });
    expect(scenario.description).toMatch(/^The administrator sees the job wait/);
    expect(scenario.config).toEqual({ user: 'boss@example.com', port: 587, pages: 3 });
  });

  it('has every step in order, each with a kind', () => {
    expect(kinds(steps)).toEqual([
      'smtp.rule',
      'net.fault',
      'clear',
      'scan',
      'scan',
      'advance',
      'advance',
      'advance',
      'check-connection',
      'check-connection',
      'test-email',
      'register',
      'set-datetime',
      'set-datetime',
      'power.switch',
      'expect',
      'never',
      'clear',
      'clear',
      'clear',
      'settings',
    ]);
  });

  it('merges the included setup first: settings field by field, lists after the included ones, ${key} from the including file', () => {
    expect(scenario.setup.settings).toEqual({
      email: { smtpHost: 'smtp.office365.com', smtpPort: 587, security: 'starttls', authMethod: 'oauth-microsoft', userName: 'boss@example.com', fromAddress: 'boss@example.com', replyToPolicy: 'none' },
      device: { name: 'MFP-Floor-2' },
    });
    expect(scenario.setup.accounts).toEqual([{ name: 'Operator', password: 'Pa55word-1', role: 'GeneralUser' }]);
    expect(scenario.setup.addressBook).toEqual([{ name: 'Boss', address: 'boss@example.com' }]);
    expect(scenario.setup.caCertificates).toEqual([{ pem: '-----BEGIN CERTIFICATE-----' }]);
    expect(scenario.setup.oauth).toEqual({ provider: 'microsoft', user: 'boss@example.com' });
    expect(scenario.setup.levers.map((l) => [l.lever, l.label, l.at.file, l.at.line])).toEqual([
      ['identity.password', undefined, fixture('shared/office365.setup.yaml'), 12],
      ['mail.account', 'gmail-password', file, 19],
    ]);
  });

  it('gives lever steps their arguments as the lever schema makes them, and their labels', () => {
    expect(steps[0]).toMatchObject({ kind: 'lever', lever: 'smtp.rule', label: 'busy', args: { server: 'office365', rule: { on: 'mail', times: 2, act: { reply: { code: 421, enhanced: '4.7.0' } } } } });
    expect(steps[1]).toMatchObject({ kind: 'lever', lever: 'net.fault', label: 'drop', args: { target: 'smtp.office365.com:587', fault: 'reset', afterBytes: 2_000_000 } });
    expect(steps[14]).toMatchObject({ kind: 'lever', lever: 'power.switch', args: { action: 'cycle' } });
    expect(steps.slice(17, 20).map((s) => s.kind === 'clear' && s.target)).toEqual([{ label: 'busy' }, { faultId: 'f-3' }, { all: true }]);
    expect(steps[2]).toMatchObject({ kind: 'clear', target: { label: 'drop' } });
  });

  it("fills a scan with the panel's defaults, substitutes numbers as numbers and text inside text", () => {
    expect(steps[3]).toMatchObject({
      kind: 'scan',
      label: 'job1',
      device: 2,
      request: { to: ['boss@example.com'], cc: [], bcc: [], pages: 3, subject: 'Invoice for boss@example.com', format: 'pdf', dpi: 300, colour: 'colour', fileName: 'Scan' },
    });
    expect(steps[4]).toMatchObject({ kind: 'scan', device: 1, request: { pages: 1, subject: 'Scanned document' } });
    expect(steps[4]).not.toHaveProperty('label');
  });

  it('turns durations into ms', () => {
    expect(steps.slice(5, 8)).toMatchObject([
      { kind: 'advance', forMs: 90 * 60_000 },
      { kind: 'advance', forMs: 3_600_000, until: { job: 'job1', phase: 'delivered' } },
      { kind: 'advance', forMs: 1500, until: { event: 'send-job-delivered' } },
    ]);
  });

  it('reads the Remote UI steps', () => {
    expect(steps.slice(8, 14)).toMatchObject([
      { kind: 'check-connection' },
      { kind: 'check-connection', settings: { smtpPort: 465, security: 'tls' } },
      { kind: 'test-email', to: 'boss@example.com' },
      { kind: 'register', provider: 'microsoft' },
      { kind: 'set-datetime', wallMs: Date.UTC(2027, 0, 31, 12) },
      { kind: 'set-datetime', local: '2027-01-31T13:00:00' },
    ]);
    expect(steps[8]).not.toHaveProperty('settings');
    expect(steps.at(-1)).toMatchObject({ kind: 'settings', device: 2, patches: { email: { security: 'starttls', smtpPort: 587 }, oauthMicrosoft: { enabled: true } } });
  });

  it('reads every expectation, with patterns compiled and the line of each', () => {
    const step = steps[15]!;
    if (step.kind !== 'expect') throw new Error(step.kind);
    const e = step.expect;
    expect(e.withinMs).toBe(600_000);
    expect(e.event).toEqual({ code: 'send-job-delivered', fields: { attempt: 3 }, count: 1 });
    expect(e.job).toEqual({ ref: 'job1', phase: 'delivered', code: '#804', possibleDuplicate: false, device: 2 });
    expect(e.oauth).toEqual({ provider: 'microsoft', tokenStatus: 'active' });
    expect(e.check).toEqual({ rung: 'certificate', status: 'failed', code: '#852' });
    expect(e.testEmail?.ok).toBe(false);
    expect(matchesPattern(e.testEmail!.message!, '432 4.3.2 STOREDRV.ClientSubmit')).toBe(true);
    expect(matchesPattern(e.testEmail!.message!, '432 4x3x2')).toBe(false);
    expect(e.mailbox).toMatchObject({ count: 1, to: 'boss@example.com', attachments: [{ name: 'Scan.pdf', pages: 3 }] });
    expect(matchesPattern(e.mailbox!.subject!, 'Invoice for boss@example.com')).toBe(true);
    expect(matchesPattern(e.mailbox!.headers!['X-Mailer']!, 'mfp-send 1.0')).toBe(true);
    expect(e.transcript?.server).toBe('office365');
    expect(e.transcript?.patterns.map((p) => p.kind)).toEqual(['substring', 'regex', 'substring']);
    expect(step.at.line).toBe(40);
    expect(Object.fromEntries(Object.entries(step.fieldAt).map(([field, at]) => [field, at.line]))).toEqual({ event: 42, job: 43, oauth: 44, check: 45, testEmail: 46, mailbox: 47, transcript: 48 });
  });

  it('nests steps in never and repeat, with their own lines', () => {
    const never = steps[16]!;
    if (never.kind !== 'never') throw new Error(never.kind);
    expect(never.transcript).toMatchObject({ server: 'office365', pattern: { kind: 'substring', text: 'AUTH PLAIN' } });
    expect(kinds(never.steps)).toEqual(['advance', 'repeat']);
    const repeat = never.steps[1]!;
    if (repeat.kind !== 'repeat') throw new Error(repeat.kind);
    expect(repeat.times).toBe(3);
    expect(kinds(repeat.steps)).toEqual(['scan', 'expect']);
    expect([never.at.line, never.steps[0]!.at.line, repeat.at.line, repeat.steps[0]!.at.line, repeat.steps[1]!.at.line]).toEqual([49, 53, 54, 57, 58]);
    expect(repeat.steps[1]).toMatchObject({ expect: { withinMs: 300_000, job: { ref: 'last', phase: 'delivered' } } });
  });

  it('places every step at the line it was written on', async () => {
    const text = (await readFile(file, 'utf8')).split('\n');
    for (const step of steps) {
      expect(step.at.file).toBe(file);
      const written = text[step.at.line - 1]!.slice(step.at.column - 1);
      expect(written.startsWith(step.kind === 'lever' ? step.lever : step.kind), written).toBe(true);
    }
  });

  it('takes -d overrides of config keys, numbers as numbers', async () => {
    const other = loaded(await loadScenario(file, { defines: { user: 'ceo@example.com', pages: '7' } }));
    expect(other.config).toMatchObject({ user: 'ceo@example.com', pages: 7 });
    expect(other.steps[3]).toMatchObject({ request: { to: ['ceo@example.com'], pages: 7 } });
    expect(other.setup.settings.email).toMatchObject({ userName: 'ceo@example.com' });
  });
});

describe('a mistake in a scenario file is named with its file, line, column and field', () => {
  const at = (name: string) => fixture(`errors/${name}`);

  it('YAML syntax', async () => {
    expect(await errorLine('errors/yaml-syntax.scenario.yaml')).toBe(`${at('yaml-syntax.scenario.yaml')}:5:4 All sequence items must start at the same column`);
  });

  it('an unknown top-level key', async () => {
    expect(await errorLine('errors/unknown-top-key.scenario.yaml')).toBe(`${at('unknown-top-key.scenario.yaml')}:3:1 seeds: unknown key "seeds" (did you mean seed?)`);
  });

  it('a misspelt step', async () => {
    expect(await errorLine('errors/misspelt-step.scenario.yaml')).toBe(`${at('misspelt-step.scenario.yaml')}:5:5 steps.1.expcet: "expcet" is not a step (did you mean expect?)`);
  });

  it('a lever that does not exist', async () => {
    expect(await errorLine('errors/unknown-lever.scenario.yaml')).toBe(`${at('unknown-lever.scenario.yaml')}:5:5 steps.1.net.faults: there is no lever "net.faults" (did you mean net.fault?)`);
  });

  it("a lever argument the lever's schema refuses: the path and the line of that step", async () => {
    expect(await errorLine('errors/lever-args.scenario.yaml')).toBe(`${at('lever-args.scenario.yaml')}:5:5 steps.1.net.fault.latencyMs: needed for latency`);
  });

  it("a rung's code, message or remedy without the rung", async () => {
    expect(await errorLine('errors/check-without-rung.scenario.yaml')).toMatch(new RegExp(`^${at('check-without-rung.scenario.yaml')}:6:\\d+ steps\\.1\\.expect\\.check\\.rung: the rung whose code, message or remedy this is`));
  });

  it('advance until an OAuth page without the token status', async () => {
    expect(await errorLine('errors/until-oauth-without-status.scenario.yaml')).toMatch(new RegExp(`^${at('until-oauth-without-status.scenario.yaml')}:4:\\d+ steps\\.0\\.advance\\.until\\.tokenStatus: the token status the OAuth page is to show`));
  });

  it('a settings step with no section, a field its section refuses, or a device the scenario does not have', async () => {
    expect(formatErrors(await errorsOf('errors/settings-step.scenario.yaml')).split('\n')).toEqual([
      `${at('settings-step.scenario.yaml')}:4:15 steps.0.settings: at least one section, such as email`,
      `${at('settings-step.scenario.yaml')}:5:36 steps.1.settings.email.smtpPort: Port must be 1–65535.`,
    ]);
    expect(await errorLine('errors/settings-device.scenario.yaml')).toMatch(new RegExp(`^${at('settings-device.scenario.yaml')}:5:\\d+ steps\\.0\\.device: device 3, but the scenario has 1 device$`));
  });

  it('a device code the firmware does not have', async () => {
    expect(await errorLine('errors/bad-code.scenario.yaml')).toMatch(new RegExp(`^${at('bad-code.scenario.yaml')}:9:15 steps\\.1\\.expect\\.job\\.code: "#999" is not a device code`));
  });

  it('a ${key} that config does not have', async () => {
    expect(await errorLine('errors/unknown-config-key.scenario.yaml')).toBe(`${at('unknown-config-key.scenario.yaml')}:6:23 steps.0.test-email.to: \${usr}: no such key in config (did you mean user?)`);
  });

  it('-d for a key that config does not have, or a word for a number', async () => {
    expect(await errorLine('errors/unknown-config-key.scenario.yaml', { usr: 'x' })).toBe(`${at('unknown-config-key.scenario.yaml')}:3:1 config.usr: -d usr: no such key in config (did you mean user?)`);
    expect(await errorLine('every-step.scenario.yaml', { pages: 'three' })).toBe(`${fixture('every-step.scenario.yaml')}:8:1 config.pages: -d pages=three: pages is a number in config`);
  });

  it('an include cycle, at the including line', async () => {
    const line = await errorLine('errors/include-cycle.scenario.yaml');
    expect(line).toBe(`${at('cycle-b.setup.yaml')}:4:5 include.0: include cycle: ${at('cycle-a.setup.yaml')} → ${at('cycle-b.setup.yaml')} → ${at('cycle-a.setup.yaml')}`);
  });

  it('a missing include, at the including line', async () => {
    expect(await errorLine('errors/missing-include.scenario.yaml')).toBe(`${at('missing-include.scenario.yaml')}:5:5 include.1: cannot read ${fixture('shared/gone.setup.yaml')}: no such file`);
  });

  it('many mistakes at once, each at its own place', async () => {
    const errors = await errorsOf('errors/many.scenario.yaml');
    expect(formatErrors(errors).replaceAll(`${at('many.scenario.yaml')}:`, '')).toBe(
      [
        '5:24 setup.settings.email.smtpPort: Port must be 1–65535.',
        '5:31 setup.settings.email.smtPort: unknown key "smtPort"',
        '7:7 setup.levers.0.advance: "advance" is not a lever',
        '8:7 setup.levers.1.dns.remove.name: required',
        '10:14 steps.0.advance: a duration such as 1500ms, 30s, 10m, 2h or 90d',
        '12:5 steps.1.expect: a step does one thing: "advance" and "expect" are 2 steps; make them separate list items',
        '14:5 steps.2.ass: unknown key "ass" beside net.fault: only as may stand beside it (did you mean as?)',
        '15:13 steps.3.expect: at least one of event, job, oauth, check, testEmail, mailbox, transcript',
        '16:5 steps.4: a step is one key and its value, such as - advance: 1h',
        '17:42 steps.5.scan.dpi: expected 150, 300 or 600',
      ].join('\n'),
    );
  });

  it('labels and job references that do not name an earlier fault or scan', async () => {
    const errors = await errorsOf('errors/references.scenario.yaml');
    expect(formatErrors(errors).replaceAll(`${at('references.scenario.yaml')}:`, '')).toBe(
      [
        '6:11 setup.levers.0.as: power.switch is an action: only a fault can be labelled for clear',
        '8:15 steps.0.expect.job.ref: last: there is no scan before this step',
        '9:12 steps.1.clear: nothing is not the label of an earlier fault (as: on a lever step)',
        '10:45 steps.2.scan.device: device 3, but the scenario has 1 device',
        '12:12 steps.3.clear: job1 names a scan, not a fault',
        '13:27 steps.4.expect.job.ref: k is not the label of an earlier scan',
      ].join('\n'),
    );
  });
});

describe('the published JSON Schemas', () => {
  it.each(Object.entries(SCHEMA_FILES))('%s is the one the zod schema makes (run npm run scenarios:schema)', async (file, schema) => {
    expect(await readFile(resolve(ROOT, file), 'utf8')).toBe(jsonSchemaText(schema));
  });

  it('completes every lever name and lets ${key} stand where a number is expected', () => {
    const json = JSON.parse(jsonSchemaText(SCHEMA_FILES['scenarios/scenario.schema.json'])) as { definitions: Record<string, { properties?: Record<string, unknown> }> };
    expect(json.definitions['lever:net.fault']?.properties).toHaveProperty(['net.fault']);
    expect(JSON.stringify(json.definitions['lever:mail.size'])).toContain('\\\\$\\\\{');
  });
});
