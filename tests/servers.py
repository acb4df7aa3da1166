"""Real servers on 127.0.0.1 for the network tests: an HTTPS stand-in for the Anthropic API (certificate from a
throwaway CA made by trustme) and an HTTP CONNECT proxy. Every loop is bounded; everything stops with its fixture."""

from __future__ import annotations

import json
import select
import socket
import ssl
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import trustme

KEY_PREFIX = "sk-ant-api03-preflighttest-"  # the behaviour is the key's suffix: ...-ok, ...-401, ...


class ApiHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: ApiServer

    def log_message(self, *args) -> None:  # keep test output clean
        pass

    def _behaviour(self) -> str:
        key = self.headers.get("x-api-key") or self.headers.get("authorization", "").removeprefix("Bearer ")
        self.server.seen_keys.append(key)
        if self.server.delay:
            time.sleep(self.server.delay)
        return key.rsplit("-", 1)[-1] if key.startswith(KEY_PREFIX) else ("anonymous" if not key else "unknown")

    def _json(self, status: int, body: dict, headers: dict | None = None) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.send_header("request-id", f"req_{status}_test")
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def _error(self, status: int, kind: str, message: str, headers: dict | None = None) -> None:
        self._json(status, {"type": "error", "error": {"type": kind, "message": message}}, headers)

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        behaviour = self._behaviour()
        if behaviour == "hang":
            time.sleep(30)  # longer than any test's timeout; the server thread is a daemon
            return
        if behaviour == "cut":
            self.wfile.write(b'HTTP/1.1 200 OK\r\ncontent-length: 1000\r\n\r\n{"data": [')
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        if behaviour in ("ok", "streamcut", "streamerror"):
            self._json(200, {"data": [{"id": "claude-haiku-4-5", "type": "model"}], "has_more": True})
        elif behaviour == "slow":
            time.sleep(2)
            self._json(200, {"data": []})
        elif behaviour in ("401", "anonymous", "unknown"):
            self._error(401, "authentication_error", "invalid x-api-key")
        elif behaviour == "403":
            self._error(403, "permission_error", "Your API key does not have permission to use the specified resource.")
        elif behaviour == "429":
            self._error(429, "rate_limit_error", "Number of request tokens has exceeded your per-minute rate limit",
                        {"retry-after": "7", "anthropic-ratelimit-requests-remaining": "0",
                         "anthropic-ratelimit-requests-reset": "2026-11-23T06:00:07Z"})  # fmt: skip
        elif behaviour == "500":
            self._error(500, "api_error", "Out of memory")
        elif behaviour == "529":
            self._error(529, "overloaded_error", "Overloaded")

    def do_POST(self) -> None:  # noqa: N802
        length = int(self.headers.get("content-length", 0))
        request = json.loads(self.rfile.read(length) or b"{}")
        self.server.posted.append(request)
        behaviour = self._behaviour()
        if behaviour == "401":
            return self._error(401, "authentication_error", "invalid x-api-key")
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.send_header("connection", "close")
        self.end_headers()
        events = ["message_start", "content_block_start", "ping", "content_block_delta", "content_block_stop",
                  "message_delta", "message_stop"]  # fmt: skip
        if behaviour == "streamcut":
            events = events[:3]
        for n, name in enumerate(events):
            if behaviour == "streamerror" and n == 2:
                self.wfile.write(
                    b'event: error\ndata: {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}\n\n'
                )
                break
            self.wfile.write(f"event: {name}\ndata: {json.dumps({'type': name})}\n\n".encode())
            self.wfile.flush()
        self.close_connection = True


class ApiServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, context: ssl.SSLContext | None) -> None:
        super().__init__(("127.0.0.1", 0), ApiHandler)
        self.context = context
        self.seen_keys: list[str] = []
        self.posted: list[dict] = []
        self.delay = 0.0
        self.handshakes_to_cut = 0  # that many connections are closed after the ClientHello, as a firewall does
        self._lock = threading.Lock()
        self.thread = threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def finish_request(self, request, client_address) -> None:
        """Each connection's TLS handshake runs in its own thread, as in a real server (not one at a time in the
        accepting thread)."""
        if self.context is None:
            return super().finish_request(request, client_address)
        with self._lock:
            cut, self.handshakes_to_cut = self.handshakes_to_cut > 0, max(0, self.handshakes_to_cut - 1)
        request.settimeout(10)
        try:
            if cut:
                request.recv(4096)
                return
            with self.context.wrap_socket(request, server_side=True) as tls:
                super().finish_request(tls, client_address)
        except OSError:  # the client gave up on the handshake (an untrusted certificate): nothing to serve
            pass

    @property
    def port(self) -> int:
        return self.server_address[1]

    def stop(self) -> None:
        self.shutdown()
        self.server_close()


def tls_api(tmp: Path) -> tuple[ApiServer, Path]:
    """An HTTPS API on 127.0.0.1 with a certificate for localhost, and the PEM file of its CA."""
    ca = trustme.CA(organization_name="Preflight Test Corp")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ca.issue_cert("localhost", "127.0.0.1").configure_cert(context)
    pem = tmp / "test-ca.pem"
    ca.cert_pem.write_to_path(str(pem))
    return ApiServer(context), pem


class ConnectProxy:
    """A real HTTP CONNECT proxy on 127.0.0.1 that counts the tunnels it opens."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(0.2)
        self.tunnels: list[str] = []
        self.running = True
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.listener.getsockname()[1]}"

    def _serve(self) -> None:
        while self.running:
            try:
                client, _ = self.listener.accept()
            except (TimeoutError, OSError):
                continue
            threading.Thread(target=self._tunnel, args=(client,), daemon=True).start()

    def _tunnel(self, client: socket.socket) -> None:
        with client:
            client.settimeout(10)
            request = b""
            while b"\r\n\r\n" not in request and len(request) < 8192:
                chunk = client.recv(4096)
                if not chunk:
                    return
                request += chunk
            target = request.split(b" ")[1].decode()
            self.tunnels.append(target)
            host, port = target.rsplit(":", 1)
            with socket.create_connection((host, int(port)), timeout=10) as upstream:
                client.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
                deadline = time.monotonic() + 30
                while time.monotonic() < deadline:
                    ready, _, _ = select.select([client, upstream], [], [], 0.5)
                    for source in ready:
                        data = source.recv(65536)
                        if not data:
                            return
                        (upstream if source is client else client).sendall(data)

    def stop(self) -> None:
        self.running = False
        self.listener.close()
