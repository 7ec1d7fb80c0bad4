/**
 * SMTP rules without sockets: the schema's verdicts (a table of inputs and the field each bad one
 * is blamed on), matching, and the limits `times`, `nth` and `probability` over a sequence of
 * commands.
 */
import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '../../device-sim/cloud/input-problems.ts';
import { checkSmtpRule, ruleReply, SmtpRuleBook, type SmtpRuleSpec, type SmtpRuleStage } from '../../device-sim/cloud/smtp-rules.ts';
import { SimRandom } from '../../device-sim/sim-random.ts';

const TRY_LATER = { reply: { code: 421, enhanced: '4.7.0', text: 'Try again later' } } as const;

const book = (seed = 'unit') => new SmtpRuleBook(new SimRandom(seed), 'smtp.test/rule');

/** Which of `lines` (sent in order at `on`) the book fires on, by rule id or '-'. */
function run(rules: SmtpRuleBook, on: SmtpRuleStage, lines: readonly string[]): string[] {
  return lines.map((line) => rules.decide(on, line)?.id ?? '-');
}

describe('the rule schema', () => {
  const good: [string, unknown][] = [
    ['421 to MAIL, twice', { on: 'mail', act: TRY_LATER, times: 2 }],
    ['a multi-line 550 at the final dot', { on: 'dot', act: { reply: { code: 550, enhanced: '5.4.5', text: 'Daily user sending limit exceeded.', lines: ['see https://support.google.com/a/answer/166852'] } } }],
    ['a custom banner', { on: 'greeting', act: { reply: { code: 220, text: 'mx.example ESMTP' } } }],
    ['354 with its own words', { on: 'data', act: { reply: { code: 354, text: 'Go ahead' } } }],
    ['251 to RCPT', { on: 'rcpt', act: { reply: { code: 251, enhanced: '2.1.5', text: 'User not local; will forward' } } }],
    ['a delay', { on: 'rcpt', match: 'bob@', act: { delayMs: 500 } }],
    ['a regular expression', { on: 'rcpt', match: { regex: '^RCPT TO:<[^>]*@fabrikam\\.com>' }, act: { disconnect: true } }],
    ['a stall by chance', { on: 'greeting', act: { stall: true }, probability: 0.25 }],
    ['nth and times together', { on: 'auth', act: TRY_LATER, nth: 2, times: 3 }],
  ];
  for (const [name, input] of good) {
    it(`takes ${name}`, () => expect(checkSmtpRule(input)).toMatchObject({ ok: true }));
  }

  const bad: [string, unknown, string, RegExp][] = [
    ['an unknown stage', { on: 'quit', act: TRY_LATER }, 'on', /./],
    ['no act', { on: 'mail', act: {} }, 'act', /exactly one of reply, delayMs, disconnect, stall \(got none\)/],
    ['two acts', { on: 'mail', act: { ...TRY_LATER, stall: true } }, 'act', /got reply, stall/],
    ['an unknown field', { on: 'mail', act: TRY_LATER, time: 2 }, '(input)', /time/],
    ['250 to DATA', { on: 'data', act: { reply: { code: 250, text: 'OK' } } }, 'act.reply.code', /250 is not a reply to DATA: use 354, or a 4xx or 5xx/],
    ['354 to MAIL', { on: 'mail', act: { reply: { code: 354, text: 'go' } } }, 'act.reply.code', /use 250/],
    ['450 as the greeting', { on: 'greeting', act: { reply: { code: 450, text: 'busy' } } }, 'act.reply.code', /use 220, or 421 or 554/],
    ['a second digit over 5', { on: 'mail', act: { reply: { code: 461, text: 'x' } } }, 'act.reply.code', /RFC 5321/],
    ['code 600', { on: 'mail', act: { reply: { code: 600, text: 'x' } } }, 'act.reply.code', /200-599/],
    ['a class 5 enhanced code on a 421', { on: 'mail', act: { reply: { code: 421, enhanced: '5.7.0', text: 'x' } } }, 'act.reply.enhanced', /class 5 does not fit reply code 421/],
    ['an enhanced code on 354', { on: 'data', act: { reply: { code: 354, enhanced: '2.0.0', text: 'go' } } }, 'act.reply.enhanced', /354/],
    ['an enhanced code on the banner', { on: 'greeting', act: { reply: { code: 220, enhanced: '2.0.0', text: 'hi' } } }, 'act.reply.enhanced', /RFC 2034/],
    ['a malformed enhanced code', { on: 'mail', act: { reply: { code: 421, enhanced: '4.7', text: 'x' } } }, 'act.reply.enhanced', /class\.subject\.detail/],
    ['CR LF in the text', { on: 'mail', act: { reply: { code: 421, text: 'a\r\n250 OK' } } }, 'act.reply.text', /without CR or LF/],
    ['an empty text', { on: 'mail', act: { reply: { code: 421, text: '' } } }, 'act.reply.text', /empty/],
    ['LF in a further line', { on: 'mail', act: { reply: { code: 421, text: 'a', lines: ['ok', 'b\nc'] } } }, 'act.reply.lines.1', /without CR or LF/],
    ['a line over 512 octets', { on: 'mail', act: { reply: { code: 421, text: 'x'.repeat(510) } } }, 'act.reply.text', /512 octets/],
    ['times 0', { on: 'mail', act: TRY_LATER, times: 0 }, 'times', /1 or more/],
    ['times 1.5', { on: 'mail', act: TRY_LATER, times: 1.5 }, 'times', /whole number/],
    ['nth -1', { on: 'mail', act: TRY_LATER, nth: -1 }, 'nth', /1 or more/],
    ['probability 0', { on: 'mail', act: TRY_LATER, probability: 0 }, 'probability', /more than 0/],
    ['probability 1.5', { on: 'mail', act: TRY_LATER, probability: 1.5 }, 'probability', /at most 1/],
    ['a delay of 0', { on: 'mail', act: { delayMs: 0 } }, 'act.delayMs', /more than 0/],
    ['disconnect: false', { on: 'mail', act: { disconnect: false } }, 'act.disconnect', /./],
    ['a broken regular expression', { on: 'rcpt', match: { regex: '(' }, act: TRY_LATER }, 'match.regex', /not a regular expression/],
    ['an empty match', { on: 'rcpt', match: '', act: TRY_LATER }, 'match', /empty/],
    ['a number as match', { on: 'rcpt', match: 42, act: TRY_LATER }, 'match', /expected string or object/],
    ['a regex that is not text', { on: 'rcpt', match: { regex: 42 }, act: TRY_LATER }, 'match.regex', /expected string/],
  ];
  for (const [name, input, path, message] of bad) {
    it(`refuses ${name}, naming ${path}`, () => {
      const result = checkSmtpRule(input);
      expect(result.ok).toBe(false);
      if (result.ok) return;
      expect(result.problems, JSON.stringify(result.problems)).toContainEqual({ path, message: expect.stringMatching(message) });
    });
  }

  it('throws from the book with every field named', () => {
    const rules = book();
    const add = () => rules.add({ on: 'mail', act: { reply: { code: 250, enhanced: '4.7.0', text: 'x' } }, times: 0 } as SmtpRuleSpec);
    expect(add).toThrow(InvalidInputError);
    expect(add).toThrow(/act\.reply\.enhanced: class 4 does not fit reply code 250.*times: 1 or more|times: 1 or more.*act\.reply\.enhanced/);
    expect(rules.views()).toEqual([]);
  });

  it('builds the reply with the enhanced code on every line', () => {
    expect(ruleReply({ code: 550, enhanced: '5.4.5', text: 'Daily user sending limit exceeded. For more information on Gmail', lines: ['sending limits go to', ' https://support.google.com/a/answer/166852'] })).toEqual({
      code: 550,
      lines: ['5.4.5 Daily user sending limit exceeded. For more information on Gmail', '5.4.5 sending limits go to', '5.4.5  https://support.google.com/a/answer/166852'],
    });
    expect(ruleReply({ code: 421, text: 'Service not available' })).toEqual({ code: 421, lines: ['Service not available'] });
  });
});

