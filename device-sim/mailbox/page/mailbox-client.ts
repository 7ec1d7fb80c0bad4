/**
 * The mailbox API as the mailbox page sees it (routes in ../../control/sim-routes.ts, served by
 * device-sim/control/mailbox-api.ts at /sim/api/mailbox on the simulator control port), the
 * addresses of its downloads, and the head of a message's raw source read as a stream.
 */
import { exchange, httpClient, type HttpResult } from '../../../remote-ui/src/kit/http-client.ts';
import { SIMULATOR } from '../../control/page/sim-api.ts';
import type { MailboxRoutes } from '../../control/sim-routes.ts';

export const MAILBOX_API = '/sim/api/mailbox';

export const mailboxApi = httpClient<MailboxRoutes>(SIMULATOR);

export const messageUrl = (id: string): string => `${MAILBOX_API}/${encodeURIComponent(id)}`;
export const rawUrl = (id: string): string => `${messageUrl(id)}/raw`;
export const attachmentUrl = (id: string, index: number): string => `${messageUrl(id)}/attachments/${index}`;

/** The first bytes of a raw source as text, and how much of it there is. */
export interface RawHead {
  readonly text: string;
  readonly shownBytes: number;
  readonly totalBytes: number;
}

/**
 * The first `limitBytes` of a message's raw source as text (the rest is not downloaded), with the
 * full size. Decoded as UTF-8 with replacement characters: the box is for reading, not for
 * byte-exact checks (the "Raw source" link gives the exact bytes).
 */
export async function readRawHead(id: string, limitBytes: number): Promise<HttpResult<RawHead>> {
  const answer = await exchange(SIMULATOR, 'GET', rawUrl(id), {}, async (response) => response);
  if (!answer.ok) return answer;
  const response = answer.data;
  const totalBytes = Number(response.headers.get('content-length') ?? NaN);
  const reader = response.body?.getReader();
  const chunks: Uint8Array[] = [];
  let received = 0;
  try {
    while (reader && received < limitBytes) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      received += value.length;
    }
  } catch {
    return { ok: false, status: 0, error: { error: 'broken-off', message: 'The raw source download broke off.' } };
  } finally {
    void reader?.cancel().catch(() => undefined);
  }
  const shownBytes = Math.min(received, limitBytes);
  const bytes = new Uint8Array(shownBytes);
  let at = 0;
  for (const chunk of chunks) {
    const part = chunk.subarray(0, shownBytes - at);
    bytes.set(part, at);
    at += part.length;
    if (at >= shownBytes) break;
  }
  // stream: true drops a UTF-8 sequence cut in half at the limit instead of showing U+FFFD for it.
  const text = new TextDecoder('utf-8').decode(bytes, { stream: shownBytes < received || (Number.isFinite(totalBytes) && shownBytes < totalBytes) });
  return { ok: true, status: answer.status, data: { text, shownBytes, totalBytes: Number.isFinite(totalBytes) ? totalBytes : received } };
}
