/** Remote UI API: Check connection, Test e-mail, Validate and save, transcripts (docs/api.md). */
import { presentCheck } from './presenters/check-connection.ts';
import type { Context, Hono } from 'hono';
import type { EmailTransport } from '../send/email-transport.ts';
import { TRANSCRIPT_NOT_KEPT, type TranscriptLog } from '../send/transcript-log.ts';
import { emailAddress } from '../settings/fields.ts';
import { SECTIONS, type EmailSettings } from '../settings/schemas.ts';
import { toFieldProblems, type SettingsStore } from '../settings/settings-store.ts';
import { emailActionRequest } from './api-types.ts';
import { fail, readBody } from './http-helpers.ts';
import type { Session } from './sessions.ts';

export interface EmailRouteDeps {
  readonly transport: EmailTransport;
  readonly transcripts: TranscriptLog;
  readonly settings: SettingsStore;
  /** The session when its role may use the e-mail settings; else the refusal to return. */
  readonly requireEmail: (c: Context) => Session | Response;
}

export function registerEmailRoutes(app: Hono<any>, deps: EmailRouteDeps): void {
  /** The form's settings (a secret left out = the stored one), or the stored settings; validated. */
  const candidate = (c: Context, body: { settings?: Record<string, unknown> | undefined }): EmailSettings | Response => {
    const stored = deps.settings.get('email');
    if (!body.settings) return stored;
    const merged: Record<string, unknown> = { ...body.settings };
    for (const secret of SECTIONS.email.secrets) if (merged[secret] === undefined) merged[secret] = stored[secret];
    const parsed = SECTIONS.email.schema.safeParse(merged);
    if (!parsed.success) return fail(c, 400, 'invalid', 'Some settings are not valid.', toFieldProblems(parsed.error).map((p) => ({ ...p, path: p.path })));
    return parsed.data;
  };
  const recipient = (c: Context, to: string | undefined, required: boolean): string | undefined | Response => {
    if (to === undefined || to === '') return required ? fail(c, 400, 'invalid', 'Enter a test recipient.', [{ path: 'to', message: 'Enter a test recipient.' }]) : undefined;
    const parsed = emailAddress.safeParse(to);
    return parsed.success ? parsed.data : fail(c, 400, 'invalid', 'The test recipient is not valid.', [{ path: 'to', message: 'Enter an e-mail address such as someone@example.com.' }]);
  };

  /** The door of the three actions: role, body, the candidate settings and the recipient. */
  const action = async (c: Context, options: { readonly recipientRequired: boolean; readonly settingsRequired: boolean }) => {
    const session = deps.requireEmail(c);
    if (session instanceof Response) return session;
    const body = await readBody(c, emailActionRequest);
    if (body instanceof Response) return body;
    if (options.settingsRequired && !body.settings) return fail(c, 400, 'invalid', 'Send the settings to validate.', [{ path: 'settings', message: 'Required.' }]);
    const settings = candidate(c, body);
    if (settings instanceof Response) return settings;
    const to = recipient(c, body.to, options.recipientRequired);
    if (to instanceof Response) return to;
    return { session, settings, to };
  };

  app.post('/api/email/check', async (c) => {
    const a = await action(c, { recipientRequired: false, settingsRequired: false });
    return a instanceof Response ? a : c.json(presentCheck(await deps.transport.check(a.settings, a.to)));
  });

  app.post('/api/email/test', async (c) => {
    const a = await action(c, { recipientRequired: true, settingsRequired: false });
    return a instanceof Response ? a : c.json(await deps.transport.sendTest(a.settings, a.to!));
  });

  app.post('/api/email/validate-and-save', async (c) => {
    const a = await action(c, { recipientRequired: true, settingsRequired: true });
    if (a instanceof Response) return a;
    const result = await deps.transport.sendTest(a.settings, a.to!);
    if (!result.ok) return c.json({ ...result, saved: false });
    const saved = await deps.settings.update('email', a.settings, a.session.user);
    return c.json({ ...result, saved: saved.ok });
  });

  app.get('/api/email/transcripts', (c) => {
    const session = deps.requireEmail(c);
    if (session instanceof Response) return session;
    return c.json(deps.transcripts.list());
  });

  app.get('/api/email/transcripts/:id', async (c) => {
    const session = deps.requireEmail(c);
    if (session instanceof Response) return session;
    const record = await deps.transcripts.read(c.req.param('id'));
    if (!record) return fail(c, 404, 'transcript-not-kept', TRANSCRIPT_NOT_KEPT);
    c.header('Content-Type', 'text/plain; charset=utf-8');
    if (c.req.query('download') === '1') c.header('Content-Disposition', `attachment; filename="smtp-${record.kind}-${record.id}.txt"`);
    return c.body(record.text);
  });
}
