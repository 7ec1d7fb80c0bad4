"""A real, independent SMTP server for test/integration/smtp-peers.test.ts: aiosmtpd (Debian's
python3-aiosmtpd), run with /usr/bin/python3.

- Listens on 127.0.0.1, port 0 unless --port is given, and prints `PORT <n>` on stdout once it
  accepts connections.
- STARTTLS with the given certificate chain and key, and nothing else before it
  (require_starttls); AUTH PLAIN and LOGIN only after TLS (auth_require_tls) and required before
  MAIL (auth_required), against one fixed user and password; SIZE (data_size_limit) and 8BITMIME
  advertised.
- RCPT to a local part `nobody` is refused with 550 5.1.1 (a mailbox that does not exist).
- Each accepted message's `envelope.original_content` (the DATA bytes as received, after
  dot-unstuffing, without the terminating ".") goes to <dir>/msg-<n>.eml, written to a temporary
  name and renamed, BEFORE the 250 reply: once the client has its 250, the file is complete.
- Every connection, TLS upgrade, command verb (arguments only for MAIL and RCPT; AUTH payloads are
  never logged), authentication result and message is appended to <dir>/events.jsonl, one JSON
  object per line, so that a test can prove what a client did NOT send.
- Exits when stdin closes (the test process went away) or on SIGTERM.

Deliberately not done: SMTPUTF8, PIPELINING (aiosmtpd does not offer it), implicit TLS.
"""

import argparse
import asyncio
import itertools
import json
import logging
import os
import signal
import ssl
import sys

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword

_ids = itertools.count(1)
# aiosmtpd itself sets the deprecated Session.login_data on every successful AUTH and warns
# about it through its logger; keep stderr for real problems.
logging.getLogger("mail.log").setLevel(logging.ERROR)


class EventLog:
    def __init__(self, path):
        self._file = open(path, "a", encoding="utf-8")

    def write(self, conn, event, **fields):
        self._file.write(json.dumps({"conn": conn, "event": event, **fields}) + "\n")
        self._file.flush()


class Sink:
    """aiosmtpd handler: accepts every MAIL and RCPT but nobody@, stores each message's raw bytes."""

    def __init__(self, directory, log):
        self._dir = directory
        self._log = log
        self._count = itertools.count(1)

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 2.1.0 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        # A mailbox that does not exist, for partial-acceptance tests.
        if address.lower().startswith("nobody@"):
            return "550 5.1.1 <%s>: Recipient address rejected: User unknown" % address
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server, session, envelope):
        n = next(self._count)
        final = os.path.join(self._dir, f"msg-{n:04d}.eml")
        partial = final + ".part"
        with open(partial, "wb") as f:
            f.write(envelope.original_content)
        os.rename(partial, final)
        self._log.write(
            server.conn_id,
            "message",
            file=os.path.basename(final),
            bytes=len(envelope.original_content),
            mail_from=envelope.mail_from,
            rcpt_tos=envelope.rcpt_tos,
            mail_options=envelope.mail_options,
            user=getattr(session, "auth_user", None),
        )
        return f"250 2.0.0 OK stored as {os.path.basename(final)}"


