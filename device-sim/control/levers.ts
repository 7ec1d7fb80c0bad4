/**
 * Every lever of the tester's bench, in one table: its name, group, what it does, the zod schema
 * of its arguments, an example, and what pulling it does (with the undo of a lasting fault). The
 * control API (`GET /sim/api/levers`, `POST /sim/api/levers/:name`), the control page's forms,
 * the CLI (`npm run sim -- …`) and the scenario steps are all driven from this table; a new lever
 * is one entry here (lever-kit.ts says what an entry is made of, lever-bench.ts runs them).
 *
 * Arguments are flat objects of plain fields where the library's own shape is nested (a network
 * fault is `{target, fault, afterBytes…}`, not `{target, spec: {kind…}}`), so forms and command
 * lines can be made from the schema alone; the library checks its own shape again behind it.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { ENTRA_BUILTIN_CLIENT_ID, RTC_DRIFT_MAX_PPM } from '../../firmware/defaults.ts';
import type { EmulatedMailService } from '../cloud/mail-servers.ts';
import { smtpRuleSpecSchema } from '../cloud/smtp-rules.ts';
import { exchangeBehavioursPatchSchema } from '../cloud/exchange-limits.ts';
import { tlsLeverSchema } from '../cloud/tls-levers.ts';
import { GRAPH_FAULTS, graphFaultSchema } from '../cloud/graph-api.ts';
import { powerCutSchema, SCANNER_FAULT_KINDS, scannerFaultSchema } from '../printer-faults.ts';
import { deviceNumberSchema } from '../fleet.ts';
import type { SimPrinter } from '../printer.ts';
import {
  accountSchema,
  deviceCodeLifetimeSSchema,
  grantIdSchema,
  IDENTITY_ENDPOINTS,
  identityEndpointSchema,
  outageModeSchema,
  passwordSchema,
  pollIntervalSSchema,
  slowDownPollsSchema,
  userCodeSchema,
} from '../cloud/identity-faults.ts';
import type { RunningIdentityServices } from '../cloud/identity-server.ts';
import { newGoogleDesktopClient } from '../cloud/default-google-client.ts';
import { ENTRA_APP_PERMISSION_NAMES, parseCertificate, redirectUriProblem } from '../cloud/entra-app-registration.ts';
import { ENTRA_CLIENT_SECRET_DEFAULT_LIFETIME_DAYS } from '../cloud/cloud-defaults.ts';
import type { EntraIdService } from '../cloud/entra-id.ts';
import type { LeverResult } from '../cloud/identity-views.ts';
import { MAX_AFTER_BYTES, MAX_BANDWIDTH_BYTES_PER_S, MAX_FAULT_CONNECTIONS, MAX_LATENCY_MS, type NetFaultSpec } from '../hal/net-faults.ts';
import { UnknownHostError } from '../hal/sim-network.ts';
import { VirtualTimeSource } from '../hal/time-source.ts';
import { advanceUntil } from '../hal/advance-until.ts';
import { formatDurationMs, worldClockActionSchema } from '../hal/world-clock.ts';
import { deviceEventSeen, panelJobInPhase } from '../advance-conditions.ts';
import { EVENT_CODES } from '../../firmware/events.ts';
import { PANEL_JOB_PHASES } from '../../firmware/web/api-types.ts';
import { durationMs, durationS, sizeBytes } from '../cli/units.ts';
import { lever, LeverError, leverValue, type Bench, type Lever } from './lever-kit.ts';

// ---------------------------------------------------------------------------------------------
// Shared argument parts.

const MAIL_SERVERS = { office365: 'smtp.office365.com', gmail: 'smtp.gmail.com' } as const;
type MailServerName = keyof typeof MAIL_SERVERS;
const mailServer = z.enum(Object.keys(MAIL_SERVERS) as [MailServerName, ...MailServerName[]]);
const hostName = z
  .string()
  .trim()
  .toLowerCase()
  .regex(/^(?=.{1,253}$)(?:[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9])?\.)*[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/, 'a host name such as mail.example.com');
/** A name, an address, `name:port` or `[v6]:port`, as SimNetwork takes it. */
const netTarget = z.string().trim().min(1, 'a host name, an address or name:port such as smtp.office365.com:587').max(300);
const email = z.string().trim().toLowerCase().max(254).regex(/^[^\s@]+@[^\s@]+\.[^\s@]+$/, 'an e-mail address such as scanner@contoso.com');
const YEAR_MS = 366 * 86_400_000;
/** An Entra client id (application id): a GUID. */
const entraClientId = z
  .string()
  .trim()
  .toLowerCase()
  .regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/, 'a client id (GUID) such as 4a0c7e1b-3f5d-4b8e-9c21-6d7e8f90a1b2');
const entraRedirectUri = z
  .string()
  .trim()
  .superRefine((uri, ctx) => {
    const problem = redirectUriProblem(uri);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  });

function mailService(bench: Bench, server: MailServerName): EmulatedMailService {
  return bench.cloud.servers[server];
}

/** The app registration a lever names, or a 404 naming clientId. */
function entraAppOf(bench: Bench, clientId: string): { entra: EntraIdService; app: NonNullable<ReturnType<EntraIdService['directory']['app']>> } {
  const entra = identityOf(bench).entra;
  const app = entra.directory.app(clientId);
  if (!app) throw new LeverError('not-found', `There is no app registration ${clientId} in the emulated Entra ID: register it with entra.app first.`, 'clientId');
  return { entra, app };
}

/** A certificate file as the lever takes it: PEM as it is, DER as base64. */
function certificateText(path: string): string {
  const bytes = readFileSync(path);
  return bytes.includes('-----BEGIN') ? bytes.toString('utf8') : bytes.toString('base64');
}

