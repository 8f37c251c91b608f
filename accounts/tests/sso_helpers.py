"""Real servers for the customer SSO tests: a tiny DNS server (dnslib) answering TXT queries,
and a tiny HTTP server answering an OIDC discovery document. Run as a process for the e2e test:
`python -m accounts.tests.sso_helpers <port> <name>=<value> ...` serves those TXT records."""

import json
import socket
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from dnslib import QTYPE, RR, TXT
from dnslib.server import BaseResolver, DNSServer


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class TxtResolver(BaseResolver):
    """Answers TXT queries from `records` (name without trailing dot → list of values);
    NXDOMAIN for any other name."""

    def __init__(self, records: dict[str, list[str]]):
        self.records = records

    def resolve(self, request, handler):
        reply = request.reply()
        name = str(request.q.qname).rstrip(".").lower()
        values = self.records.get(name)
        if values is None:
            reply.header.rcode = 3  # NXDOMAIN
            return reply
        if request.q.qtype == QTYPE.TXT:
            for value in values:
                reply.add_answer(RR(request.q.qname, QTYPE.TXT, rdata=TXT(value), ttl=60))
        return reply


class TxtServer:
    """A DNS server on 127.0.0.1 in a thread (unit tests); `records` may change while it runs."""

    def __init__(self, records: dict[str, list[str]] | None = None):
        self.records: dict[str, list[str]] = records if records is not None else {}
        self.port = free_udp_port()
        self.server = DNSServer(TxtResolver(self.records), port=self.port, address="127.0.0.1")

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def __enter__(self):
        self.server.start_thread()
        return self

    def __exit__(self, *exc):
        self.server.stop()


class DiscoveryServer:
    """An HTTP server in a thread answering /.well-known/openid-configuration with `document`
    (a dict, or raw text when `raw` is set) and `status`."""

    def __init__(self):
        self.document: dict | None = None
        self.raw: str | None = None
        self.status = 200
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 - http.server's name
                body = (outer.raw if outer.raw is not None else json.dumps(outer.document or {})).encode()
                self.send_response(outer.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.document = self.valid_document()

    def valid_document(self) -> dict:
        return {
            "issuer": self.url,
            "authorization_endpoint": f"{self.url}/authorize",
            "token_endpoint": f"{self.url}/token",
            "userinfo_endpoint": f"{self.url}/userinfo",
            "jwks_uri": f"{self.url}/jwks",
        }

    def __enter__(self):
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()


def main(argv: list[str]) -> None:
    port = int(argv[0])
    records: dict[str, list[str]] = {}
    for pair in argv[1:]:
        name, _, value = pair.partition("=")
        records.setdefault(name.lower(), []).append(value)
    server = DNSServer(TxtResolver(records), port=port, address="127.0.0.1")
    print(f"dns up on {port}", flush=True)
    server.start()  # blocks until killed


if __name__ == "__main__":
    main(sys.argv[1:])
