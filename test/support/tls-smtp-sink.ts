/**
 * A real smtp-server on loopback as the device's mail server in integration tests: STARTTLS with
 * a certificate for `host` from a test root of its own (the root the device must trust), AUTH
 * PLAIN for one account, SIZE 50 MiB. What arrives goes to `onMessage`, which may answer the final
 * "." with a refusal instead of 250.
 */
import { SMTPServer, type SMTPServerSession } from 'smtp-server';
import { DAY_MS } from '../../firmware/defaults.ts';
import { createRootCa, issueCertificate, pemChain, type TestCertificate } from '../../device-sim/cloud/test-pki.ts';

export interface TlsSmtpSinkOptions {
  readonly host: string;
  readonly user: string;
  readonly password: string;
  /** The test root's common name (it shows in certificate problems). */
  readonly rootName: string;
  /** The message as received; a reply to refuse it, or undefined to accept. */
  onMessage(raw: Buffer, session: SMTPServerSession): { readonly code: number; readonly text: string } | undefined;
  /** A refusal for RCPT TO, or undefined to accept. */
  onRcptTo?(address: string): { readonly code: number; readonly text: string } | undefined;
}

export function tlsSmtpSink(options: TlsSmtpSinkOptions): { readonly server: SMTPServer; readonly root: TestCertificate } {
  const now = Date.now();
  const root = createRootCa({ commonName: options.rootName, notBeforeMs: now - DAY_MS, notAfterMs: now + 365 * DAY_MS });
  const leaf = issueCertificate(root, { commonName: options.host, dnsNames: [options.host], notBeforeMs: now - DAY_MS, notAfterMs: now + 90 * DAY_MS });
  const refusal = (reply: { code: number; text: string }) => Object.assign(new Error(reply.text), { responseCode: reply.code });
  const server = new SMTPServer({
    secure: false,
    cert: pemChain(leaf, root),
    key: leaf.keyPem,
    authMethods: ['PLAIN'],
    size: 50 * 1024 * 1024,
    logger: false,
    onAuth(auth, _session, done) {
      if (auth.username === options.user && auth.password === options.password) done(null, { user: options.user });
      else done(refusal({ code: 535, text: '5.7.8 Authentication failed' }));
    },
    onRcptTo(address, _session, done) {
      const refused = options.onRcptTo?.(address.address);
      if (refused) done(refusal(refused));
      else done();
    },
    onData(stream, session, done) {
      const parts: Buffer[] = [];
      stream.on('data', (d: Buffer) => parts.push(d));
      stream.on('end', () => {
        const refused = options.onMessage(Buffer.concat(parts), session);
        if (refused) done(refusal(refused));
        else done();
      });
    },
  });
  return { server, root };
}
