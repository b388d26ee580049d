#!/usr/bin/python3
"""SMTP receiver for the ARAS e-mail notifier tests (Debian's python3-aiosmtpd).

Listens on 127.0.0.1 (port 0 = ephemeral unless --port), writes the chosen
port to --port-file once it accepts connections, and stores every delivered
message as <dir>/msg-<n>.eml (bytes as received) with its envelope in
<dir>/msg-<n>.json (written first; the .eml appears by rename, so a present
.eml is complete). With --auth USER:PASSWORD it requires AUTH (PLAIN/LOGIN),
allowed without TLS on loopback. With --tls CERT KEY it offers STARTTLS and
requires it before MAIL. Stops on SIGTERM.
"""
import argparse
import asyncio
import json
import os
import signal
import ssl
import warnings

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword


class Handler:
    def __init__(self, outdir):
        self.outdir = outdir
        # A restarted receiver continues the numbering in the same directory.
        self.count = len([n for n in os.listdir(outdir) if n.endswith(".eml")])

    async def handle_DATA(self, server, session, envelope):
        self.count += 1
        base = os.path.join(self.outdir, "msg-%d" % self.count)
        login = session.auth_data  # what the authenticator returned, or None
        meta = {"mail_from": envelope.mail_from, "rcpt_tos": envelope.rcpt_tos,
                "login": login}
        with open(base + ".json", "w") as f:
            json.dump(meta, f)
        with open(base + ".tmp", "wb") as f:
            f.write(envelope.original_content)
        os.rename(base + ".tmp", base + ".eml")
        return "250 OK stored"


def make_authenticator(user, password):
    def authenticator(server, session, envelope, mechanism, auth_data):
        if (isinstance(auth_data, LoginPassword) and auth_data.login == user.encode()
                and auth_data.password == password.encode()):
            return AuthResult(success=True, auth_data=user)
        return AuthResult(success=False, handled=False)
    return authenticator


async def main():
    # AUTH without TLS is the point on loopback; do not warn about it.
    warnings.filterwarnings("ignore")
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", required=True)
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--auth", default=None)
    ap.add_argument("--tls", nargs=2, metavar=("CERT", "KEY"), default=None)
    args = ap.parse_args()
    handler = Handler(args.dir)
    kwargs = {"hostname": "aras-test-receiver"}
    if args.auth:
        user, password = args.auth.split(":", 1)
        kwargs.update(authenticator=make_authenticator(user, password), auth_required=True,
                      auth_require_tls=False)
    if args.tls:
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(args.tls[0], args.tls[1])
        kwargs.update(tls_context=ctx, require_starttls=True)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: SMTP(handler, **kwargs), host="127.0.0.1",
                                      port=args.port)
    port = server.sockets[0].getsockname()[1]
    with open(args.port_file + ".tmp", "w") as f:
        f.write("%d\n" % port)
    os.rename(args.port_file + ".tmp", args.port_file)
    stop = loop.create_future()
    loop.add_signal_handler(signal.SIGTERM, stop.set_result, None)
    await stop
    server.close()
    await server.wait_closed()


if __name__ == "__main__":
    asyncio.run(main())
