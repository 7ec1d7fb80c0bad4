/**
 * A vertical slice of OAuth with Entra ID, all firmware code over the Node HAL: the device asks
 * the emulated Entra for a device code (trust decided by verifyChain at device time), polls with
 * the RFC 8628 machine while the "admin" approves the user code, gets tokens, and sends mail to
 * the emulated Office 365 with XOAUTH2. Then a refresh rotates the refresh token.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeviceFlow, type DeviceFlowAction } from '../../firmware/oauth/device-flow.ts';
import {
  buildDeviceCodeRequest,
  buildDeviceTokenRequest,
  buildRefreshRequest,
  processDeviceCodeResponse,
  processTokenResponse,
  type EntraClient,
} from '../../firmware/oauth/entra-device-code.ts';
import { postForm } from '../../firmware/oauth/oauth-http.ts';
import { startCloud, type RunningCloud } from '../../device-sim/cloud/cloud.ts';
import { VirtualTimeSource } from '../../device-sim/hal/time-source.ts';
import { sendWithToken } from '../support/send-with-token.ts';
import type { PeerVerdict } from '../../firmware/hal/http.ts';
import { firmwareSide } from '../support/firmware-side.ts';

const world = new VirtualTimeSource(Date.now());
const { network, clock, http, verifyPeer } = firmwareSide(world, () => cloud.factoryCaDer);
let cloud: RunningCloud;
const CLIENT: EntraClient = { cloud: 'global', tenant: 'organizations', clientId: '00000000-0000-4000-8000-000000000001' };
const USER = 'scanner@contoso.com';


beforeAll(async () => {
  cloud = await startCloud({ network, stateDir: await mkdtemp(join(tmpdir(), 'fw-entra-')), nowMs: () => world.hostNowMs() });
  cloud.identity!.entra.directory.addApp({ clientId: CLIENT.clientId, displayName: 'Firmware test app', homeTenant: 'contoso.com', publicClientFlows: true });
});
afterAll(async () => {
  await cloud?.stop();
});

describe('Entra device-code flow, firmware end to end', () => {
  it('gets tokens after the admin enters the code, and sends mail with XOAUTH2', async () => {
    const started = await postForm(http, buildDeviceCodeRequest(CLIENT), verifyPeer, 10_000);
    expect(started.ok).toBe(true);
    if (!started.ok) return;
    expect(Math.abs(started.serverDateMs! - clock.wallNowMs())).toBeLessThan(2000);
    const auth = processDeviceCodeResponse(started.status, started.bodyText);
    expect(auth.ok).toBe(true);
    if (!auth.ok) return;
    expect(auth.value.verificationUri).toMatch(/^https:\/\/login\.microsoftonline\.com\//);

    const flow = new DeviceFlow(auth.value, clock.monoNowMs());
    let action: DeviceFlowAction = flow.start();
    const seen: string[] = [];
    for (let polls = 0; polls < 10; polls++) {
      if (action.kind !== 'wait-until') break;
      world.advance(action.atMonoMs - clock.monoNowMs());
      action = flow.onTimer(clock.monoNowMs());
      if (action.kind !== 'poll') break;
      if (polls === 2) expect(cloud.identity!.entra.approve(auth.value.userCode, USER)).toBe(true);
      const answer = await postForm(http, buildDeviceTokenRequest(CLIENT, auth.value.deviceCode), verifyPeer, 10_000);
      if (!answer.ok) throw new Error(`poll failed: ${answer.kind}`);
      const outcome = processTokenResponse(answer.status, answer.bodyText);
      seen.push(outcome.kind);
      action = flow.onOutcome(outcome, clock.monoNowMs());
    }
    expect(seen).toEqual(['pending', 'pending', 'tokens']);
    expect(action.kind).toBe('done');
    if (action.kind !== 'done') return;
    expect(action.tokens.refreshToken).toBeDefined();

    const { result, transcript } = await sendWithToken({ network, clock, verifyPeer, host: 'smtp.office365.com', port: 587, security: 'starttls', user: USER, accessToken: action.tokens.accessToken, subject: 'OAuth scan' });
    expect(result.ok, transcript.toText()).toBe(true);
    expect(transcript.toText()).toContain('235 2.7.0 Authentication successful');
    expect(transcript.toText()).not.toContain(action.tokens.accessToken);

    // Refresh: a new access token and a rotated refresh token; the old one is then refused.
    const refreshed = await postForm(http, buildRefreshRequest(CLIENT, action.tokens.refreshToken!), verifyPeer, 10_000);
    const next = refreshed.ok ? processTokenResponse(refreshed.status, refreshed.bodyText) : undefined;
    expect(next?.kind).toBe('tokens');
    if (next?.kind !== 'tokens') return;
    expect(next.tokens.refreshToken).toBeDefined();
    expect(next.tokens.refreshToken).not.toBe(action.tokens.refreshToken);
    const stale = await postForm(http, buildRefreshRequest(CLIENT, action.tokens.refreshToken!), verifyPeer, 10_000);
    expect(stale.ok && processTokenResponse(stale.status, stale.bodyText)).toMatchObject({ kind: 'failed', error: { error: 'invalid_grant' } });
  });

  it('refuses to talk to an identity server whose certificate the device does not trust', async () => {
    const request = buildDeviceCodeRequest(CLIENT);
    const refusing = async (): Promise<PeerVerdict> => ({ trusted: false, reason: 'test: not trusted' });
    const before = cloud.identity!.entra.pendingCodes().length;
    const answer = await postForm(http, request, refusing, 10_000);
    expect(answer).toMatchObject({ ok: false, kind: 'untrusted' });
    expect(cloud.identity!.entra.pendingCodes()).toHaveLength(before);
  });
});
