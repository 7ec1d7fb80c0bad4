/**
 * A scan-to-email job as it is kept in NVRAM: one record per job (`jobs/<id>`), replaced
 * atomically at every change of state, so a power cut leaves each job in its last recorded state
 * (firmware/send/job-queue.ts decides what that means at the next power-on).
 */
import * as z from 'zod/mini';
import { DEVICE_CODE_LIST, DEVICE_CODES } from '../device-codes.ts';
import { emailAddress, oneLine } from '../settings/fields.ts';

export const JOB_STATES = ['queued', 'sending', 'retrying', 'delivered', 'failed'] as const;
export type JobState = (typeof JOB_STATES)[number];

const recipientResult = z.object({ address: z.string(), accepted: z.boolean(), reply: z.string() });

const jobResult = z.object({
  /** A code this firmware does not know (a record from a newer one) reads as #899. */
  code: z.optional(z.catch(z.enum(DEVICE_CODE_LIST), DEVICE_CODES.internal.code)),
  message: z.string(),
  remedy: z.optional(z.string()),
  transcriptId: z.optional(z.string()),
});

export const jobRecordSchema = z.object({
  id: z.string().check(z.regex(/^[a-z0-9-]{1,40}$/)),
  createdWallMs: z.number(),
  /** The operator at the panel (or the CLI); shown in the job log. */
  operator: z.object({ name: oneLine(64), address: z.optional(emailAddress) }),
  to: z.array(emailAddress),
  cc: z.array(emailAddress),
  bcc: z.array(emailAddress),
  subject: oneLine(200),
  body: z.string().check(z.maxLength(4000)),
  /** The scan: what the operator chose and the files it made in the spool. */
  scan: z.object({
    format: z.enum(['pdf', 'jpeg']),
    colour: z.enum(['colour', 'greyscale', 'black-and-white']),
    dpi: z.union([z.literal(150), z.literal(300), z.literal(600)]),
    pages: z.int().check(z.minimum(1), z.maximum(999)),
  }),
  files: z.array(z.object({ spoolName: z.string(), fileName: z.string(), contentType: z.string(), sizeBytes: z.number() })),
  /** Fixed at creation: every attempt sends the same Message-ID, so a duplicate can be recognised. */
  messageId: z.string(),
  /** The message's size on the wire, bytes (known before sending). */
  sizeBytes: z.number(),
  state: z.enum(JOB_STATES),
  attempts: z.int(),
  /** Device wall time of the next attempt (retrying). */
  nextAttemptWallMs: z.optional(z.number()),
  /**
   * The attempt that reached the final "." (RFC 5321's unclosable window): set just before it is
   * written, cleared by the reply's outcome. Found set at power-on, that attempt's outcome is
   * unknown: the job is sent again and flagged as a possible duplicate.
   */
  terminatorAttempt: z.optional(z.int()),
  possibleDuplicate: z.optional(z.boolean()),
  /**
   * Divided sending (RFC 2046 message/partial): the id shared by the parts, how many there are,
   * and how many the server has accepted (a retry or a power-on goes on from the next one).
   */
  partialId: z.optional(z.string()),
  partsTotal: z.optional(z.int()),
  partsSent: z.optional(z.int()),
  /**
   * Microsoft Graph: the draft the current attempt created (large scans), until it is sent or
   * deleted. Found at power-on, the next attempt deletes it before it makes a new one.
   */
  graphDraftId: z.optional(z.string().check(z.maxLength(1024))),
  finishedWallMs: z.optional(z.number()),
  result: z.optional(jobResult),
  recipients: z.optional(z.array(recipientResult)),
  /** Each state change, for the job log's details. */
  history: z.array(z.object({ wallMs: z.number(), note: z.string() })),
});

export type JobRecord = z.infer<typeof jobRecordSchema>;

export const JOB_RECORD_VERSION = 1;
export const JOB_RECORD_PREFIX = 'jobs/';
