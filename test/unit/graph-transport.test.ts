/**
 * GraphTransport against scripted Graph answers (no sockets): what the emulated Graph never says —
 * a chunk answered with garbage, a session that never moves on, Retry-After on sendMail — and
 * that a failed upload cancels its session and deletes its draft.
 */
import { describe, expect, it } from 'vitest';
import { DEVICE_CODES } from '../../firmware/device-codes.ts';
import type { Http, HttpRequest, HttpResult } from '../../firmware/hal/http.ts';
import type { OAuthService } from '../../firmware/oauth/oauth-service.ts';
import type { CaStore } from '../../firmware/pki/ca-store.ts';
import { GraphTransport, type OutgoingMessage } from '../../firmware/send/graph-transport.ts';
import type { TranscriptLog, TranscriptRecord } from '../../firmware/send/transcript-log.ts';
import { SECTIONS } from '../../firmware/settings/schemas.ts';
import type { SettingsStore } from '../../firmware/settings/settings-store.ts';
import { memoryHal } from '../support/memory-hal.ts';

type Script = (r: HttpRequest) => { status: number; body?: unknown; headers?: Record<string, string> };

function transport(script: Script) {
  const seen: HttpRequest[] = [];
  const http: Http = {
    request: async (r): Promise<HttpResult> => {
      seen.push(r);
      const a = script(r);
      const body = a.body === undefined ? new Uint8Array(0) : new TextEncoder().encode(typeof a.body === 'string' ? a.body : JSON.stringify(a.body));
      return { ok: true, response: { status: a.status, headers: a.headers ?? {}, body, tls: undefined } };
    },
  };
  const records: TranscriptRecord[] = [];
  const { hal } = memoryHal();
  const t = new GraphTransport({
    http,
    clock: hal.clock,
    settings: { get: () => SECTIONS.oauthMicrosoft.factory() } as unknown as SettingsStore,
    caStore: { anchorsDer: () => [] } as unknown as CaStore,
    transcripts: { add: (r: Omit<TranscriptRecord, 'id'>) => (records.push({ ...r, id: `t${records.length}` }), records.at(-1)!) } as unknown as TranscriptLog,
    oauth: { microsoft: { accessToken: async () => ({ ok: true, accessToken: 'tok' }), freshAccessToken: async () => ({ ok: true, accessToken: 'tok' }), onAccessTokenRejected: () => {} } as unknown as OAuthService },
  });
  return { t, seen, records };
}

const settings = { ...SECTIONS.email.factory(), communicationType: 'graph' as const, authMethod: 'oauth-microsoft' as const, userName: 'scanner@contoso.com', fromAddress: 'scanner@contoso.com' };

function message(fileBytes: number): OutgoingMessage {
  const file = new Uint8Array(fileBytes);
  const spec = {
    from: { address: 'scanner@contoso.com' },
    to: [{ address: 'bob@contoso.com' }],
    subject: 'Scan',
    text: '',
    attachments: [
      {
        fileName: 'scan.pdf',
        contentType: 'application/pdf',
        sizeBytes: fileBytes,
        async *chunks() {
          yield file;
        },
      },
    ],
    dateWallMs: 0,
    timeZone: 'UTC',
  };
  return { sizeBytes: Math.ceil((fileBytes * 4) / 3) + 1000, messageId: '<m@contoso.com>', chunks: async function* () {}, graph: { spec, bcc: [] } };
}

const UPLOAD = 'https://outlook.office.com/api/v2.0/Users(x)/Messages(d)/AttachmentSessions(s)?authtoken=secret';

describe('GraphTransport with scripted answers', () => {
  it('a chunk answered with garbage: #809 naming it, the session cancelled and the draft deleted', async () => {
    const { t, seen, records } = transport((r) => {
      if (r.url.endsWith('/me/messages') && r.method === 'POST') return { status: 201, body: { id: 'd1' } };
      if (r.url.endsWith('/createUploadSession')) return { status: 201, body: { uploadUrl: UPLOAD, nextExpectedRanges: ['0-'] } };
      if (r.method === 'PUT') return { status: 200, body: '<html>proxy</html>' };
      if (r.method === 'DELETE') return { status: 204 };
      return { status: 500 };
    });
    const result = await t.send(settings, message(5_000_000), ['bob@contoso.com'], 'send');
    expect(result.ok).toBe(false);
    expect(result.failure?.code).toBe(DEVICE_CODES.protocol.code);
    expect(result.message).toContain('without nextExpectedRanges');
    expect(seen.map((r) => `${r.method} ${r.url.replace(/\?.*/, '')}`).slice(-2)).toEqual([
      'DELETE https://outlook.office.com/api/v2.0/Users(x)/Messages(d)/AttachmentSessions(s)',
      'DELETE https://graph.microsoft.com/v1.0/me/messages/d1',
    ]);
    // The pre-authenticated URL never gets the token; the transcript never shows either.
    for (const r of seen.filter((r) => r.url.startsWith('https://outlook.office.com'))) expect(r.headers['authorization']).toBeUndefined();
    expect(records[0]!.text).not.toContain('secret');
    expect(records[0]!.text).not.toContain('Bearer tok');
  });

  it('a session that keeps asking for the same byte gives up instead of looping', async () => {
    const { t, seen } = transport((r) => {
      if (r.url.endsWith('/me/messages') && r.method === 'POST') return { status: 201, body: { id: 'd1' } };
      if (r.url.endsWith('/createUploadSession')) return { status: 201, body: { uploadUrl: UPLOAD, nextExpectedRanges: ['0-'] } };
      if (r.method === 'PUT') return { status: 200, body: { nextExpectedRanges: ['0'] } };
      return { status: 204 };
    });
    const result = await t.send(settings, message(5_000_000), ['bob@contoso.com'], 'send');
    expect(result.failure?.code).toBe(DEVICE_CODES.protocol.code);
    expect(result.message).toContain('keeps asking for byte 0');
    expect(seen.filter((r) => r.method === 'PUT').length).toBeLessThanOrEqual(7);
  });

  it('503 with Retry-After on sendMail: transient, with the wait for the job queue', async () => {
    const { t } = transport(() => ({ status: 503, headers: { 'retry-after': '120' }, body: { error: { code: 'serviceNotAvailable', message: 'later' } } }));
    const result = await t.send(settings, message(1000), ['bob@contoso.com'], 'send');
    expect(result.failure?.code).toBe(DEVICE_CODES.graphThrottled.code);
    expect(result.failure?.transient).toBe(true);
    expect(result.retryAfterMs).toBe(120_000);
  });

  it('Graph without OAuth 2.0 (Microsoft): #870 before anything is sent', async () => {
    const { t, seen } = transport(() => ({ status: 500 }));
    const result = await t.send({ ...settings, authMethod: 'plain' }, message(10), ['bob@contoso.com'], 'send');
    expect(result.failure?.code).toBe(DEVICE_CODES.graphNeedsOAuth.code);
    expect(seen).toEqual([]);
  });
});
