/**
 * Remote UI API: the send job log. Every job the device holds, newest first: time,
 * operator, destinations, pages, size, result and device code, and the link to the redacted SMTP
 * transcript of its last attempt (`transcriptKept`: whether the device still has it; the
 * transcripts are bounded apart from the job log, send/transcript-log.ts); filtered by result;
 * also as CSV for a spreadsheet.
 *
 *   GET /api/jobs?result=delivered|failed|retrying|pending   → JobLogEntry[]
 *   GET /api/jobs.csv?result=…                               → text/csv (RFC 4180)
 */
import type { Context, Hono } from 'hono';
import type { JobQueue } from '../send/job-queue.ts';
import type { JobRecord } from '../send/job-record.ts';
import type { TranscriptLog } from '../send/transcript-log.ts';
import type { JobLogEntry } from './api-types.ts';
import { csvField } from './csv.ts';
import { fail } from './http-helpers.ts';
import type { Session } from './sessions.ts';

const FILTERS: Readonly<Record<string, (j: JobRecord) => boolean>> = {
  delivered: (j) => j.state === 'delivered',
  failed: (j) => j.state === 'failed',
  retrying: (j) => j.state === 'retrying',
  pending: (j) => j.state === 'queued' || j.state === 'sending' || j.state === 'retrying',
};

export function registerJobLogRoutes(
  app: Hono<any>,
  deps: { readonly jobs: JobQueue | undefined; readonly transcripts: TranscriptLog; readonly requireJobLog: (c: Context) => Session | Response },
): void {
  const entries = (c: Context): JobLogEntry[] | Response => {
    const session = deps.requireJobLog(c);
    if (session instanceof Response) return session;
    const result = c.req.query('result');
    if (result !== undefined && result !== '' && !(result in FILTERS)) return fail(c, 400, 'invalid', `result must be one of ${Object.keys(FILTERS).join(', ')}.`, [{ path: 'result', message: 'Unknown filter.' }]);
    const filter = result ? FILTERS[result]! : () => true;
    return (deps.jobs?.list() ?? []).filter(filter).map((j) => entry(j, deps.transcripts));
  };

  app.get('/api/jobs', (c) => {
    const list = entries(c);
    return list instanceof Response ? list : c.json(list);
  });

  app.get('/api/jobs.csv', (c) => {
    const list = entries(c);
    if (list instanceof Response) return list;
    const header = ['Time (UTC)', 'Operator', 'To', 'Cc', 'Bcc', 'Subject', 'Pages', 'Format', 'Size (bytes)', 'Result', 'Code', 'Message', 'Attempts', 'Possible duplicate', 'Job ID'];
    const rows = list.map((e) => [
      new Date(e.createdWallMs).toISOString().replace('T', ' ').slice(0, 19),
      e.operator,
      e.to.join('; '),
      e.cc.join('; '),
      e.bcc.join('; '),
      e.subject,
      String(e.pages),
      e.format.toUpperCase(),
      String(e.sizeBytes),
      e.state,
      e.code ?? '',
      e.message ?? '',
      String(e.attempts),
      e.possibleDuplicate ? 'yes' : '',
      e.id,
    ]);
    const csv = [header, ...rows].map((r) => r.map(csvField).join(',')).join('\r\n') + '\r\n';
    return c.body(csv, 200, { 'content-type': 'text/csv; charset=utf-8', 'content-disposition': 'attachment; filename="send-job-log.csv"' });
  });
}

function entry(j: JobRecord, transcripts: TranscriptLog): JobLogEntry {
  return {
    id: j.id,
    createdWallMs: j.createdWallMs,
    ...(j.finishedWallMs !== undefined ? { finishedWallMs: j.finishedWallMs } : {}),
    operator: j.operator.name,
    to: j.to,
    cc: j.cc,
    bcc: j.bcc,
    subject: j.subject,
    pages: j.scan.pages,
    format: j.scan.format,
    sizeBytes: j.sizeBytes,
    state: j.state,
    attempts: j.attempts,
    messageId: j.messageId,
    ...(j.result?.code ? { code: j.result.code } : {}),
    ...(j.result?.message ? { message: j.result.message } : {}),
    ...(j.result?.transcriptId ? { transcriptId: j.result.transcriptId, transcriptKept: transcripts.has(j.result.transcriptId) } : {}),
    ...(j.possibleDuplicate ? { possibleDuplicate: true } : {}),
    ...(j.recipients ? { recipients: j.recipients } : {}),
  };
}

