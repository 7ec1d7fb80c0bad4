/**
 * The mailbox API as the mailbox page sees it (device-sim/control/mailbox-api.ts, mounted at
 * /sim/api/mailbox on the simulator control port).
 *
 * The shapes come from device-sim/cloud/mailbox-types.ts (types only), shared with the server.
 */

export const MAILBOX_API = '/sim/api/mailbox';

export type { AttachmentInfo, DataFraming, DeliveryInfo, MailboxMessage, MailboxSummary, MailEnvelope } from '../../cloud/mailbox-types.ts';
import type { MailboxMessage, MailboxSummary } from '../../cloud/mailbox-types.ts';

export interface MailboxList {
  readonly total: number;
  readonly messages: readonly MailboxSummary[];
}

export type Result<T> = { readonly ok: true; readonly data: T } | { readonly ok: false; readonly status: number; readonly message: string };

const OFFLINE = 'The simulator does not answer. Is device-sim/main.ts running?';

async function call<T>(method: 'GET' | 'DELETE', path: string): Promise<Result<T>> {
  let response: Response;
  try {
    response = await fetch(path, { method, cache: 'no-store' });
  } catch {
    return { ok: false, status: 0, message: OFFLINE };
  }
  if (response.status === 204) return { ok: true, data: undefined as T };
  const data: unknown = await response.json().catch(() => undefined);
  if (response.ok) return { ok: true, data: data as T };
  const error = data as { message?: string } | undefined;
  return { ok: false, status: response.status, message: error?.message ?? `The simulator answered HTTP ${response.status}.` };
}

export const messageUrl = (id: string): string => `${MAILBOX_API}/${encodeURIComponent(id)}`;
export const rawUrl = (id: string): string => `${messageUrl(id)}/raw`;
export const attachmentUrl = (id: string, index: number): string => `${messageUrl(id)}/attachments/${index}`;

export const listMessages = (): Promise<Result<MailboxList>> => call('GET', MAILBOX_API);
export const getMessage = (id: string): Promise<Result<MailboxMessage>> => call('GET', messageUrl(id));
export const deleteMessage = (id: string): Promise<Result<void>> => call('DELETE', messageUrl(id));
export const deleteAll = (): Promise<Result<void>> => call('DELETE', MAILBOX_API);

/**
 * The first `limitBytes` of a message's raw source as text (the rest is not downloaded), with the
 * full size. Decoded as UTF-8 with replacement characters: the box is for reading, not for
 * byte-exact checks (the "Raw source" link gives the exact bytes).
 */
export async function readRawHead(id: string, limitBytes: number): Promise<Result<{ text: string; shownBytes: number; totalBytes: number }>> {
  let response: Response;
  try {
    response = await fetch(rawUrl(id), { cache: 'no-store' });
  } catch {
    return { ok: false, status: 0, message: OFFLINE };
  }
  if (!response.ok || !response.body) {
    const error = (await response.json().catch(() => undefined)) as { message?: string } | undefined;
    return { ok: false, status: response.status, message: error?.message ?? `The simulator answered HTTP ${response.status}.` };
  }
  const totalBytes = Number(response.headers.get('content-length') ?? NaN);
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let received = 0;
  try {
    while (received < limitBytes) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      received += value.length;
    }
  } catch {
    return { ok: false, status: 0, message: 'The raw source download broke off.' };
  } finally {
    void reader.cancel().catch(() => undefined);
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
  return { ok: true, data: { text, shownBytes, totalBytes: Number.isFinite(totalBytes) ? totalBytes : received } };
}