describe('matching', () => {
  it('takes a substring case-insensitively, and a regular expression case-insensitively', () => {
    const rules = book();
    const sub = rules.add({ on: 'rcpt', match: 'BOB@Fabrikam', act: TRY_LATER });
    const re = rules.add({ on: 'rcpt', match: { regex: '<carol@[a-z]+\\.com>$' }, act: TRY_LATER });
    expect(run(rules, 'rcpt', ['RCPT TO:<bob@fabrikam.com>', 'rcpt to:<Carol@Contoso.COM>', 'RCPT TO:<carol@contoso.com> NOTIFY=NEVER', 'RCPT TO:<dave@fabrikam.com>'])).toEqual([
      sub.id,
      re.id,
      '-',
      '-',
    ]);
  });

  it('acts only at its own stage', () => {
    const rules = book();
    rules.add({ on: 'mail', act: TRY_LATER });
    expect(rules.decide('rcpt', 'RCPT TO:<a@b>')).toBeUndefined();
    expect(rules.decide('dot', 'FROM:<a@b> TO:<c@d>')).toBeUndefined();
    expect(rules.decide('mail', 'MAIL FROM:<a@b>')).toMatchObject({ act: TRY_LATER, reply: { code: 421, lines: ['4.7.0 Try again later'] }, positive: false });
  });

  it('marks a success-code reply as positive (carry the command out, then say this)', () => {
    const rules = book();
    rules.add({ on: 'dot', act: { reply: { code: 250, enhanced: '2.0.0', text: 'Queued as 1234' } } });
    expect(rules.decide('dot', 'FROM:<a@b> TO:<c@d>')).toMatchObject({ positive: true, reply: { code: 250, lines: ['2.0.0 Queued as 1234'] } });
  });
});

