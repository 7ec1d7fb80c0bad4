/**
 * The emulated Microsoft Graph mail endpoints over real HTTPS on loopback, reached through the
 * SimNetwork by their public names (graph.microsoft.com, outlook.office.com) and verified against
 * the sim root CA. sendMail and the draft + upload session + send path deliver into the same
 * mailbox the SMTP servers fill; tokens come from the cloud's TokenTable; the graph.fault lever
 * throttles.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GRAPH_MAX_REQUEST_OCTETS, OFFICE365_SMTP_SCOPE } from '../../device-sim/cloud/cloud-defaults.ts';
import { startCloud, type RunningCloud } from '../../device-sim/cloud/cloud.ts';
import { SimNetwork } from '../../device-sim/hal/sim-network.ts';
import { LEVERS } from '../../device-sim/control/levers.ts';
import type { Bench } from '../../device-sim/control/lever-kit.ts';
import { requestEmulated, type HttpAnswer, type RawRequest } from '../support/emulated-https.ts';

const ALICE = 'alice@contoso.com';
const GRAPH_SCOPES = 'https://graph.microsoft.com/Mail.Send https://graph.microsoft.com/Mail.ReadWrite offline_access';
const CHUNK = 4 * 320 * 1024;

let worldNowMs = Date.now();
const nowMs = () => worldNowMs;
let stateDir: string;
let network: SimNetwork;
let cloud: RunningCloud;
let caPem: string;
let token: string;

beforeAll(async () => {
  stateDir = await mkdtemp(join(tmpdir(), 'cloud-graph-test-'));
  network = new SimNetwork();
  cloud = await startCloud({ network, stateDir, nowMs });
  caPem = cloud.pki.rootsPem;
  token = cloud.tokens.issue(ALICE, GRAPH_SCOPES, 3_600_000);
});

afterAll(async () => {
  await cloud?.stop();
  if (stateDir) await rm(stateDir, { recursive: true, force: true });
});

async function graph(r: RawRequest, bearer: string | null = token): Promise<HttpAnswer> {
  const answer = await requestEmulated(network, caPem, 'graph.microsoft.com', { ...r, headers: { ...(bearer ? { Authorization: `Bearer ${bearer}` } : {}), ...r.headers } });
  return answer!;
}

function upload(uploadUrl: string, r: Omit<RawRequest, 'path'>): Promise<HttpAnswer | undefined> {
  const url = new URL(uploadUrl);
  expect(url.hostname).toBe('outlook.office.com');
  return requestEmulated(network, caPem, url.hostname, { ...r, path: url.pathname + url.search });
}

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

function expectGraphError(res: HttpAnswer, status: number, code: string): Record<string, unknown> {
  expect(res.status).toBe(status);
  const error = res.json()['error'] as Record<string, unknown>;
  expect(error['code']).toBe(code);
  expect(typeof error['message']).toBe('string');
  expect(res.headers['request-id']).toMatch(/^[0-9a-f-]{36}$/);
  return error;
}

function message(subject: string, attachments: { name: string; bytes: Buffer }[] = []) {
  return {
    subject,
    body: { contentType: 'Text', content: 'Scanned document attached.' },
    toRecipients: [{ emailAddress: { address: 'bob@contoso.com', name: 'Bob' } }],
    ccRecipients: [{ emailAddress: { address: 'carol@contoso.com' } }],
    bccRecipients: [{ emailAddress: { address: 'audit@contoso.com' } }],
    attachments: attachments.map((a) => ({ '@odata.type': '#microsoft.graph.fileAttachment', name: a.name, contentType: 'application/pdf', contentBytes: a.bytes.toString('base64') })),
  };
}

describe('sendMail', () => {
  it('answers 202 with an empty body and delivers the message with its attachment into the mailbox', async () => {
    const pdf = randomBytes(100_000);
    const res = await graph({ method: 'POST', path: '/v1.0/me/sendMail', body: { message: message('Graph scan 1', [{ name: 'scan.pdf', bytes: pdf }]), saveToSentItems: 'false' } });
    expect(res.status).toBe(202);
    expect(res.text).toBe('');
    const mail = await cloud.mailbox.waitFor((m) => m.subject === 'Graph scan 1', 5000);
    expect(mail.to).toEqual(['bob@contoso.com']);
    expect(mail.cc).toEqual(['carol@contoso.com']);
    expect(mail.envelope.rcptTo).toEqual(['bob@contoso.com', 'carol@contoso.com', 'audit@contoso.com']);
    expect(mail.envelope.mailFrom).toBe(ALICE);
    expect(mail.delivery.server.kind).toBe('graph');
    expect(mail.attachmentCount).toBe(1);
    const att = await cloud.mailbox.attachment(mail.id, 0);
    expect(att?.info.filename).toBe('scan.pdf');
    expect(sha256(att!.content)).toBe(sha256(pdf));
  });

  it('refuses a request over 4 MB', async () => {
    const big = randomBytes(GRAPH_MAX_REQUEST_OCTETS);
    const res = await graph({ method: 'POST', path: `/v1.0/users/${ALICE}/sendMail`, body: { message: message('Too big', [{ name: 'big.pdf', bytes: big }]) } });
    expectGraphError(res, 413, 'RequestEntityTooLarge');
    expect(cloud.mailbox.list().some((m) => m.subject === 'Too big')).toBe(false);
  });

  it('refuses a request without a token (401, WWW-Authenticate)', async () => {
    const res = await graph({ method: 'POST', path: '/v1.0/me/sendMail', body: { message: message('No token') } }, null);
    expectGraphError(res, 401, 'InvalidAuthenticationToken');
    expect(res.headers['www-authenticate']).toContain('client_id="00000003-0000-0000-c000-000000000000"');
  });

  it('refuses an Outlook/SMTP token as the wrong audience', async () => {
    const smtpToken = cloud.tokens.issue(ALICE, `${OFFICE365_SMTP_SCOPE} offline_access`, 3_600_000);
    const res = await graph({ method: 'POST', path: '/v1.0/me/sendMail', body: { message: message('Wrong audience') } }, smtpToken);
    expect(expectGraphError(res, 401, 'InvalidAuthenticationToken')['message']).toBe('Access token validation failure. Invalid audience.');
  });

  it('refuses another From without Send As rights', async () => {
    const res = await graph({ method: 'POST', path: '/v1.0/me/sendMail', body: { message: { ...message('Send as'), from: { emailAddress: { address: 'ceo@contoso.com' } } } } });
    expectGraphError(res, 403, 'ErrorSendAsDenied');
  });

  it('refuses an app-only token on /me and sends with it through /users/{upn}', async () => {
    const appToken = cloud.tokens.issue('0a1b2c3d-app', 'https://graph.microsoft.com/.default', 3_600_000);
    expectGraphError(await graph({ method: 'POST', path: '/v1.0/me/sendMail', body: { message: message('App on me') } }, appToken), 403, 'ErrorAccessDenied');
    const res = await graph({ method: 'POST', path: `/v1.0/users/${encodeURIComponent(ALICE)}/sendMail`, body: { message: message('App as Alice') } }, appToken);
    expect(res.status).toBe(202);
    expect((await cloud.mailbox.waitFor((m) => m.subject === 'App as Alice', 5000)).envelope.mailFrom).toBe(ALICE);
  });

  it("refuses a message over the mailbox's MaxSendSize, and a mailbox the lever disables", async () => {
    const before = cloud.graph.service.maxSendSizeOctets;
    cloud.graph.service.setMaxSendSizeOctets(50_000);
    try {
      const res = await graph({ method: 'POST', path: '/v1.0/me/sendMail', body: { message: message('Over MaxSendSize', [{ name: 'a.pdf', bytes: randomBytes(60_000) }]) } });
      expectGraphError(res, 400, 'ErrorMessageSizeExceeded');
    } finally {
      cloud.graph.service.setMaxSendSizeOctets(before);
    }
    const fault = cloud.graph.service.addFault({ fault: 'mailbox-disabled', user: ALICE });
    expectGraphError(await graph({ method: 'POST', path: '/v1.0/me/sendMail', body: { message: message('Disabled') } }), 404, 'MailboxNotEnabledForRESTAPI');
    cloud.graph.service.removeFault(fault.id);
  });

  it('answers 429 with Retry-After while the graph.fault lever throttles, then sends', async () => {
    const bench = { cloud } as unknown as Bench;
    const pulled = await LEVERS['graph.fault'].apply(bench, { fault: 'throttle', requests: 1, retryAfterS: 7 });
    const throttled = await graph({ method: 'POST', path: '/v1.0/me/sendMail', body: { message: message('Throttled once') } });
    expectGraphError(throttled, 429, 'ApplicationThrottled');
    expect(throttled.headers['retry-after']).toBe('7');
    const retried = await graph({ method: 'POST', path: '/v1.0/me/sendMail', body: { message: message('Throttled once') } });
    expect(retried.status).toBe(202);
    if (pulled.kind === 'fault') await pulled.undo();
    expect(cloud.graph.service.faults()).toEqual([]);
  });
});

describe('draft, upload session, send', () => {
  it('uploads in three chunks, resumes a lost one after GET nextExpectedRanges, and sends the draft', async () => {
    const file = randomBytes(3_500_000);
    const draft = await graph({ method: 'POST', path: '/v1.0/me/messages', body: message('Large scan') });
    expect(draft.status).toBe(201);
    const id = String(draft.json()['id']);
    const created = await graph({
      method: 'POST',
      path: `/v1.0/me/messages/${id}/attachments/createUploadSession`,
      body: { AttachmentItem: { attachmentType: 'file', name: 'large.pdf', size: file.length, contentType: 'application/pdf' } },
    });
    expect(created.status).toBe(201);
    const session = created.json();
    expect(session['nextExpectedRanges']).toEqual(['0-']);
    const uploadUrl = String(session['uploadUrl']);
    const put = (start: number, end: number, extra: Record<string, string> = {}, abortAfterBytes?: number) =>
      upload(uploadUrl, {
        method: 'PUT',
        headers: { 'Content-Type': 'application/octet-stream', 'Content-Range': `bytes ${start}-${end}/${file.length}`, ...extra },
        body: file.subarray(start, end + 1),
        ...(abortAfterBytes !== undefined ? { abortAfterBytes } : {}),
      });

    const first = await put(0, CHUNK - 1);
    expect(first?.status).toBe(200);
    expect(first!.json()['nextExpectedRanges']).toEqual([String(CHUNK)]);

    // An Authorization header on the pre-authenticated URL is refused; a bad Content-Range too.
    const withAuth = await put(CHUNK, 2 * CHUNK - 1, { Authorization: `Bearer ${token}` });
    expectGraphError(withAuth!, 401, 'InvalidAuthenticationToken');
    const badRange = await put(CHUNK, 2 * CHUNK - 1, { 'Content-Range': `bytes ${CHUNK}-${2 * CHUNK - 1}/*` });
    expectGraphError(badRange!, 400, 'invalidRange');

    // The second chunk is lost half way; GET tells where to go on.
    expect(await put(CHUNK, 2 * CHUNK - 1, {}, CHUNK / 2)).toBeUndefined();
    const status = await upload(uploadUrl, { method: 'GET' });
    expect(status?.status).toBe(200);
    expect(status!.json()['nextExpectedRanges']).toEqual([`${CHUNK}-${file.length - 1}`]);
    const second = await put(CHUNK, 2 * CHUNK - 1);
    expect(second?.status).toBe(200);
    const last = await put(2 * CHUNK, file.length - 1);
    expect(last?.status).toBe(201);
    expect(last!.headers['location']).toMatch(/^https:\/\/outlook\.office\.com\/api\/v2\.0\/Users\(.+\)\/Attachments\(.+\)$/);

    const sent = await graph({ method: 'POST', path: `/v1.0/me/messages/${id}/send` });
    expect(sent.status).toBe(202);
    const mail = await cloud.mailbox.waitFor((m) => m.subject === 'Large scan', 5000);
    const att = await cloud.mailbox.attachment(mail.id, 0);
    expect(att?.info.filename).toBe('large.pdf');
    expect(sha256(att!.content)).toBe(sha256(file));
    expect(cloud.graph.service.draftCount).toBe(0);
  });

  it('deletes a draft (204), then knows it no more (404)', async () => {
    const draft = await graph({ method: 'POST', path: `/v1.0/users/${ALICE}/messages`, body: message('Discarded') });
    const id = String(draft.json()['id']);
    expect((await graph({ method: 'DELETE', path: `/v1.0/users/${ALICE}/messages/${id}` })).status).toBe(204);
    expectGraphError(await graph({ method: 'POST', path: `/v1.0/me/messages/${id}/send` }), 404, 'ErrorItemNotFound');
  });
});