class LoggingSMTP(SMTP):
    """aiosmtpd's SMTP with the connection and every command line logged as it is read.

    The tap sits on the stream reader, so commands aiosmtpd refuses before its own dispatch
    (anything but EHLO/HELO/NOOP/QUIT/STARTTLS before STARTTLS) are logged too. Message lines
    (during DATA) and AUTH continuation lines (credentials) are not.
    """

    def __init__(self, handler, log, **kwargs):
        self.conn_id = next(_ids)
        self._log = log
        # Lines read while this is set are not commands: message data, AUTH responses.
        self._untapped = False
        super().__init__(handler, **kwargs)

    def connection_made(self, transport):
        # connection_made runs again for the TLS transport after STARTTLS; log the first only.
        if self._original_transport is None and self.transport is None:
            self._log.write(self.conn_id, "connect")
        super().connection_made(transport)

    def connection_lost(self, error):
        self._log.write(self.conn_id, "close", error=None if error is None else str(error))
        super().connection_lost(error)

    def _client_connected_cb(self, reader, writer):
        super()._client_connected_cb(reader, writer)
        read_line = reader.readuntil

        async def tapped(separator=b"\n"):
            line = await read_line(separator)
            if not self._untapped:
                self._on_command_line(bytes(line))
            return line

        reader.readuntil = tapped

    def _on_command_line(self, line):
        text = line.rstrip(b"\r\n").decode("utf-8", "replace")
        verb, _, arg = text.partition(" ")
        verb = verb.upper()
        fields = {"verb": verb, "tls": self._tls_protocol is not None}
        if verb in ("EHLO", "HELO", "MAIL", "RCPT"):
            fields["arg"] = arg
        elif verb == "AUTH":
            fields["arg"] = arg.split(" ")[0].upper()  # the mechanism only: the rest is a credential
        self._log.write(self.conn_id, "command", **fields)

    async def smtp_STARTTLS(self, arg):
        await super().smtp_STARTTLS(arg)
        if self._tls_protocol is not None:
            self._log.write(self.conn_id, "tls-up")

    async def smtp_DATA(self, arg):
        self._untapped = True
        try:
            await super().smtp_DATA(arg)
        finally:
            self._untapped = False

    async def challenge_auth(self, *args, **kwargs):
        # The client's answer to a 334 challenge is a credential (AUTH LOGIN user and password).
        self._untapped = True
        try:
            return await super().challenge_auth(*args, **kwargs)
        finally:
            self._untapped = False


def make_authenticator(user, password, log):
    def authenticate(server, session, envelope, mechanism, auth_data):
        ok = isinstance(auth_data, LoginPassword) and auth_data.login.decode("utf-8", "replace") == user and auth_data.password.decode("utf-8", "replace") == password
        login = auth_data.login.decode("utf-8", "replace") if isinstance(auth_data, LoginPassword) else None
        log.write(server.conn_id, "auth", mechanism=mechanism, login=login, success=ok)
        if ok:
            session.auth_user = login
        return AuthResult(success=ok, handled=False)

    return authenticate


async def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", required=True, help="where messages and events.jsonl go")
    parser.add_argument("--cert", required=True, help="PEM: server certificate first, then its chain")
    parser.add_argument("--key", required=True, help="PEM private key")
    parser.add_argument("--user", required=True)
    parser.add_argument("--password", required=True)
    parser.add_argument("--hostname", default="mail.peer.test")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--size-limit", type=int, default=30_000_000)
    args = parser.parse_args()

    os.makedirs(args.dir, exist_ok=True)
    log = EventLog(os.path.join(args.dir, "events.jsonl"))
    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    tls.load_cert_chain(args.cert, args.key)
    handler = Sink(args.dir, log)
    authenticator = make_authenticator(args.user, args.password, log)
    loop = asyncio.get_running_loop()

    def factory():
        return LoggingSMTP(
            handler,
            log,
            hostname=args.hostname,
            tls_context=tls,
            require_starttls=True,
            auth_required=True,
            auth_require_tls=True,
            authenticator=authenticator,
            data_size_limit=args.size_limit,
            timeout=60,
            loop=loop,
        )

    server = await loop.create_server(factory, host="127.0.0.1", port=args.port)
    port = server.sockets[0].getsockname()[1]
    print(f"PORT {port}", flush=True)

    stop = loop.create_future()
    loop.add_signal_handler(signal.SIGTERM, lambda: stop.done() or stop.set_result("SIGTERM"))
    loop.add_signal_handler(signal.SIGINT, lambda: stop.done() or stop.set_result("SIGINT"))
    # stdin closing means the test process is gone: do not outlive it.
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)

    async def watch_stdin():
        await reader.read()
        if not stop.done():
            stop.set_result("stdin closed")

    watcher = asyncio.ensure_future(watch_stdin())
    await stop
    watcher.cancel()
    server.close()
    await server.wait_closed()


if __name__ == "__main__":
    asyncio.run(main())
