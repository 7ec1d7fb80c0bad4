/** The SMTP transcript (firmware/smtp/transcript.ts): bounded, middle dropped with a marker, no message content. */
import { describe, expect, it } from 'vitest';
import { Transcript } from '../../firmware/smtp/transcript.ts';

describe('SMTP transcript', () => {
  it('records C:, S: and notes with times, TLS details and the message size only', () => {
    const t = new Transcript();
    t.server(0, '220 ready');
    t.client(10, 'EHLO printer');
    t.tls(20, { version: 'TLSv1.3', cipher: 'TLS_AES_128_GCM_SHA256', peer: 'CN=smtp.example.com' });
    t.message(1500, 123_456);
    expect(t.toText()).toBe(
      ['+0.000s S: 220 ready', '+0.010s C: EHLO printer', '+0.020s *: TLS up: TLSv1.3, TLS_AES_128_GCM_SHA256; peer CN=smtp.example.com', '+1.500s C: <123456 bytes of message>'].join('\n'),
    );
  });

  it('stays under its bound, keeps the start and the end, and marks the dropped middle', () => {
    const t = new Transcript(4096);
    t.server(0, '220 first line');
    for (let i = 0; i < 10_000; i++) t.client(i, `RCPT TO:<user${i}@example.com>`);
    t.server(10_001, '250 last line');
    const entries = t.entries();
    const size = entries.reduce((n, e) => n + e.text.length + 16, 0);
    expect(size).toBeLessThan(4096 + 200);
    expect(entries[0]!.text).toBe('220 first line');
    expect(entries.at(-1)!.text).toBe('250 last line');
    const marker = entries.find((e) => e.dir === '*' && e.text.includes('dropped'));
    expect(marker?.text).toMatch(/^… \d+ lines \(\d+ bytes\) dropped/);
    expect(t.droppedEntries).toBeGreaterThan(9000);
  });

  it('cuts a single huge entry', () => {
    const t = new Transcript();
    t.server(0, `250 ${'x'.repeat(5000)}`);
    expect(t.entries()[0]!.text.length).toBeLessThan(1100);
  });
});
