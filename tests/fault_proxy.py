"""A small HTTP proxy in front of the local index that fails uploads on purpose.

Every request is passed to the index, except the uploads (POSTs) after the
first `passes`: those get the fault, as a real index or network sometimes
gives it mid-release. A status code (400, 403, 503) is answered with that
status; "reset" drops the connection (TCP RST) in the middle of the upload;
"hang" holds the upload unanswered (for a Ctrl-C); "attestations" answers 400
to an upload that carries PEP 740 attestations, as TestPyPI has done;
"stored-503" passes the upload to the index, then answers 503 (stored, yet
failed: the ambiguous case). `credentials` holds each upload's Authorization.
Reads (GETs) after `reads_pass` upload attempts get `read_fault`: "cut" sends half the
index's answer and closes the connection, "malformed" answers invalid JSON,
"hang" holds the read unanswered (setting `reading`, for a Ctrl-C).
Only the standard library, and only 127.0.0.1.
"""

from __future__ import annotations

import contextlib
import http.client
import http.server
import re
import socket
import struct
import threading
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

REASONS = {
    400: "Bad Request: injected fault (the index rejected this file)",
    403: "Forbidden: injected fault (invalid or non-existent authentication)",
    503: "Service Unavailable: injected fault",
}
HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "proxy-connection"}


@dataclass
class FaultProxy:
    upstream: str  # the index's URL, http://127.0.0.1:PORT/
    fault: int | str | None = None  # None: pass everything
    passes: int = 1  # uploads passed before the fault starts
    read_fault: str | None = None  # "cut" or "malformed": the index's answers
    reads_pass: int = 0  # upload attempts (passed or not) before reads get read_fault
    url: str = ""
    uploads: list[tuple[str, str]] = field(default_factory=list)  # (file, outcome)
    credentials: list[str] = field(default_factory=list)  # each upload's Authorization
    hung: threading.Event = field(default_factory=threading.Event)  # set: let go
    reading: threading.Event = field(default_factory=threading.Event)  # a read hangs

    def _outcome(self) -> int | str | None:
        uploads_so_far = len(self.uploads)
        return self.fault if uploads_so_far >= self.passes else None


def _uploaded_file_name(body: bytes) -> str:
    match = re.search(rb'name="content"; filename="([^"]+)"', body)
    return match.group(1).decode() if match else "?"


class _Handler(http.server.BaseHTTPRequestHandler):
    proxy: FaultProxy  # set on the subclass made per server
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        pass  # quiet: the tests read `uploads`

    def do_GET(self) -> None:
        if self.proxy.read_fault and len(self.proxy.uploads) >= self.proxy.reads_pass:
            self._answer_badly(self.proxy.read_fault)
            return
        self._forward(b"")

    def _answer_badly(self, fault: str) -> None:
        if fault == "hang":
            self.proxy.reading.set()
            self.proxy.hung.wait(timeout=120)
            return
        payload = b'{"meta": {"api-version": "1.1"}, "name": "my-package", "files": ['
        self.send_response(200, "OK")
        self.send_header("Content-Type", "application/vnd.pypi.simple.v1+json")
        length = len(payload) * (2 if fault == "cut" else 1)  # cut: half sent
        self.send_header("Content-Length", str(length))
        self.end_headers()
        self.wfile.write(payload)
        self.wfile.flush()
        self.close_connection = True

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        self.proxy.credentials.append(self.headers.get("Authorization", ""))
        if (fault := self.proxy._outcome()) == "reset":
            # Read half the upload, then drop the connection with a RST.
            head = self.rfile.read(length // 2)
            if _uploaded_file_name(head) == "?":  # the metadata fields came first
                head += self.rfile.read(length - length // 2 - 1)
            self.proxy.uploads.append((_uploaded_file_name(head), "reset"))
            self.connection.setsockopt(
                socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
            )
            self.connection.close()
            self.close_connection = True
            return
        body = self.rfile.read(length)
        name = _uploaded_file_name(body)
        if fault == "hang":
            self.proxy.uploads.append((name, "hang"))
            self.proxy.hung.wait(timeout=120)
            return
        if fault == "attestations":
            fault = 400 if b'name="attestations"' in body else None
        if fault == "stored-503":
            self._forward(body, answer=False)  # the index keeps it; its answer is lost
        status = 503 if fault == "stored-503" else fault
        if isinstance(status, int):
            self.proxy.uploads.append((name, str(fault)))
            reason = REASONS.get(status, "injected fault")
            self.send_response(status, reason)
            payload = f"{status} {reason}\n".encode()
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
            return
        self.proxy.uploads.append((name, "passed"))
        self._forward(body)

    def _forward(self, body: bytes, *, answer: bool = True) -> None:
        target = urllib.parse.urlsplit(self.proxy.upstream)
        upstream = http.client.HTTPConnection(
            target.hostname or "127.0.0.1", target.port, timeout=60
        )
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
        try:
            upstream.request(
                self.command, self.path, body=body or None, headers=headers
            )
            response = upstream.getresponse()
            payload = response.read()
        finally:
            upstream.close()
        if not answer:
            return
        self.send_response(response.status, response.reason)
        for key, value in response.getheaders():
            if key.lower() not in HOP_BY_HOP | {"content-length"}:
                self.send_header(key, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def finish(self) -> None:
        with contextlib.suppress(OSError):  # the connection reset on purpose
            super().finish()


@contextmanager
def fault_proxy(
    upstream: str, fault: int | str | None, passes: int = 1
) -> Iterator[FaultProxy]:
    """Run a proxy to `upstream` on 127.0.0.1 for the duration of the block."""
    proxy = FaultProxy(upstream=upstream, fault=fault, passes=passes)
    handler = type("Handler", (_Handler,), {"proxy": proxy})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    proxy.url = f"http://127.0.0.1:{server.server_address[1]}/"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield proxy
    finally:
        proxy.hung.set()
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
