/**
 * SASL encoders (firmware/smtp/sasl.ts): the XOAUTH2 vectors published by Google and Microsoft
 * (shared/reference/protocols.md C.1), PLAIN (RFC 4616) and the Gmail error JSON decoder (C.2).
 */
import { describe, expect, it } from 'vitest';
import { base64Decode, base64Encode, buildLoginResponse, buildPlainResponse, buildXoauth2Response, parseXoauth2Challenge } from '../../firmware/smtp/sasl.ts';

describe('XOAUTH2 initial response (protocols.md C.1)', () => {
  it('matches the Google vector', () => {
    expect(buildXoauth2Response('someuser@example.com', 'ya29.vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg')).toBe(
      'dXNlcj1zb21ldXNlckBleGFtcGxlLmNvbQFhdXRoPUJlYXJlciB5YTI5LnZGOWRmdDRxbVRjMk52YjNSbGNrQmhkSFJoZG1semRHRXVZMjl0Q2cBAQ==',
    );
  });

  it('matches the Microsoft vector', () => {
    expect(buildXoauth2Response('test@contoso.onmicrosoft.com', 'EwBAAl3BAAUFFpUAo7J3Ve0bjLBWZWCclRC3EoAA')).toBe(
      'dXNlcj10ZXN0QGNvbnRvc28ub25taWNyb3NvZnQuY29tAWF1dGg9QmVhcmVyIEV3QkFBbDNCQUFVRkZwVUFvN0ozVmUwYmpMQldaV0NjbFJDM0VvQUEBAQ==',
    );
  });

  it('is one line of base64 without whitespace, even for a long token', () => {
    const response = buildXoauth2Response('u@example.com', 'x'.repeat(3000));
    expect(response).toMatch(/^[A-Za-z0-9+/]+=*$/);
  });
});

describe('PLAIN and LOGIN', () => {
  it('PLAIN is base64(NUL user NUL password) without authzid, UTF-8 (RFC 4616 §2)', () => {
    expect(buildPlainResponse('tim', 'tanstaaftanstaaf')).toBe('AHRpbQB0YW5zdGFhZnRhbnN0YWFm'); // RFC 4616 §4 example
    expect(Buffer.from(buildPlainResponse('jürgen', 'pässword'), 'base64').toString('utf8')).toBe('\u0000jürgen\u0000pässword');
  });

  it('LOGIN answers each prompt with base64 of one value', () => {
    expect(buildLoginResponse('user@example.com')).toBe(Buffer.from('user@example.com').toString('base64'));
  });

  it('base64 round-trips every byte value and long inputs', () => {
    const all = Uint8Array.from({ length: 40_000 }, (_, i) => i % 256);
    expect(base64Encode(all)).toBe(Buffer.from(all).toString('base64'));
    expect(base64Decode(base64Encode(all))).toEqual(all);
    expect(base64Decode('not base64!')).toBeUndefined();
    expect(base64Decode('YWJj')).toEqual(new TextEncoder().encode('abc'));
    expect(base64Decode('YWI')).toEqual(new TextEncoder().encode('ab')); // padding missing
  });
});

describe('Gmail XOAUTH2 error challenge (protocols.md C.2)', () => {
  it('decodes the observed 400 form', () => {
    expect(parseXoauth2Challenge('eyJzdGF0dXMiOiI0MDAiLCJzY2hlbWVzIjoiQmVhcmVyIiwic2NvcGUiOiJodHRwczovL21haWwuZ29vZ2xlLmNvbS8ifQ==')).toEqual({
      status: '400',
      schemes: 'Bearer',
      scope: 'https://mail.google.com/',
      raw: '{"status":"400","schemes":"Bearer","scope":"https://mail.google.com/"}',
    });
  });

  it('decodes the documented 401 form, which ends in a newline after the JSON', () => {
    expect(parseXoauth2Challenge('eyJzdGF0dXMiOiI0MDEiLCJzY2hlbWVzIjoiYmVhcmVyIG1hYyIsInNjb3BlIjoiaHR0cHM6Ly9tYWlsLmdvb2dsZS5jb20vIn0K')).toMatchObject({
      status: '401',
      schemes: 'bearer mac',
      scope: 'https://mail.google.com/',
    });
  });

  it('keeps a challenge that is not base64 JSON as raw text instead of failing', () => {
    expect(parseXoauth2Challenge('###')).toEqual({ status: undefined, schemes: undefined, scope: undefined, raw: '###' });
    expect(parseXoauth2Challenge(Buffer.from('not json').toString('base64'))).toMatchObject({ status: undefined, raw: 'not json' });
  });
});
