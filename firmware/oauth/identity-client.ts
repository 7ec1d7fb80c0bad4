/**
 * The device's door to an identity server: every OAuth request goes out through the Http port
 * with the device's own trust decision on the server's certificate (verifyChain at device time,
 * the OAuth page's Verify Server Certificate and Add CN), and comes back with Server Connection
 * Status updated, the server's Date compared with the device clock, and, when it did not reach
 * the server, the failure as a device code.
 */
import { clockSkewMs, SkewTracker, skewSentence } from '../clock/server-time.ts';
import { DEVICE_CODES, remedyOnPage } from '../device-codes.ts';
import { OAUTH_HTTP_TIMEOUT_MS } from '../defaults.ts';
import type { DeviceEvents } from '../events.ts';
import type { Clock } from '../hal/clock.ts';
import type { Http, PeerVerdict } from '../hal/http.ts';
import type { TlsInfo } from '../hal/net.ts';
import type { CaStore } from '../pki/ca-store.ts';
import { explainProblems } from '../pki/cert-problems.ts';
import { verifyChain, type ChainVerdict } from '../pki/verify-chain.ts';
import type { FormRequest } from './entra-device-code.ts';
import { postForm, type OAuthHttpResult } from './oauth-http.ts';
import type { OAuthProblem, ServerConnection } from './oauth-state.ts';
import { providerPage, type OAuthProvider } from './provider.ts';
import type { SkewView } from '../clock/server-time.ts';

export interface IdentityClientDeps {
  readonly provider: OAuthProvider;
  readonly http: Http;
  readonly clock: Clock;
  readonly caStore: CaStore;
  readonly events: DeviceEvents;
  /** The OAuth page's certificate checks, read at each request. */
  readonly checks: () => { readonly verifyServerCertificate: boolean; readonly addCnToVerification: boolean };
}

/** An answer from the server, or why there was none (as the problem to show). */
export type IdentityAnswer = Extract<OAuthHttpResult, { ok: true }> | { readonly ok: false; readonly problem: OAuthProblem };

export class IdentityClient {
  readonly #d: IdentityClientDeps;
  #connection: ServerConnection = { ok: false, message: 'Not checked yet.' };
  /** The latest comparison of the device clock with a server's time, and whose it was. */
  readonly #skew = new SkewTracker();

  constructor(deps: IdentityClientDeps) {
    this.#d = deps;
  }

  get connection(): ServerConnection {
    return this.#connection;
  }

  /** The latest skew against a server's time, when beyond tolerance. */
  get skew(): SkewView | undefined {
    return this.#skew.skewed;
  }

  /** POST a form; the answer, or the problem that kept it from the server (within `timeoutMs`). */
  async post(request: FormRequest, timeoutMs = OAUTH_HTTP_TIMEOUT_MS): Promise<IdentityAnswer> {
    let verdict: ChainVerdict | undefined;
    const checks = this.#d.checks();
    const verifyPeer = async (tls: TlsInfo, host: string): Promise<PeerVerdict> => {
      verdict = await verifyChain(tls.peerChainDer, {
        nowMs: this.#d.clock.wallNowMs(),
        trustAnchorsDer: this.#d.caStore.anchorsDer(),
        ...(checks.addCnToVerification ? { expectedHost: host } : {}),
      });
      if (verdict.trusted || !checks.verifyServerCertificate) return { trusted: true };
      return { trusted: false, reason: verdict };
    };
    const answer = await postForm(this.#d.http, request, verifyPeer, timeoutMs);
    const checkedWallMs = this.#d.clock.wallNowMs();
    const host = new URL(request.url).host;
    if (answer.ok) {
      this.#connection = { ok: true, message: `Successfully connected to ${host}.`, checkedWallMs };
      if (answer.serverDateMs !== undefined) this.noteServerTime(host, clockSkewMs(checkedWallMs, answer.serverDateMs));
      return answer;
    }
    if (answer.kind === 'untrusted') {
      const explained = explainProblems(verdict?.problems ?? []);
      this.#connection = { ok: false, message: `${host}: ${explained ? `${explained.code} ${explained.message}` : 'certificate not trusted'}`, checkedWallMs };
      return { ok: false, problem: { code: explained?.code ?? DEVICE_CODES.untrusted.code, detail: this.#connection.message, ...(explained ? { remedy: this.#onPage(explained.remedy) } : {}) } };
    }
    const detail = answer.kind === 'net' ? `${answer.error.kind}: ${answer.error.detail}` : 'the answer was too large';
    this.#connection = { ok: false, message: `${host} could not be reached (${detail}).`, checkedWallMs };
    return { ok: false, problem: { code: DEVICE_CODES.identityUnreachable.code, detail: this.#connection.message, remedy: this.#onPage(DEVICE_CODES.identityUnreachable.remedy) } };
  }

  /** A remedy naming this provider's page. */
  #onPage(remedy: string): string {
    return remedyOnPage(remedy, providerPage(this.#d.provider));
  }

  /**
   * A server's time was compared with the device clock: the token endpoint's Date (here), or the
   * mail server's greeting (the e-mail transport, for the provider whose tokens it used). The
   * latest comparison is what the page shows; crossing the tolerance is logged once.
   */
  noteServerTime(source: string, skewMs: number): void {
    const { view, crossed } = this.#skew.note(source, skewMs);
    if (crossed) {
      this.#d.events.record('clock-skew', 'warn', skewSentence(view), { provider: this.#d.provider, source, offsetS: view.offsetS, direction: view.direction });
    }
  }
}