function isoDate(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

function identityOf(bench: Bench): RunningIdentityServices {
  const identity = bench.cloud.identity;
  if (!identity) throw new LeverError('conflict', 'This simulator runs without the emulated identity services.');
  return identity;
}

/** Device `device` (1-based, default 1); 404 naming `field` when the fleet has no such printer. */
function printerOf(bench: Bench, device: number | undefined, field = 'device'): SimPrinter {
  const n = device ?? 1;
  const printer = bench.printers[n - 1];
  if (!printer) {
    const count = bench.printers.length;
    throw new LeverError('not-found', `There is no device ${n}: this simulator runs ${count === 1 ? 'one printer (device 1)' : `${count} printers (devices 1 to ${count})`}.`, field);
  }
  return printer;
}

function poweredPrinter(bench: Bench, device: number | undefined, field = 'device'): SimPrinter {
  const printer = printerOf(bench, device, field);
  if (!printer.powered) throw new LeverError('conflict', `${device === undefined ? 'The printer' : `Device ${device}`} is off: switch it on first.`, undefined, 'powered-off');
  return printer;
}

/** Which device a sentence is about: nothing for device 1 of a single printer, "Device n: " otherwise. */
function onDevice(bench: Bench, device: number | undefined): string {
  return device === undefined && bench.printers.length === 1 ? '' : `Device ${device ?? 1}: `;
}

function virtualTime(bench: Bench): VirtualTimeSource {
  if (!(bench.time instanceof VirtualTimeSource)) {
    throw new LeverError('conflict', 'The simulator runs in real time; start it with --virtual-time to advance time by hand.', undefined, 'real-time');
  }
  return bench.time;
}

// ---------------------------------------------------------------------------------------------
// Network and DNS.

const NET_FAULTS = ['dns-fail', 'refuse', 'blackhole', 'latency', 'bandwidth', 'reset', 'stall'] as const;

const netFaultArgs = z
  .strictObject({
    target: netTarget,
    fault: z.enum(NET_FAULTS),
    latencyMs: z.number().int().min(0).max(MAX_LATENCY_MS).optional().describe('latency: one-way delay per chunk, ms'),
    jitterMs: z.number().int().min(0).max(MAX_LATENCY_MS).optional().describe('latency: ± up to this much, seeded'),
    bytesPerS: z.number().int().min(1).max(MAX_BANDWIDTH_BYTES_PER_S).optional().describe('bandwidth: bytes a second'),
    afterBytes: z.number().int().min(0).max(MAX_AFTER_BYTES).optional().describe('reset, stall: bytes that pass first'),
    direction: z.enum(['upstream', 'downstream', 'both', 'either']).optional().describe('upstream: device → server'),
    connections: z.number().int().min(1).max(MAX_FAULT_CONNECTIONS).optional().describe('only the next N connections'),
    probability: z.number().gt(0).lte(1).optional().describe('each connection with this chance (seeded)'),
  })
  .superRefine((a, ctx) => {
    const need = (field: keyof typeof a, why: string) => a[field] === undefined && ctx.addIssue({ code: 'custom', path: [field], message: `needed for ${why}` });
    const only = (field: keyof typeof a, kinds: readonly string[]) =>
      a[field] !== undefined && !kinds.includes(a.fault) && ctx.addIssue({ code: 'custom', path: [field], message: `only for ${kinds.join(', ')}` });
    if (a.fault === 'latency') need('latencyMs', 'latency');
    if (a.fault === 'bandwidth') need('bytesPerS', 'bandwidth');
    if (a.fault === 'reset') need('afterBytes', 'reset');
    only('latencyMs', ['latency']);
    only('jitterMs', ['latency']);
    only('bytesPerS', ['bandwidth']);
    only('afterBytes', ['reset', 'stall']);
    only('direction', ['bandwidth', 'reset', 'stall']);
    const directions: Record<string, readonly string[]> = { bandwidth: ['upstream', 'downstream', 'both'], reset: ['upstream', 'downstream', 'either'], stall: ['upstream', 'downstream', 'both'] };
    const allowed = directions[a.fault];
    if (a.direction !== undefined && allowed && !allowed.includes(a.direction)) {
      ctx.addIssue({ code: 'custom', path: ['direction'], message: `for ${a.fault}: ${allowed.join(', ')}` });
    }
  });

function netFaultSpec(a: z.output<typeof netFaultArgs>): NetFaultSpec {
  switch (a.fault) {
    case 'latency':
      return { kind: 'latency', ms: a.latencyMs!, ...(a.jitterMs !== undefined ? { jitterMs: a.jitterMs } : {}) };
    case 'bandwidth':
      return { kind: 'bandwidth', bytesPerS: a.bytesPerS!, direction: (a.direction ?? 'both') as 'upstream' | 'downstream' | 'both' };
    case 'reset':
      return { kind: 'reset', afterBytes: a.afterBytes!, direction: (a.direction ?? 'either') as 'upstream' | 'downstream' | 'either' };
    case 'stall':
      return { kind: 'stall', afterBytes: a.afterBytes ?? 0, direction: (a.direction ?? 'both') as 'upstream' | 'downstream' | 'both' };
    default:
      return { kind: a.fault };
  }
}

const NET_FAULT_WORDS: Record<(typeof NET_FAULTS)[number], (s: NetFaultSpec) => string> = {
  'dns-fail': () => 'does not resolve',
  refuse: () => 'refuses connections',
  blackhole: () => 'swallows connections (no answer, no refusal)',
  latency: (s) => (s.kind === 'latency' ? `is ${s.ms} ms slower each way${s.jitterMs ? ` (± ${s.jitterMs} ms)` : ''}` : ''),
  bandwidth: (s) => (s.kind === 'bandwidth' ? `carries at most ${s.bytesPerS} bytes/s (${s.direction ?? 'both'})` : ''),
  reset: (s) => (s.kind === 'reset' ? `resets the connection after ${s.afterBytes} bytes (${s.direction})` : ''),
  stall: (s) => (s.kind === 'stall' ? `falls silent after ${s.afterBytes ?? 0} bytes (${s.direction})` : ''),
};

// ---------------------------------------------------------------------------------------------
// The printer's own faults, on one printer of the fleet.

/** scanner.fault's arguments: a scanner fault (printer-faults.ts) of `device`, each kind with the field. */
const scannerFaultArgs = z.discriminatedUnion(
  'kind',
  [
    scannerFaultSchema.options[0].extend({ device: deviceNumberSchema }),
    scannerFaultSchema.options[1].extend({ device: deviceNumberSchema }),
    scannerFaultSchema.options[2].extend({ device: deviceNumberSchema }),
    scannerFaultSchema.options[3].extend({ device: deviceNumberSchema }),
  ],
  { error: (issue) => (issue.code === 'invalid_union' ? `the scanner fault kinds are ${SCANNER_FAULT_KINDS.join(', ')}` : undefined) },
);

// ---------------------------------------------------------------------------------------------
// The table.

export const LEVERS = {
  'net.fault': lever({
    group: 'network',
    summary: 'A network fault on a name, an address or name:port: dns-fail, refuse, blackhole, latency, bandwidth, reset after N bytes, stall',
    makes: 'fault',
    args: netFaultArgs,
    example: { target: 'smtp.office365.com:587', fault: 'reset', afterBytes: 2_000_000, direction: 'upstream' },
    cli: {
      words: ['fault', 'net'],
      positional: ['target'],
      flags: {
        'reset-after': { help: 'reset after SIZE bytes (e.g. 2MB), either direction', type: 'string', set: (a, v) => Object.assign(a, { fault: 'reset', afterBytes: sizeBytes(String(v)) }) },
        'stall-after': { help: 'fall silent after SIZE bytes', type: 'string', set: (a, v) => Object.assign(a, { fault: 'stall', afterBytes: sizeBytes(String(v)) }) },
        latency: { help: 'add DURATION each way (e.g. 300ms)', type: 'string', set: (a, v) => Object.assign(a, { fault: 'latency', latencyMs: durationMs(String(v)) }) },
        bandwidth: { help: 'at most SIZE bytes a second (e.g. 64k)', type: 'string', set: (a, v) => Object.assign(a, { fault: 'bandwidth', bytesPerS: sizeBytes(String(v)) }) },
        refuse: { help: 'refuse connections', type: 'boolean', set: (a) => Object.assign(a, { fault: 'refuse' }) },
        blackhole: { help: 'swallow connections', type: 'boolean', set: (a) => Object.assign(a, { fault: 'blackhole' }) },
        'dns-fail': { help: 'the name does not resolve', type: 'boolean', set: (a) => Object.assign(a, { fault: 'dns-fail' }) },
      },
    },
    apply(bench, a) {
      const spec = netFaultSpec(a);
      let view;
      try {
        view = bench.network.addFault(a.target, spec, { ...(a.connections !== undefined ? { connections: a.connections } : {}), ...(a.probability !== undefined ? { probability: a.probability } : {}) });
      } catch (e) {
        if (e instanceof UnknownHostError) throw new LeverError('not-found', `There is no host ${e.host} in the simulated DNS: add it with dns.host, or name an address.`, 'target');
        throw e;
      }
      const limits = [a.connections !== undefined ? `the next ${a.connections} connection${a.connections === 1 ? '' : 's'}` : '', a.probability !== undefined ? `with chance ${a.probability}` : ''].filter(Boolean);
      const id = view.id;
      return {
        kind: 'fault',
        target: view.target,
        sentence: `${view.target} ${NET_FAULT_WORDS[a.fault](view.spec)}${limits.length ? ` (${limits.join(', ')})` : ''}.`,
        detail: () => bench.network.faults().find((f) => f.id === id),
        active: () => {
          const now = bench.network.faults().find((f) => f.id === id);
          return now !== undefined && now.connectionsLeft !== 0;
        },
        undo: () => void bench.network.removeFault(id),
      };
    },
  }),

  'dns.host': lever({
    group: 'dns',
    summary: "Add or re-point a host name in the simulated DNS, at an address or at another name's address (e.g. a customer's mail.example.com at smtp.gmail.com)",
    makes: 'fault',
    args: z.strictObject({ name: hostName, to: z.string().trim().toLowerCase().min(1, 'an address or a name in the simulated DNS').max(253) }),
    example: { name: 'mail.example.com', to: 'smtp.gmail.com' },
    cli: { words: ['dns', 'add'], positional: ['name', 'to'] },
    apply(bench, a) {
      const before = bench.network.lookup(a.name);
      const to = bench.network.lookup(a.to) ?? a.to;
      try {
        bench.network.addHost(a.name, a.to);
      } catch {
        throw new LeverError('not-found', `${a.to} is neither an address nor a name in the simulated DNS.`, 'to');
      }
      return {
        kind: 'fault',
        target: a.name,
        sentence: `${a.name} resolves to ${to}${a.to !== to ? ` (${a.to})` : ''}${before !== undefined ? `, not ${before}` : ''}.`,
        undo: () => (before === undefined ? void bench.network.removeHost(a.name) : bench.network.addHost(a.name, before)),
      };
    },
  }),

  'dns.remove': lever({
    group: 'dns',
    summary: 'Take a host name out of the simulated DNS (the name no longer resolves)',
    makes: 'fault',
    args: z.strictObject({ name: hostName }),
    example: { name: 'smtp.gmail.com' },
    cli: { words: ['dns', 'remove'], positional: ['name'] },
    apply(bench, a) {
      const before = bench.network.lookup(a.name);
      if (before === undefined) throw new LeverError('not-found', `There is no host ${a.name} in the simulated DNS.`, 'name');
      bench.network.removeHost(a.name);
      return { kind: 'fault', target: a.name, sentence: `${a.name} is gone from the DNS (it was ${before}).`, undo: () => bench.network.addHost(a.name, before) };
    },
  }),

  'smtp.rule': lever({
    group: 'smtp',
    summary: 'A rule on an emulated mail server: on greeting, EHLO, STARTTLS, AUTH, MAIL, RCPT, DATA or the final dot, reply, delay, disconnect or stall; times, nth or a chance',
    makes: 'fault',
    args: z.strictObject({ server: mailServer, rule: smtpRuleSpecSchema }),
    example: { server: 'office365', rule: { on: 'mail', act: { reply: { code: 421, enhanced: '4.7.0', text: 'Try again later' } }, times: 2 } },
    cli: {
      words: ['smtp'],
      positional: ['server'],
      flags: {
        on: { help: 'GREETING, EHLO, STARTTLS, AUTH, MAIL, RCPT, DATA or DOT', type: 'string', set: (a, v) => void (ruleOf(a).on = String(v).toLowerCase()) },
        reply: { help: '"CODE [x.y.z] TEXT", e.g. "421 4.7.0 Try again later"', type: 'string', set: (a, v) => void (ruleOf(a).act = { reply: replyFromText(String(v)) }) },
        delay: { help: 'wait DURATION before going on (e.g. 30s)', type: 'string', set: (a, v) => void (ruleOf(a).act = { delayMs: durationMs(String(v)) }) },
        disconnect: { help: 'drop the connection', type: 'boolean', set: (a) => void (ruleOf(a).act = { disconnect: true }) },
        stall: { help: 'fall silent', type: 'boolean', set: (a) => void (ruleOf(a).act = { stall: true }) },
        match: { help: 'only commands containing TEXT', type: 'string', set: (a, v) => void (ruleOf(a).match = String(v)) },
        times: { help: 'act N times, then normal', type: 'string', set: (a, v) => void (ruleOf(a).times = Number(v)) },
        nth: { help: 'act on the Nth matching command', type: 'string', set: (a, v) => void (ruleOf(a).nth = Number(v)) },
        probability: { help: 'act with this chance (seeded)', type: 'string', set: (a, v) => void (ruleOf(a).probability = Number(v)) },
      },
    },
    apply(bench, a) {
      const service = mailService(bench, a.server);
      const view = service.addRule(a.rule);
      const id = view.id;
      const rule = () => service.rules().find((r) => r.id === id);
      return {
        kind: 'fault',
        target: service.hostName,
        sentence: `${service.hostName} ${ruleWords(a.rule)}.`,
        detail: rule,
        active: () => rule()?.spent === false,
        undo: () => void service.removeRule(id),
      };
    },
  }),

  'mail.account': lever({
    group: 'smtp',
    summary: "A mailbox's settings on an emulated mail server: app password, refuse AUTH, SMTP AUTH disabled, Send As rights",
    makes: 'fault',
    args: z.strictObject({
      server: mailServer,
      user: email,
      appPassword: z.string().min(1).max(256).optional().describe('the password AUTH PLAIN/LOGIN takes (Gmail: an app password)'),
      refuseAuth: z.boolean().optional(),
      smtpAuthDisabled: z.boolean().optional().describe('Office 365: 535 5.7.139 after good credentials'),
      sendAs: z.array(email).max(50).optional().describe('other From addresses this mailbox may use'),
    }),
    example: { server: 'gmail', user: 'scanner@gmail.com', appPassword: 'abcd efgh ijkl mnop' },
    cli: { words: ['mail', 'account'], positional: ['server', 'user'] },
    apply(bench, a) {
      const service = mailService(bench, a.server);
      const before = service.account(a.user);
      const { server: _server, user, ...settings } = a;
      service.setAccount(user, { ...before, ...settings });
      const words = [
        a.appPassword !== undefined ? 'has an app password' : '',
        a.refuseAuth ? 'is refused at AUTH' : a.refuseAuth === false ? 'is not refused at AUTH' : '',
        a.smtpAuthDisabled ? 'has SMTP AUTH disabled' : a.smtpAuthDisabled === false ? 'has SMTP AUTH enabled' : '',
        a.sendAs ? `may send as ${a.sendAs.join(', ') || 'nobody else'}` : '',
      ].filter(Boolean);
      return {
        kind: 'fault',
        target: `${service.hostName} ${user}`,
        sentence: `On ${service.hostName}, ${user} ${words.join(', ') || 'keeps its settings'}.`,
        undo: () => service.setAccount(user, before),
      };
    },
  }),

  'mail.size': lever({
    group: 'smtp',
    summary: 'The SIZE an emulated mail server advertises and enforces, octets (0: no limit)',
    makes: 'fault',
    args: z.strictObject({ server: mailServer, octets: z.number().int().min(0).max(2 ** 40) }),
    example: { server: 'gmail', octets: 1_000_000 },
    cli: { words: ['mail', 'size'], positional: ['server', 'octets'] },
    apply(bench, a) {
      const service = mailService(bench, a.server);
      const before = service.sizeOctets;
      service.setSizeOctets(a.octets);
      return {
        kind: 'fault',
        target: service.hostName,
        sentence: `${service.hostName} takes messages of ${a.octets === 0 ? 'any size' : `at most ${a.octets} octets`} (was ${before === 0 ? 'no limit' : before}).`,
        undo: () => service.setSizeOctets(before),
      };
    },
  }),

  'exchange.limits': lever({
    group: 'smtp',
    summary: "Exchange Online's behaviours on the emulated Office 365: concurrent submissions, message rate, recipient quota, continuous-error throttling, basic authentication retired",
    makes: 'fault',
    args: exchangeBehavioursPatchSchema,
    example: { concurrentSubmissions: true, messageRate: { messages: 30 } },
    cli: { words: ['exchange', 'limits'] },
    apply(bench, a) {
      const service = bench.cloud.servers.office365;
      const before = service.exchangeBehaviours()!;
      const now = service.setExchangeBehaviours(a);
      const on = [
        now.concurrentSubmissions && `at most ${now.concurrentSubmissions.limit} concurrent submissions`,
        now.messageRate && `${now.messageRate.messages} messages a ${now.messageRate.windowMs / 60_000} min (${now.messageRate.mode === 'delay' ? 'delayed' : 'refused'} beyond)`,
        now.recipientQuota && `${now.recipientQuota.recipients} recipients a ${now.recipientQuota.windowMs / 3_600_000} h`,
        now.continuousErrors && `throttling after ${now.continuousErrors.failures} errors`,
        now.basicAuthRetired && 'basic authentication retired',
      ].filter(Boolean);
      return {
        kind: 'fault',
        target: service.hostName,
        sentence: `Office 365 runs with ${on.join(', ') || 'no Exchange Online limits'}.`,
        detail: () => service.exchangeBehaviours(),
        undo: () => void service.setExchangeBehaviours(Object.fromEntries(Object.entries(before).map(([k, v]) => [k, v === false ? false : v]))),
      };
    },
  }),

  'exchange.fleet': lever({
    group: 'smtp',
    summary: "Other printers on the same Office 365 mailbox, as Exchange Online's limits count them: connections submitting now, messages already sent this minute, recipients just submitted",
    makes: 'fault',
    args: z
      .strictObject({
        mailbox: email,
        submitting: z.number().int().min(0).max(1000).optional().describe('connections of other printers submitting now (each holds a place)'),
        messages: z.number().int().min(0).max(1_000_000).optional().describe('messages they sent in the current minute (with messageRate on)'),
        recipients: z.number().int().min(0).max(100_000_000).optional().describe('recipients they submitted just now (with recipientQuota on)'),
      })
      .refine((a) => (a.submitting ?? 0) + (a.messages ?? 0) + (a.recipients ?? 0) > 0, { message: 'submitting, messages or recipients', path: ['submitting'] }),
    example: { mailbox: 'scanner@contoso.com', submitting: 3 },
    cli: { words: ['exchange', 'fleet'], positional: ['mailbox'] },
    apply(bench, a) {
      const service = bench.cloud.servers.office365;
      const release = service.occupyMailbox(a.mailbox, a);
      const load = [
        a.submitting ? `${a.submitting} submitting now` : '',
        a.messages ? `${a.messages} messages this minute` : '',
        a.recipients ? `${a.recipients} recipients just now` : '',
      ].filter(Boolean);
      return { kind: 'fault', target: `${service.hostName} ${a.mailbox}`, sentence: `Other printers on ${a.mailbox}: ${load.join(', ')}.`, undo: release };
    },
  }),

  'exchange.tenant-smtp-auth': lever({
    group: 'smtp',
    summary: 'SMTP AUTH switched off for the whole Office 365 tenant (every mailbox gets 535 5.7.139)',
    makes: 'fault',
    args: z.strictObject({}),
    example: {},
    apply(bench) {
      const service = bench.cloud.servers.office365;
      const before = service.faults;
      service.setFaults({ ...before, smtpAuthDisabledForTenant: true });
      return {
        kind: 'fault',
        target: service.hostName,
        sentence: 'Office 365 has SMTP AUTH disabled for the tenant.',
        undo: () => service.setFaults({ ...service.faults, smtpAuthDisabledForTenant: before.smtpAuthDisabledForTenant ?? false }),
      };
    },
  }),

  'graph.fault': lever({
    group: 'smtp',
    summary: 'A fault on the emulated Microsoft Graph mail endpoints: 429 or 503 with Retry-After, ErrorAccessDenied, ErrorMessageSizeExceeded, MailboxNotEnabledForRESTAPI; next N requests or a chance',
    makes: 'fault',
    args: graphFaultSchema,
    example: { fault: 'throttle', requests: 2, retryAfterS: 10 },
    cli: { words: ['graph', 'fault'], positional: ['fault'] },
    apply(bench, a) {
      const graph = bench.cloud.graph.service;
      const id = graph.addFault(a).id;
      const view = () => graph.faults().find((f) => f.id === id);
      const limits = [a.user ? `on ${a.user}'s mailbox` : '', a.requests !== undefined ? `the next ${a.requests} request${a.requests === 1 ? '' : 's'}` : '', a.probability !== undefined ? `with chance ${a.probability}` : ''].filter(Boolean);
      const retry = a.fault === 'throttle' || a.fault === 'unavailable' ? (a.retryAfterS !== undefined ? ` (Retry-After: ${a.retryAfterS})` : '') : '';
      return {
        kind: 'fault',
        target: 'graph.microsoft.com',
        sentence: `graph.microsoft.com answers ${GRAPH_FAULTS[a.fault]}${retry}${limits.length ? `, ${limits.join(', ')}` : ''}.`,
        detail: view,
        active: () => view()?.requestsLeft !== 0 && view() !== undefined,
        undo: () => void graph.removeFault(id),
      };
    },
  }),

  'tls.server': lever({
    group: 'tls',
    summary: 'What an emulated server presents: an expired, not yet valid, wrong-host, untrusted, leaf-only, self-signed or wildcard certificate (RSA, ECDSA or both), and the TLS versions it accepts',
    makes: 'fault',
    args: tlsLeverSchema,
    example: { server: 'gmail', preset: 'expired' },
    cli: { words: ['tls'], positional: ['server'] },
    async apply(bench, a) {
      const view = await bench.cloud.tls.apply(a);
      return {
        kind: 'fault',
        target: view.host,
        sentence: view.sentence,
        detail: () => bench.cloud.tls.state(a.server),
        undo: () => void bench.cloud.tls.restore(a.server),
      };
    },
  }),

  'identity.outage': lever({
    group: 'identity',
    summary: 'An identity endpoint answers 500/502/503/504 (in the service\'s own words, optionally with Retry-After) or accepts and never answers',
    makes: 'fault',
    args: z.strictObject({ endpoint: identityEndpointSchema, mode: outageModeSchema }),
    example: { endpoint: 'entra-token', mode: { kind: 'status', status: 503, retryAfterS: 30 } },
    cli: {
      words: ['identity', 'outage'],
      positional: ['endpoint'],
      flags: {
        status: { help: 'answer 500, 502, 503 or 504', type: 'string', set: (a, v) => void (a.mode = { ...(a.mode as object), kind: 'status', status: Number(v) }) },
        'retry-after': { help: 'with Retry-After: SECONDS', type: 'string', set: (a, v) => void (a.mode = { ...(a.mode as object), kind: 'status', retryAfterS: durationS(String(v)) }) },
        timeout: { help: 'accept and never answer', type: 'boolean', set: (a) => void (a.mode = { kind: 'timeout' }) },
      },
    },
    apply(bench, a) {
      const identity = identityOf(bench);
      leverValue(identity.setOutage(a.endpoint, a.mode));
      const { host, requests } = IDENTITY_ENDPOINTS[a.endpoint];
      return {
        kind: 'fault',
        target: `${host} ${a.endpoint}`,
        sentence: `${host} ${requests} ${a.mode.kind === 'timeout' ? 'accepts and never answers' : `answers ${a.mode.status}${a.mode.retryAfterS !== undefined ? ` with Retry-After: ${a.mode.retryAfterS}` : ''}`}.`,
        detail: () => identity.outages().find((o) => o.endpoint === a.endpoint),
        active: () => identity.outages().some((o) => o.endpoint === a.endpoint),
        undo: () => void identity.setOutage(a.endpoint, undefined),
      };
    },
  }),

  'identity.slow-down': lever({
    group: 'identity',
    summary: 'Entra ID answers slow_down to the next N device-code polls',
    makes: 'fault',
    args: z.strictObject({ polls: slowDownPollsSchema.min(1) }),
    example: { polls: 3 },
    apply(bench, a) {
      const entra = identityOf(bench).entra;
      leverValue(entra.setSlowDown(a.polls));
      return {
        kind: 'fault',
        target: 'login.microsoftonline.com',
        sentence: `Entra ID answers slow_down to the next ${a.polls} device-code polls.`,
        detail: () => entra.pollingView().slowDownPolls,
        active: () => entra.pollingView().slowDownPolls > 0,
        undo: () => void entra.setSlowDown(0),
      };
    },
  }),

  'identity.pending-forever': lever({
    group: 'identity',
    summary: 'Entra ID answers authorization_pending to every device-code poll, approved or not',
    makes: 'fault',
    args: z.strictObject({}),
    example: {},
    apply(bench) {
      const entra = identityOf(bench).entra;
      leverValue(entra.setPendingForever(true));
      return { kind: 'fault', target: 'login.microsoftonline.com', sentence: 'Entra ID answers authorization_pending to every device-code poll.', undo: () => void entra.setPendingForever(false) };
    },
  }),

  'identity.device-codes': lever({
    group: 'identity',
    summary: 'New Entra device codes ask for another poll interval and/or live another time',
    makes: 'fault',
    args: z
      .strictObject({ pollIntervalS: pollIntervalSSchema.optional(), expiresInS: deviceCodeLifetimeSSchema.optional() })
      .refine((a) => a.pollIntervalS !== undefined || a.expiresInS !== undefined, { message: 'pollIntervalS, expiresInS or both', path: ['pollIntervalS'] }),
    example: { pollIntervalS: 90 },
    apply(bench, a) {
      const entra = identityOf(bench).entra;
      const before = entra.pollingView();
      if (a.pollIntervalS !== undefined) leverValue(entra.setPollIntervalS(a.pollIntervalS));
      if (a.expiresInS !== undefined) leverValue(entra.setDeviceCodeLifetimeS(a.expiresInS));
      const now = entra.pollingView();
      return {
        kind: 'fault',
        target: 'login.microsoftonline.com',
        sentence: `New Entra device codes ask for a poll every ${now.pollIntervalS} s and expire after ${now.deviceCodeExpiresInS} s.`,
        undo: () => {
          entra.setPollIntervalS(before.pollIntervalS === before.defaultPollIntervalS ? undefined : before.pollIntervalS);
          entra.setDeviceCodeLifetimeS(before.deviceCodeExpiresInS === before.defaultDeviceCodeExpiresInS ? undefined : before.deviceCodeExpiresInS);
        },
      };
    },
  }),

  'identity.approve': lever({
    group: 'identity',
    summary: 'A user approves a device code, as on the Microsoft sign-in page: the code given, or the newest pending one (pending codes are in GET /sim/api/state)',
    makes: 'action',
    args: z.strictObject({ userCode: userCodeSchema.optional().describe('default: the newest pending code'), user: accountSchema }),
    example: { user: 'alice@contoso.com' },
    cli: { words: ['identity', 'approve'], positional: ['user', 'userCode'] },
    apply(bench, a) {
      const entra = identityOf(bench).entra;
      const userCode = a.userCode ?? entra.deviceCodes().find((c) => c.state === 'pending')?.userCode;
      if (userCode === undefined) throw new LeverError('not-found', 'No device code is waiting for a sign-in: press Register first.', 'userCode');
      const view = leverValue(entra.approveUserCode(userCode, a.user));
      return { kind: 'action', sentence: `${a.user} approved ${view.userCode}.`, result: view };
    },
  }),

  'identity.public-client-flows': lever({
    group: 'identity',
    summary: "Entra ID app registration: \"Allow public client flows\" off (the device-code flow is refused with AADSTS7000218) or on; default the device's built-in app",
    makes: 'fault',
    args: z.strictObject({ enabled: z.boolean(), clientId: z.string().trim().toLowerCase().min(1).max(64).optional().describe("default: the device's built-in app") }),
    example: { enabled: false },
    cli: { words: ['identity', 'public-client-flows'] },
    apply(bench, a) {
      const entra = identityOf(bench).entra;
      const clientId = a.clientId ?? ENTRA_BUILTIN_CLIENT_ID;
      const before = entra.directory.app(clientId);
      if (!before) throw new LeverError('not-found', `There is no app registration ${clientId} in the emulated Entra ID.`, 'clientId');
      entra.setPublicClientFlows(clientId, a.enabled);
      return {
        kind: 'fault',
        target: `login.microsoftonline.com app ${clientId}`,
        sentence: `The app ${before.displayName} has public client flows ${a.enabled ? 'allowed' : 'off'}.`,
        undo: () => void entra.setPublicClientFlows(clientId, before.publicClientFlows),
      };
    },
  }),

  'identity.conditional-access': lever({
    group: 'identity',
    summary: 'An Entra ID Conditional Access policy blocks token issuance (AADSTS53003 at the device-code poll after the sign-in and at every refresh), for every user or one; enabled false takes the user out, or ends the policy',
    makes: 'fault',
    args: z.strictObject({ enabled: z.boolean(), user: accountSchema.optional().describe('default: every user') }),
    example: { enabled: true, user: 'alice@contoso.com' },
    cli: { words: ['identity', 'conditional-access'] },
    apply(bench, a) {
      const entra = identityOf(bench).entra;
      const before = entra.conditionalAccessView();
      const now = leverValue(entra.setConditionalAccess(a));
      const who = now.allUsers ? `every user${now.excluded.length > 0 ? ` but ${now.excluded.join(', ')}` : ''}` : now.users.join(', ');
      return {
        kind: 'fault',
        target: `login.microsoftonline.com${a.user === undefined ? '' : ` ${a.user}`}`,
        sentence: now.allUsers || now.users.length > 0 ? `A Conditional Access policy blocks token issuance for ${who} (AADSTS53003).` : 'No Conditional Access policy blocks token issuance.',
        detail: () => entra.conditionalAccessView(),
        undo: () => entra.restoreConditionalAccess(before),
      };
    },
  }),

  'entra.app': lever({
    group: 'identity',
    summary: 'Register an Entra ID app (or change one): "Mobile and desktop" (public, no secret) or "Web" (confidential), its redirect URIs; kept with the cloud state',
    makes: 'action',
    args: z.strictObject({
      clientId: entraClientId.optional().describe('default: a new client id; an existing one is changed'),
      platform: z.enum(['public', 'web']).describe('public: "Mobile and desktop"; web: confidential (a secret or certificate)'),
      redirectUris: z.array(entraRedirectUri).max(256).optional().describe('default: http://localhost for public, none for web'),
      displayName: z.string().trim().min(1, 'enter a name').max(256).optional().describe('default: Scanner app'),
      homeTenant: z.string().trim().min(1, 'a tenant id or domain').max(256).optional().describe('default: contoso.com'),
      publicClientFlows: z.boolean().optional().describe('"Allow public client flows" (device code); default off for a new app'),
    }),
    example: { clientId: '0b8e2c4a-1d3f-4e5a-9b6c-7d8e9f0a1b2c', platform: 'web', redirectUris: ['http://localhost'] },
    cli: { words: ['entra', 'app'], positional: ['platform'] },
    apply(bench, a) {
      const entra = identityOf(bench).entra;
      const redirectUris = a.redirectUris ?? (a.platform === 'public' ? ['http://localhost'] : []);
      const existing = a.clientId === undefined ? undefined : entra.directory.app(a.clientId);
      const made = existing
        ? leverValue(entra.directory.updateApp(existing.clientId, { platform: a.platform, redirectUris, displayName: a.displayName, publicClientFlows: a.publicClientFlows }))
        : leverValue(
            entra.directory.addApp({ clientId: a.clientId, displayName: a.displayName ?? 'Scanner app', homeTenant: a.homeTenant ?? 'contoso.com', publicClientFlows: a.publicClientFlows, platform: a.platform, redirectUris }),
          );
      const kind = a.platform === 'public' ? 'a "Mobile and desktop" (public)' : 'a "Web" (confidential)';
      return {
        kind: 'action',
        sentence: `${made.displayName} (${made.clientId}) is ${existing ? 'now ' : ''}${kind} app with ${redirectUris.length > 0 ? `redirect URIs ${redirectUris.join(', ')}` : 'no redirect URI'}.`,
        result: made,
      };
    },
  }),

  'entra.app-remove': lever({
    group: 'identity',
    summary: "Delete an Entra ID app registration (its client id then gets AADSTS700016); the device's built-in app stays",
    makes: 'action',
    args: z.strictObject({ clientId: entraClientId }),
    example: { clientId: '0b8e2c4a-1d3f-4e5a-9b6c-7d8e9f0a1b2c' },
    apply(bench, a) {
      const { entra, app } = entraAppOf(bench, a.clientId);
      if (app.builtIn) throw new LeverError('conflict', "The device's built-in app cannot be removed (turn its public client flows off instead).", 'clientId');
      leverValue(entra.directory.removeApp(app.clientId));
      return { kind: 'action', sentence: `The app ${app.displayName} (${app.clientId}) was deleted.` };
    },
  }),

  'entra.app-certificate': lever({
    group: 'identity',
    summary: 'Upload a certificate to an Entra ID app (Certificates & secrets): the PEM or base64 DER the printer lets you download; client assertions signed with its key are then accepted',
    makes: 'action',
    args: z.strictObject({
      clientId: entraClientId,
      certificatePem: z.string().min(1, 'the certificate: -----BEGIN CERTIFICATE----- …').max(20_000).describe('PEM (-----BEGIN CERTIFICATE-----) or base64 DER'),
    }),
    example: { clientId: '0b8e2c4a-1d3f-4e5a-9b6c-7d8e9f0a1b2c', certificatePem: 'MIIDazCCAlOgAwIBAgIUb3…' },
    cli: {
      words: ['entra', 'app-certificate'],
      positional: ['clientId'],
      flags: { 'certificate-file': { help: 'read the certificate (PEM or DER) from FILE', type: 'string', set: (a, v) => Object.assign(a, { certificatePem: certificateText(String(v)) }) } },
    },
    apply(bench, a) {
      const { entra, app } = entraAppOf(bench, a.clientId);
      const parsed = parseCertificate(a.certificatePem);
      if (!parsed.ok) throw new LeverError('invalid', `certificatePem: ${parsed.message}.`, 'certificatePem');
      const { rsa, ...cert } = parsed.value;
      const added = leverValue(entra.directory.addCertificate(app.clientId, cert));
      return {
        kind: 'action',
        sentence: `The app ${app.displayName} has the certificate ${added.displayName} (thumbprint ${added.thumbprintSha1}, valid until ${isoDate(added.endMs)})${rsa ? '' : ': not an RSA key, so Entra refuses assertions signed with it'}.`,
        result: added,
      };
    },
  }),

  'entra.app-certificate-remove': lever({
    group: 'identity',
    summary: 'Delete a certificate from an Entra ID app, by its thumbprint (SHA-1 or SHA-256 hex) or key id',
    makes: 'action',
    args: z.strictObject({ clientId: entraClientId, thumbprint: z.string().trim().min(1, 'a thumbprint (hex) or key id').max(128) }),
    example: { clientId: '0b8e2c4a-1d3f-4e5a-9b6c-7d8e9f0a1b2c', thumbprint: 'A1B2C3D4E5F60718293A4B5C6D7E8F9012345678' },
    apply(bench, a) {
      const { entra, app } = entraAppOf(bench, a.clientId);
      const gone = leverValue(entra.directory.removeCertificate(app.clientId, a.thumbprint));
      return { kind: 'action', sentence: `The app ${app.displayName} no longer has the certificate ${gone.thumbprintSha1}.`, result: gone };
    },
  }),

  'entra.app-secret': lever({
    group: 'identity',
    summary: 'Add a client secret to an Entra ID app with an end date; the value is shown once, in the result (or give it)',
    makes: 'action',
    args: z
      .strictObject({
        clientId: entraClientId,
        expiresInDays: z.number().int().min(-3650).max(3650).optional().describe(`days from now on the world clock (negative: already expired); default ${ENTRA_CLIENT_SECRET_DEFAULT_LIFETIME_DAYS}`),
        expiresAt: z.iso.datetime({ offset: true }).optional().describe('an ISO date-time instead of expiresInDays'),
        description: z.string().trim().min(1).max(256).optional(),
        value: z.string().regex(/^[!-~]{8,256}$/, '8 to 256 printable characters, no spaces').optional().describe('default: a new value in the portal\'s shape'),
      })
      .refine((x) => x.expiresInDays === undefined || x.expiresAt === undefined, { message: 'expiresInDays or expiresAt, not both', path: ['expiresAt'] }),
    example: { clientId: '0b8e2c4a-1d3f-4e5a-9b6c-7d8e9f0a1b2c', expiresInDays: 180 },
    apply(bench, a) {
      const { entra, app } = entraAppOf(bench, a.clientId);
      const endMs = a.expiresAt !== undefined ? Date.parse(a.expiresAt) : bench.world.nowMs() + (a.expiresInDays ?? ENTRA_CLIENT_SECRET_DEFAULT_LIFETIME_DAYS) * 86_400_000;
      const secret = leverValue(entra.addClientSecret(app.clientId, { endMs, displayName: a.description, value: a.value }));
      return {
        kind: 'action',
        sentence: `The app ${app.displayName} has a new client secret ${secret.hint}… (id ${secret.keyId}) ending ${new Date(secret.endMs).toISOString()}: copy its value from the result now.`,
        result: secret,
      };
    },
  }),

  'entra.app-secret-remove': lever({
    group: 'identity',
    summary: 'Delete a client secret of an Entra ID app, by its secret id',
    makes: 'action',
    args: z.strictObject({ clientId: entraClientId, secretId: z.string().trim().min(1, 'the secret id (a GUID)').max(64) }),
    example: { clientId: '0b8e2c4a-1d3f-4e5a-9b6c-7d8e9f0a1b2c', secretId: '5e1f2a3b-4c5d-4e6f-8a9b-0c1d2e3f4a5b' },
    apply(bench, a) {
      const { entra, app } = entraAppOf(bench, a.clientId);
      const gone = leverValue(entra.directory.removeSecret(app.clientId, a.secretId));
      return { kind: 'action', sentence: `The app ${app.displayName} no longer has the client secret ${gone.hint}… (id ${gone.keyId}).`, result: gone };
    },
  }),

  'entra.app-consent': lever({
    group: 'identity',
    summary: 'An admin grants (or revokes) consent to an application permission of an Entra ID app: Graph Mail.Send / Mail.ReadWrite, Office 365 Exchange Online SMTP.SendAsApp',
    makes: 'action',
    args: z.strictObject({
      clientId: entraClientId,
      permission: z.enum(ENTRA_APP_PERMISSION_NAMES),
      granted: z.boolean().optional().describe('default true; false revokes it'),
    }),
    example: { clientId: '0b8e2c4a-1d3f-4e5a-9b6c-7d8e9f0a1b2c', permission: 'Mail.Send' },
    cli: { words: ['entra', 'app-consent'], positional: ['clientId', 'permission'] },
    apply(bench, a) {
      const { entra, app } = entraAppOf(bench, a.clientId);
      const granted = a.granted ?? true;
      const now = leverValue(entra.directory.setAppRole(app.clientId, a.permission, granted));
      return {
        kind: 'action',
        sentence: `${a.permission} (application) is ${granted ? 'consented' : 'no longer consented'} for ${app.displayName}; its app-only tokens from now on carry ${now.appRoles.join(', ') || 'no permission'}.`,
        result: now,
      };
    },
  }),

  'entra.app-mailboxes': lever({
    group: 'identity',
    summary: "The mailboxes an Entra ID app's app-only tokens may reach in Exchange and Graph (ApplicationAccessPolicy / RBAC for Applications); none given: every mailbox",
    makes: 'action',
    args: z.strictObject({ clientId: entraClientId, mailboxes: z.array(email).max(1000).optional().describe('default: every mailbox') }),
    example: { clientId: '0b8e2c4a-1d3f-4e5a-9b6c-7d8e9f0a1b2c', mailboxes: ['scanner@contoso.com'] },
    apply(bench, a) {
      const { entra, app } = entraAppOf(bench, a.clientId);
      const now = leverValue(entra.directory.setAppMailboxes(app.clientId, a.mailboxes ?? null));
      const which = now.mailboxes === null ? 'every mailbox' : now.mailboxes.length === 0 ? 'no mailbox' : now.mailboxes.join(', ');
      return { kind: 'action', sentence: `App-only tokens of ${app.displayName} may reach ${which}.`, result: now };
    },
  }),

  'entra.block-device-code': lever({
    group: 'identity',
    summary: 'Conditional Access "Authentication flows" blocks the device-code flow (AADSTS53003 after the sign-in), for every user or one; the authorization code and client credentials still work; enabled false takes the user out or ends it',
    makes: 'fault',
    args: z.strictObject({
      enabled: z.boolean().optional().describe('default true'),
      user: accountSchema.optional().describe('default: every user'),
      protocolTracking: z.boolean().optional().describe('refresh tokens born of a device-code sign-in are refused too (default true)'),
    }),
    example: { enabled: true },
    cli: { words: ['entra', 'block-device-code'] },
    apply(bench, a) {
      const entra = identityOf(bench).entra;
      const before = entra.deviceCodeBlockView();
      const now = leverValue(entra.setDeviceCodeBlock({ enabled: a.enabled ?? true, user: a.user, protocolTracking: a.protocolTracking }));
      const who = now.allUsers ? `every user${now.excluded.length > 0 ? ` but ${now.excluded.join(', ')}` : ''}` : now.users.join(', ');
      const on = now.allUsers || now.users.length > 0;
      return {
        kind: 'fault',
        target: `login.microsoftonline.com device code${a.user === undefined ? '' : ` ${a.user}`}`,
        sentence: on
          ? `A Conditional Access policy blocks the device-code flow for ${who} (AADSTS53003)${now.protocolTracking ? ', refresh tokens born of it included' : ''}.`
          : 'No Conditional Access policy blocks the device-code flow.',
        detail: () => entra.deviceCodeBlockView(),
        undo: () => entra.restoreDeviceCodeBlock(before),
      };
    },
  }),

  'entra.wrong-audience': lever({
    group: 'identity',
    summary: "Entra ID's token endpoint hands out user tokens for the other mail resource than asked: Outlook's SMTP.Send for Graph, Graph's Mail.Send for SMTP (Graph then answers 401 Invalid audience, Exchange 535 5.7.3)",
    makes: 'fault',
    args: z.strictObject({ enabled: z.boolean().optional().describe('default true') }),
    example: { enabled: true },
    cli: { words: ['entra', 'wrong-audience'] },
    apply(bench, a) {
      const entra = identityOf(bench).entra;
      const before = entra.wrongAudience;
      const on = a.enabled ?? true;
      entra.setWrongAudience(on);
      return {
        kind: 'fault',
        target: 'login.microsoftonline.com token audience',
        sentence: on ? 'Entra ID issues user tokens for the other mail resource than asked (Graph ↔ Outlook).' : 'Entra ID issues user tokens for the resource asked.',
        undo: () => entra.setWrongAudience(before),
      };
    },
  }),

  'identity.google-testing': lever({
    group: 'identity',
    summary: 'Google OAuth client in "Testing" publishing status (refresh tokens issued from then on end after 7 days) or published; default the emulated project\'s Desktop client',
    makes: 'fault',
    args: z.strictObject({ testing: z.boolean(), clientId: z.string().trim().min(1).max(128).optional().describe('default: the Desktop client make run prints') }),
    example: { testing: true },
    cli: { words: ['identity', 'google-testing'] },
    apply(bench, a) {
      const google = identityOf(bench).google;
      const clientId = a.clientId ?? google.defaultClient?.clientId;
      const before = clientId === undefined ? undefined : google.client(clientId);
      if (!before || clientId === undefined) throw new LeverError('not-found', `There is no Google client ${clientId ?? '(default)'} in the emulated project.`, 'clientId');
      google.setClientTesting(clientId, a.testing);
      return {
        kind: 'fault',
        target: `accounts.google.com client ${clientId}`,
        sentence: `The Google client is ${a.testing ? 'in Testing (7-day refresh tokens)' : 'published (In production)'}.`,
        undo: () => void google.setClientTesting(clientId, before.testing ?? false),
      };
    },
  }),

  'identity.google-client-secret': lever({
    group: 'identity',
    summary: "The Google client's secret is reset in the Cloud console: the secret the device holds is refused at the token endpoint (401 invalid_client \"Unauthorized\"); default the emulated project's Desktop client and a new secret",
    makes: 'fault',
    args: z.strictObject({
      clientSecret: z.string().trim().min(1).max(256).optional().describe('the new secret (default: a new one, as the Cloud console makes it)'),
      clientId: z.string().trim().min(1).max(128).optional().describe('default: the Desktop client make run prints'),
    }),
    example: {},
    cli: { words: ['identity', 'google-client-secret'] },
    apply(bench, a) {
      const google = identityOf(bench).google;
      const clientId = a.clientId ?? google.defaultClient?.clientId;
      const before = clientId === undefined ? undefined : google.client(clientId);
      if (!before || clientId === undefined) throw new LeverError('not-found', `There is no Google client ${clientId ?? '(default)'} in the emulated project.`, 'clientId');
      google.setClientSecret(clientId, a.clientSecret ?? newGoogleDesktopClient().clientSecret);
      return {
        kind: 'fault',
        target: `oauth2.googleapis.com client ${clientId}`,
        sentence: `The Google client ${before.displayName ?? clientId} has a new secret: the one given out before is refused (401 invalid_client).`,
        undo: () => void google.setClientSecret(clientId, before.clientSecret),
      };
    },
  }),

  'identity.decline': lever({
    group: 'identity',
    summary: 'The user presses Cancel for a device code (the device is told authorization_declined)',
    makes: 'action',
    args: z.strictObject({ userCode: userCodeSchema }),
    example: { userCode: 'YZMYLD4K' },
    cli: { words: ['identity', 'decline'], positional: ['userCode'] },
    apply(bench, a) {
      const view = leverValue(identityOf(bench).entra.declineUserCode(a.userCode));
      return { kind: 'action', sentence: `${view.userCode} was declined.`, result: view };
    },
  }),

  'identity.expire-tokens': lever({
    group: 'identity',
    summary: 'Every access token a provider has issued so far is expired now (a refresh still works)',
    makes: 'fault',
    args: z.strictObject({ provider: z.enum(['entra', 'google']) }),
    example: { provider: 'entra' },
    apply(bench, a) {
      const levers = identityOf(bench)[a.provider].tokenLevers;
      const view = leverValue(levers.expireAccessTokens());
      return {
        kind: 'fault',
        target: a.provider,
        sentence: `${a.provider === 'entra' ? 'Entra ID' : 'Google'} access tokens issued so far are expired (${view.expiredAccessTokens?.tokens ?? 0} were live).`,
        undo: () => void levers.restoreAccessTokens(),
      };
    },
  }),

  'identity.revoke-grant': lever({
    group: 'identity',
    summary: "One grant's refresh token is refused as revoked (the grants and their ids are in GET /sim/api/state)",
    makes: 'fault',
    args: z.strictObject({ provider: z.enum(['entra', 'google']), grantId: grantIdSchema }),
    example: { provider: 'entra', grantId: 'g-1' },
    apply(bench, a) {
      const levers = identityOf(bench)[a.provider].tokenLevers;
      const grant = leverValue(levers.revokeGrant(a.grantId));
      return { kind: 'fault', target: `${a.provider} ${grant.id}`, sentence: `Grant ${grant.id} (${grant.user}) is revoked.`, undo: () => void levers.restoreGrant(grant.id) };
    },
  }),

  'identity.password': lever({
    group: 'identity',
    summary: 'The sign-in pages ask this account for a password (the password step can be rehearsed, right or wrong)',
    makes: 'fault',
    args: z.strictObject({ provider: z.enum(['entra', 'google']), user: accountSchema, password: passwordSchema }),
    example: { provider: 'entra', user: 'alice@contoso.com', password: 'Correct-Horse-1' },
    apply(bench, a) {
      const service = identityOf(bench)[a.provider];
      const setPassword = (password: string | undefined) => service.setPassword(a.user, password) as LeverResult<unknown>;
      leverValue(setPassword(a.password));
      return { kind: 'fault', target: `${a.provider} ${a.user}`, sentence: `${a.user} signs in with a password.`, undo: () => void setPassword(undefined) };
    },
  }),

  'clock.device': lever({
    group: 'clock',
    summary: "The device's RTC: set it, jump it, let it drift, or lose the battery (the device sees a clock change)",
    makes: 'action',
    args: z.discriminatedUnion('action', [
      z.strictObject({ action: z.literal('set'), wallMs: z.number().int().min(0).max(4_102_444_800_000), device: deviceNumberSchema }),
      z.strictObject({ action: z.literal('jump'), deltaMs: z.number().int().min(-100 * YEAR_MS).max(100 * YEAR_MS), device: deviceNumberSchema }),
      z.strictObject({ action: z.literal('drift'), ppm: z.number().min(-RTC_DRIFT_MAX_PPM).max(RTC_DRIFT_MAX_PPM), device: deviceNumberSchema }),
      z.strictObject({ action: z.literal('battery-loss'), device: deviceNumberSchema }),
    ]),
    example: { action: 'jump', deltaMs: 600_000 },
    cli: {
      words: ['clock', 'device'],
      flags: {
        set: { help: 'set it to an ISO date-time', type: 'string', set: (a, v) => Object.assign(a, { action: 'set', wallMs: isoMs(String(v)) }) },
        jump: { help: 'jump by DURATION (e.g. +10m, -1d)', type: 'string', set: (a, v) => Object.assign(a, { action: 'jump', deltaMs: durationMs(String(v)) }) },
        drift: { help: 'drift PPM', type: 'string', set: (a, v) => Object.assign(a, { action: 'drift', ppm: Number(v) }) },
        'battery-loss': { help: 'the RTC loses its battery', type: 'boolean', set: (a) => Object.assign(a, { action: 'battery-loss' }) },
      },
    },
    apply(bench, a) {
      const clock = poweredPrinter(bench, a.device).clock;
      const on = onDevice(bench, a.device);
      switch (a.action) {
        case 'set':
          clock.setWallMs(a.wallMs, 'tester-set');
          return { kind: 'action', sentence: `${on}The device clock was set to ${new Date(a.wallMs).toISOString()}.` };
        case 'jump':
          clock.jump(a.deltaMs);
          return { kind: 'action', sentence: `${on}The device clock jumped ${a.deltaMs >= 0 ? '+' : ''}${a.deltaMs} ms.` };
        case 'drift':
          clock.setDriftPpm(a.ppm);
          return { kind: 'action', sentence: `${on}The device clock drifts ${a.ppm} ppm.` };
        case 'battery-loss':
          clock.batteryLoss();
          return { kind: 'action', sentence: `${on}The RTC lost its battery.` };
      }
    },
  }),

  'clock.world': lever({
    group: 'clock',
    summary: "The world clock (what the servers believe the time is): set, jump or drift it apart from the device clock, so skew is made without touching the device; reset is the undo",
    makes: 'fault',
    args: worldClockActionSchema,
    example: { action: 'jump', deltaMs: 600_000 },
    cli: {
      words: ['clock', 'world'],
      flags: {
        set: { help: 'set it to an ISO date-time', type: 'string', set: (a, v) => Object.assign(a, { action: 'set', worldMs: isoMs(String(v)) }) },
        jump: { help: 'jump by DURATION (e.g. +10m, -1d)', type: 'string', set: (a, v) => Object.assign(a, { action: 'jump', deltaMs: durationMs(String(v)) }) },
        drift: { help: 'drift PPM', type: 'string', set: (a, v) => Object.assign(a, { action: 'drift', ppm: Number(v) }) },
        reset: { help: 'back to true time', type: 'boolean', set: (a) => Object.assign(a, { action: 'reset' }) },
      },
    },
    apply(bench, a) {
      const before = bench.world.view();
      const now = bench.world.apply(a);
      return {
        kind: 'fault',
        target: 'world clock',
        sentence: now.sentence,
        detail: () => bench.world.view(),
        undo: () => {
          bench.world.reset();
          if (before.offsetMs !== 0) bench.world.jump(before.offsetMs);
          if (before.driftPpm !== 0) bench.world.setDriftPpm(before.driftPpm);
        },
      };
    },
  }),

  'time.advance': lever({
    group: 'clock',
    summary: 'Move virtual time forward (only with --virtual-time), letting every timer of the device and the world fire and its I/O finish; with `until`, stop as soon as a device event is recorded or a panel job reaches a phase',
    makes: 'action',
    args: z.strictObject({
      ms: z.number().int().min(0).max(YEAR_MS).describe('how far at most, ms'),
      until: z
        .strictObject({
          event: z.enum(EVENT_CODES).optional().describe('a device event code, e.g. send-job-delivered'),
          jobPhase: z.enum(PANEL_JOB_PHASES).optional().describe("the newest panel job's phase (or jobId's)"),
          jobId: z.string().trim().min(1).max(64).optional(),
          device: deviceNumberSchema.describe('the printer whose event or job is waited for, 1-based (default 1)'),
        })
        .refine((u) => u.event !== undefined || u.jobPhase !== undefined, { message: 'event, jobPhase or both', path: ['event'] })
        .optional(),
    }),
    example: { ms: 3_600_000 },
    cli: {
      words: ['advance'],
      positional: ['ms'],
      flags: {
        'until-event': { help: 'stop once the device records EVENT', type: 'string', set: (a, v) => void (a.until = { ...(a.until as object), event: String(v) }) },
        'until-job': { help: 'stop once the newest panel job is in PHASE', type: 'string', set: (a, v) => void (a.until = { ...(a.until as object), jobPhase: String(v) }) },
        'until-device': { help: 'watch device N of a fleet (default 1)', type: 'string', set: (a, v) => void (a.until = { ...(a.until as object), device: Number(v) }) },
      },
    },
    async apply(bench, a) {
      const source = virtualTime(bench);
      const until = a.until;
      const printer = poweredPrinter(bench, until?.device, 'until.device');
      const checks: (() => boolean | Promise<boolean>)[] = [];
      if (until?.event !== undefined) checks.push(deviceEventSeen(printer, { code: until.event }));
      if (until?.jobPhase !== undefined) checks.push(panelJobInPhase(printer, { phases: until.jobPhase, ...(until.jobId !== undefined ? { jobId: until.jobId } : {}) }));
      const predicate = async () => {
        for (const check of checks) if (await check()) return true;
        return false;
      };
      const done = await advanceUntil(source, predicate, { boundMs: a.ms });
      const what = [until?.event, until?.jobPhase && `job ${until.jobPhase}`].filter(Boolean).join(' or ');
      return {
        kind: 'action',
        sentence: until
          ? done.met
            ? `Virtual time moved ${formatDurationMs(done.advancedMs)} until ${what}.`
            : `Virtual time moved ${formatDurationMs(done.advancedMs)}; ${what} did not happen.`
          : `Virtual time moved ${formatDurationMs(done.advancedMs)}.`,
        result: { met: until ? done.met : true, advancedMs: done.advancedMs },
      };
    },
  }),

  'power.switch': lever({
    group: 'power',
    summary: 'The power switch: off, on, or a cycle (off then on)',
    makes: 'action',
    args: z.strictObject({ action: z.enum(['cycle', 'off', 'on']), device: deviceNumberSchema }),
    example: { action: 'cycle' },
    cli: { words: ['power'], positional: ['action'] },
    async apply(bench, a) {
      const printer = printerOf(bench, a.device);
      if (a.action === 'cycle') await printer.powerCycle();
      else if (a.action === 'off') await printer.powerOff();
      else await printer.powerOn();
      const which = a.device === undefined && bench.printers.length === 1 ? 'The printer' : `Device ${a.device ?? 1}`;
      return { kind: 'action', sentence: a.action === 'cycle' ? `${which} was switched off and on.` : `${which} was switched ${a.action}.` };
    },
  }),

  'power.cut': lever({
    group: 'power',
    summary: "Cut the power at a named point, on its nth occurrence: an NVRAM record's write stage, the spool's, a job phase (after-final-dot: the dot sent, the reply not read) or an SMTP step",
    makes: 'fault',
    args: powerCutSchema.extend({ device: deviceNumberSchema }),
    example: { at: 'job:after-final-dot' },
    cli: { words: ['power', 'cut'] },
    apply(bench, a) {
      const { device, ...spec } = a;
      const printer = printerOf(bench, device);
      const cut = printer.faults.armPowerCut(spec);
      const now = () => printer.faults.view().powerCuts;
      const find = () => [...now().armed, ...now().fired].find((c) => c.id === cut.id);
      return {
        kind: 'fault',
        target: `${device === undefined ? '' : `device ${device} `}${cut.at}`,
        sentence: `${onDevice(bench, device)}${cut.sentence}`,
        detail: find,
        active: () => find()?.state === 'armed',
        undo: () => void printer.faults.disarm(cut.id),
      };
    },
  }),

  'scanner.fault': lever({
    group: 'scanner',
    summary: 'The scanner fails: the scan unit dies or stalls after N pages, the paper jams after N pages, or the spool is only so big',
    makes: 'fault',
    args: scannerFaultArgs,
    example: { kind: 'paper-jam', afterPages: 1 },
    cli: { words: ['scanner'], positional: ['kind'] },
    apply(bench, a) {
      const { device, ...spec } = a;
      const printer = printerOf(bench, device);
      const fault = printer.faults.addScannerFault(spec);
      const find = () => printer.faults.view().scanner.find((f) => f.id === fault.id);
      return {
        kind: 'fault',
        target: device === undefined ? 'scanner' : `device ${device} scanner`,
        sentence: `${onDevice(bench, device)}${fault.sentence}`,
        detail: find,
        active: () => find() !== undefined,
        undo: () => void printer.faults.disarm(fault.id),
      };
    },
  }),

  'random.seed': lever({
    group: 'random',
    summary: "Seed every random choice of the simulator from now on (fault chances, jitter, the mail servers' choices)",
    makes: 'action',
    args: z.strictObject({ seed: z.union([z.number().int().min(0).max(2 ** 53 - 1), z.string().trim().min(1).max(64)]) }),
    example: { seed: 42 },
    cli: { words: ['seed'], positional: ['seed'] },
    apply(bench, a) {
      bench.random.reseed(a.seed);
      return { kind: 'action', sentence: `The simulator's random choices follow seed ${bench.random.seed} from now on.` };
    },
  }),
} satisfies Record<string, Lever<z.ZodType>>;

export type LeverName = keyof typeof LEVERS;
export const LEVER_NAMES = Object.keys(LEVERS) as LeverName[];

/** The `rule` of smtp.rule's arguments, made on first use (the CLI fills it flag by flag). */
function ruleOf(args: Record<string, unknown>): Record<string, unknown> {
  return (args.rule ??= {}) as Record<string, unknown>;
}

/** "421 4.7.0 Try again later" as a rule's reply. */
function replyFromText(text: string): { code: number; enhanced?: string; text: string } {
  const m = /^\s*(\d{3})(?:\s+([245]\.\d{1,3}\.\d{1,3}))?\s+(.+)$/.exec(text);
  if (!m) throw new Error(`--reply: "CODE [x.y.z] TEXT" such as "421 4.7.0 Try again later", not ${JSON.stringify(text)}`);
  return { code: Number(m[1]), ...(m[2] !== undefined ? { enhanced: m[2] } : {}), text: m[3]! };
}

function isoMs(text: string): number {
  const ms = Date.parse(text);
  if (Number.isNaN(ms)) throw new Error(`not a date-time such as 2027-01-31T12:00:00Z: ${JSON.stringify(text)}`);
  return ms;
}

/** An SMTP rule in words, for the fault list. */
function ruleWords(rule: z.output<typeof smtpRuleSpecSchema>): string {
  const act = rule.act;
  const does =
    'reply' in act
      ? `answers ${act.reply.code}${act.reply.enhanced ? ` ${act.reply.enhanced}` : ''} ${act.reply.text}`
      : 'delayMs' in act
        ? `waits ${act.delayMs} ms`
        : 'disconnect' in act
          ? 'drops the connection'
          : 'falls silent';
  const limit = [rule.times !== undefined ? `${rule.times} time${rule.times === 1 ? '' : 's'}` : '', rule.nth !== undefined ? `at match ${rule.nth}` : '', rule.probability !== undefined ? `with chance ${rule.probability}` : '']
    .filter(Boolean)
    .join(', ');
  return `${does} at ${rule.on.toUpperCase()}${rule.match !== undefined ? ` matching ${typeof rule.match === 'string' ? rule.match : `/${rule.match.regex}/`}` : ''}${limit ? ` (${limit})` : ''}`;
}

