"""A real SMTP server (aiosmtpd, from PyPI) for the e-mail channel's tests.

Listens on 127.0.0.1, a free port; prints {"port": N} as its first line on stdout, then one JSON
line per mail: what the envelope held, and the message as Python's own e-mail parser reads it
(headers, the plain-text and the HTML part, with \n line ends). Options: --fail-first N answers the first N mails
451 (a temporary failure: the sender must try again); --login USER:PASSWORD requires that login.
--tls starttls (required before anything else), starttls-optional (offered, not required: a
client that went on in clear would be seen doing so) or implicit (TLS from the first byte), with
--cert and --key, the server's PEM files. Each login attempt is a line {"auth": USER, "tls": ...};
each mail says whether it came over TLS. --hold-while PATH holds every mail's DATA unanswered
while the file PATH exists (a server that hangs), printing {"held": true} for each.
"""

import argparse
import asyncio
import email
import json
import logging
import os
import ssl
import sys
import warnings
from email import policy

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword


def emit(line):
    print(json.dumps(line), flush=True)


def encrypted(server):
    return server.transport is not None and server.transport.get_extra_info("ssl_object") is not None


class Handler:
    def __init__(self, fail_first, hold_while):
        self.fail_first = fail_first
        self.hold_while = hold_while
        self.seen = 0

    async def handle_DATA(self, server, session, envelope):
        if self.hold_while and os.path.exists(self.hold_while):
            emit({"held": True})
            while os.path.exists(self.hold_while):
                await asyncio.sleep(0.02)
            return "451 4.3.0 Held"
        self.seen += 1
        if self.seen <= self.fail_first:
            emit({"refused": True, "rcpt_tos": envelope.rcpt_tos})
            return "451 4.3.0 Try again later"
        message = email.message_from_bytes(envelope.content, policy=policy.default)
        text = message.get_body(preferencelist=("plain",))
        html = message.get_body(preferencelist=("html",))
        emit({
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "login": session.auth_data.login.decode() if session.auth_data else None,
            "tls": encrypted(server),
            "header_names": [name.lower() for name in message.keys()],
            "subject": str(message["subject"]),
            "from": str(message["from"]),
            "to": [str(address) for address in message["to"].addresses],
            "content_type": message.get_content_type(),
            # Mail lines end in CRLF on the wire; a reader sees lines.
            "text": text.get_content().replace("\r\n", "\n") if text else None,
            "html": html.get_content().replace("\r\n", "\n") if html else None,
        })
        return "250 Message accepted for delivery"


def authenticator_for(login):
    user, password = login.split(":", 1)

    def authenticate(server, session, envelope, mechanism, auth_data):
        login = auth_data.login.decode() if isinstance(auth_data, LoginPassword) else None
        emit({"auth": login, "tls": encrypted(server)})
        ok = (
            isinstance(auth_data, LoginPassword)
            and auth_data.login.decode() == user
            and auth_data.password.decode() == password
        )
        return AuthResult(success=ok, handled=False, auth_data=auth_data)

    return authenticate


async def main():
    # Login without TLS is what the tests want (a plain local server); no warning about it.
    warnings.simplefilter("ignore")
    logging.getLogger("mail.log").setLevel(logging.ERROR)
    parser = argparse.ArgumentParser()
    parser.add_argument("--fail-first", type=int, default=0)
    parser.add_argument("--login")
    parser.add_argument(
        "--tls", choices=["none", "starttls", "starttls-optional", "implicit"], default="none"
    )
    parser.add_argument("--cert")
    parser.add_argument("--key")
    parser.add_argument("--hold-while")
    args = parser.parse_args()
    handler = Handler(args.fail_first, args.hold_while)
    options = {}
    if args.login:
        options = dict(
            authenticator=authenticator_for(args.login),
            auth_required=True,
            # Only a required STARTTLS makes aiosmtpd's own TLS check meaningful: implicit TLS
            # is encrypted without it, and starttls-optional must let a client err in clear.
            auth_require_tls=args.tls == "starttls",
        )
    context = None
    if args.tls != "none":
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(args.cert, args.key)
    if args.tls in ("starttls", "starttls-optional"):
        options["tls_context"] = context
        options["require_starttls"] = args.tls == "starttls"
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: SMTP(handler, hostname="smtp.test", **options),
        "127.0.0.1",
        0,
        ssl=context if args.tls == "implicit" else None,
    )
    emit({"port": server.sockets[0].getsockname()[1]})
    await server.serve_forever()


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        sys.exit(0)