describe('limits', () => {
  const MAILS = Array.from({ length: 5 }, (_, i) => `MAIL FROM:<m${i}@x>`);

  it('times: the first N, then spent (and still listed)', () => {
    const rules = book();
    const r = rules.add({ on: 'mail', act: TRY_LATER, times: 2 });
    expect(r).toMatchObject({ matched: 0, fired: 0, remaining: 2, spent: false });
    expect(run(rules, 'mail', MAILS)).toEqual([r.id, r.id, '-', '-', '-']);
    expect(rules.views()).toEqual([expect.objectContaining({ id: r.id, matched: 2, fired: 2, remaining: 0, spent: true })]);
  });

  it('no limit: every match, remaining null', () => {
    const rules = book();
    const r = rules.add({ on: 'mail', act: TRY_LATER });
    expect(run(rules, 'mail', MAILS)).toEqual(MAILS.map(() => r.id));
    expect(rules.views()[0]).toMatchObject({ fired: 5, remaining: null, spent: false });
  });

  it('nth: only the nth matching command; non-matching commands do not count', () => {
    const rules = book();
    const r = rules.add({ on: 'rcpt', match: 'bob@', act: TRY_LATER, nth: 2 });
    const lines = ['RCPT TO:<bob@x>', 'RCPT TO:<carol@x>', 'RCPT TO:<carol@x>', 'RCPT TO:<bob@x>', 'RCPT TO:<bob@x>'];
    expect(run(rules, 'rcpt', lines)).toEqual(['-', '-', '-', r.id, '-']);
    expect(rules.views()[0]).toMatchObject({ matched: 2, fired: 1, remaining: 0, spent: true });
  });

  it('nth with times: from the nth match, times in a row', () => {
    const rules = book();
    const r = rules.add({ on: 'mail', act: TRY_LATER, nth: 2, times: 2 });
    expect(run(rules, 'mail', MAILS)).toEqual(['-', r.id, r.id, '-', '-']);
  });

  it('the first rule that fires answers; the later ones do not see that command', () => {
    const rules = book();
    const a = rules.add({ on: 'mail', act: TRY_LATER, times: 1 });
    const b = rules.add({ on: 'mail', act: { delayMs: 10 }, times: 2 });
    expect(run(rules, 'mail', MAILS)).toEqual([a.id, b.id, b.id, '-', '-']);
    expect(rules.views().map((v) => v.matched)).toEqual([1, 2]);
  });

  it('remove and clear', () => {
    const rules = book();
    const a = rules.add({ on: 'mail', act: TRY_LATER });
    const b = rules.add({ on: 'mail', act: { stall: true } });
    expect(rules.remove(a.id)).toBe(true);
    expect(rules.remove(a.id)).toBe(false);
    expect(rules.decide('mail', MAILS[0]!)?.id).toBe(b.id);
    rules.clear();
    expect(rules.views()).toEqual([]);
    expect(rules.decide('mail', MAILS[0]!)).toBeUndefined();
    // Ids are not reused after a clear.
    expect(rules.add({ on: 'mail', act: TRY_LATER }).id).not.toBe(a.id);
  });

  it('probability: the same seed fires on the same commands; another seed on others', () => {
    const pattern = (seed: string) => {
      const rules = book(seed);
      rules.add({ on: 'mail', act: TRY_LATER, probability: 0.5 });
      return run(rules, 'mail', Array.from({ length: 64 }, (_, i) => `MAIL FROM:<m${i}@x>`)).map((id) => (id === '-' ? '.' : 'x')).join('');
    };
    const first = pattern('seed-1');
    expect(pattern('seed-1')).toBe(first);
    expect(pattern('seed-2')).not.toBe(first);
    const hits = first.split('').filter((c) => c === 'x').length;
    expect(hits).toBeGreaterThan(16);
    expect(hits).toBeLessThan(48);
  });

  it('probability with times: at most times firings; a rule added later does not shift the draws', () => {
    const alone = book('s');
    const r = alone.add({ on: 'mail', act: TRY_LATER, probability: 0.5, times: 3 });
    const lines = Array.from({ length: 40 }, (_, i) => `MAIL FROM:<m${i}@x>`);
    const firings = run(alone, 'mail', lines);
    expect(firings.filter((id) => id === r.id)).toHaveLength(3);

    const shared = book('s');
    shared.add({ on: 'mail', act: TRY_LATER, probability: 0.5, times: 3 });
    shared.add({ on: 'rcpt', act: TRY_LATER, probability: 0.5 });
    const interleaved = lines.map((line) => {
      shared.decide('rcpt', 'RCPT TO:<a@b>');
      return shared.decide('mail', line)?.id ?? '-';
    });
    expect(interleaved).toEqual(firings);
  });
});
