"""A small HTTP(S) client that times each phase: DNS, TCP connect, proxy CONNECT, TLS, first byte.

Env-level: probes reach it through `Env.exchange`, so a test can swap the network like any other OS access.

Standard library only: requests hides the phases, and it honours some CA variables and not others.
Every socket operation has a timeout; a failure names the phase it happened in.
"""

from __future__ import annotations

import base64
import ipaddress
import os
import tempfile
import threading
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from claude_preflight.records import dataclass, field

if TYPE_CHECKING:
    import http.client
    import socket
    import ssl

# ssl, socket and http.client are imported where a server is talked to: loading ssl and http.client costs a run
# 8 MB of memory and 6 ms, and an offline run (the SessionStart hook among them) never talks to one.

BODY_LIMIT = 64 * 1024


@dataclass
class Exchange:
    """What one request found out. `error_phase` is set when it failed before a full answer."""

    url: str
    via_proxy: str | None = None
    phases: dict[str, float] = field(default_factory=dict)  # phase -> seconds
    status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    events: list[tuple[float, str]] = field(default_factory=list)  # (seconds since start, SSE event name)
    error_phase: str | None = None
    error: str | None = None
    untrusted: bool = False  # the TLS handshake failed on the server's certificate (not a cut or a timeout)
    issuer: str | None = None  # of an untrusted server certificate

    @property
    def first_byte_s(self) -> float | None:
        return self.phases.get("first byte")

    @property
    def ok(self) -> bool:
        return self.error_phase is None and self.status is not None


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def proxy_for(url: str, environ: Mapping[str, str]) -> str | None:
    """The proxy Claude Code would use for this URL: HTTPS_PROXY/https_proxy unless NO_PROXY matches."""
    parts = urlsplit(url)
    names = ("HTTPS_PROXY", "https_proxy") if parts.scheme == "https" else ("HTTP_PROXY", "http_proxy")
    proxy = next((environ[n] for n in names if environ.get(n)), None)
    if not proxy:
        return None
    host = (parts.hostname or "").lower()
    for entry in (environ.get("NO_PROXY") or environ.get("no_proxy") or "").split(","):
        entry = entry.strip().lower().split(":")[0]
        if not entry:
            continue
        if entry == "*" or host == entry.lstrip(".") or host.endswith("." + entry.lstrip(".").lstrip("*.")):
            return None
    return proxy


def _issuer(der: bytes | None) -> str | None:
    """The issuer of an (unverified) certificate, in words; None when it cannot be decoded."""
    if not der:
        return None
    import ssl

    try:
        with tempfile.NamedTemporaryFile("w", suffix=".pem", delete=False) as handle:
            handle.write(ssl.DER_cert_to_PEM_cert(der))
        decoded = ssl._ssl._test_decode_cert(handle.name)  # the only stdlib way to read an unverified cert
        return ", ".join(f"{k}={v}" for rdn in decoded.get("issuer", ()) for k, v in rdn)
    except Exception:  # noqa: BLE001 - naming the issuer is a courtesy
        return None
    finally:
        try:
            os.unlink(handle.name)
        except (OSError, UnboundLocalError):
            pass


def tls_context(extra_ca: str | None) -> ssl.SSLContext:
    """System trust plus NODE_EXTRA_CA_CERTS, as Claude Code adds it to its own store."""
    import ssl

    context = ssl.create_default_context()
    if extra_ca:
        context.load_verify_locations(cafile=extra_ca)
    return context


def _fetch_unverified_cert(sock_factory, host: str) -> bytes | None:
    import ssl

    try:
        context = ssl._create_unverified_context()
        with context.wrap_socket(sock_factory(), server_hostname=host) as tls:
            return tls.getpeercert(binary_form=True)
    except Exception:  # noqa: BLE001
        return None


class _Phase(Exception):
    def __init__(self, phase: str, error: BaseException | str) -> None:
        super().__init__(str(error))
        self.phase = phase


def _describe(exc: BaseException) -> str:
    import socket
    import ssl

    if isinstance(exc, socket.timeout | TimeoutError):
        return "timed out"
    if isinstance(exc, ssl.SSLCertVerificationError):
        return f"certificate verify failed: {exc.verify_message}"
    return str(exc) or type(exc).__name__


def _connect(host: str, port: int, timeout: float, x: Exchange, label: str) -> socket.socket:
    import socket

    start = time.perf_counter()
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise _Phase(f"dns{label}", exc) from exc
    x.phases[f"dns{label}"] = time.perf_counter() - start
    start = time.perf_counter()
    last: BaseException | None = None
    for family, kind, proto, _, address in infos:
        sock = socket.socket(family, kind, proto)
        sock.settimeout(timeout)
        try:
            sock.connect(address)
            x.phases[f"connect{label}"] = time.perf_counter() - start
            return sock
        except OSError as exc:
            last = exc
            sock.close()
    raise _Phase(f"connect{label}", last or "no address")


def _tunnel(sock: socket.socket, host: str, port: int, proxy_url: str, x: Exchange) -> None:
    parts = urlsplit(proxy_url)
    lines = [f"CONNECT {host}:{port} HTTP/1.1", f"Host: {host}:{port}"]
    if parts.username:
        token = base64.b64encode(f"{parts.username}:{parts.password or ''}".encode()).decode()
        lines.append(f"Proxy-Authorization: Basic {token}")
    start = time.perf_counter()
    try:
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        answer = b""
        while b"\r\n\r\n" not in answer and len(answer) < 16384:
            chunk = sock.recv(4096)
            if not chunk:
                break
            answer += chunk
    except OSError as exc:
        raise _Phase("proxy", exc) from exc
    status_line = answer.split(b"\r\n", 1)[0].decode("latin-1")
    if len(status_line.split()) < 2 or status_line.split()[1] != "200":
        raise _Phase("proxy", f"the proxy refused the tunnel: {status_line or 'no answer'}")
    x.phases["proxy"] = time.perf_counter() - start


def exchange(
    url: str,
    *,
    environ: Mapping[str, str],
    timeout: float,
    method: str = "GET",
    headers: Mapping[str, str] | None = None,
    body: bytes | None = None,
    extra_ca: str | None = None,
    stream_events: bool = False,
    read_body: bool = True,
    first_data: bool = False,
    deadline_s: float | None = None,
) -> Exchange:
    """One request with every phase timed; never raises for network trouble or odd input (it is in the result).

    `timeout` bounds each phase; `deadline_s` (default: twice `timeout`) bounds the whole exchange, so a server
    that trickles a byte a second cannot keep it going: at the deadline the socket is shut down.
    """
    import http.client
    import ssl

    parts = urlsplit(url)
    x = Exchange(url)
    try:
        host, https = parts.hostname or "", parts.scheme == "https"
        port = parts.port or (443 if https else 80)
        proxy = proxy_for(url, environ)
    except ValueError as exc:  # a port out of range, a malformed proxy URL
        x.error_phase, x.error = "url", str(exc)
        return x
    x.via_proxy = proxy
    begin = time.perf_counter()
    sock = None
    watchdog = _Watchdog(deadline_s if deadline_s is not None else 2 * timeout)
    try:
        if proxy:
            p = urlsplit(proxy)
            sock = watchdog.watch(_connect(p.hostname or "", p.port or 8080, timeout, x, " (proxy)"))
            if https:
                _tunnel(sock, host, port, proxy, x)
        else:
            sock = watchdog.watch(_connect(host, port, timeout, x, ""))
        path = parts.path or "/"
        if parts.query:
            path += "?" + parts.query
        if https:
            start = time.perf_counter()
            try:
                sock = watchdog.watch(tls_context(extra_ca).wrap_socket(sock, server_hostname=host))
            except ssl.SSLCertVerificationError as exc:
                x.untrusted = True
                x.issuer = _issuer(_fetch_unverified_cert(lambda: _reconnect(url, environ, timeout), host))
                raise _Phase("tls", exc) from exc
            except (OSError, ssl.SSLError) as exc:
                raise _Phase("tls", exc) from exc
            x.phases["tls"] = time.perf_counter() - start
        elif proxy:
            path = url  # plain HTTP through a proxy: absolute-form request target
        conn = http.client.HTTPConnection(host, port, timeout=timeout)
        conn.sock = sock
        start = time.perf_counter()
        try:
            conn.request(method, path, body=body, headers=dict(headers or {}))
            response = conn.getresponse()
        except (OSError, http.client.HTTPException) as exc:
            raise _Phase("first byte", exc) from exc
        except ValueError:  # a header value with CR/LF or a character that cannot be sent
            raise _Phase(
                "request", "a header cannot be sent as written (a line break or a non-Latin-1 character)"
            ) from None
        x.phases["first byte"] = time.perf_counter() - start
        x.status = response.status
        x.headers = {k.lower(): v for k, v in response.getheaders()}
        try:
            if stream_events:
                _read_events(response, x, begin)
            elif first_data and x.headers.get("content-type", "").startswith("text/event-stream"):
                x.body = _first_data(response)  # an MCP server answers a POST with one event, then may linger
            elif not read_body or x.headers.get("content-type", "").startswith("text/event-stream"):
                pass  # the status and headers answer the question; an event stream may never end
            else:
                x.body = response.read(BODY_LIMIT)
                expected = response.getheader("content-length")
                if expected and expected.isdigit() and len(x.body) < min(int(expected), BODY_LIMIT):
                    raise OSError(f"the connection closed after {len(x.body)} of {expected} bytes")
        except (OSError, http.client.HTTPException) as exc:
            raise _Phase("body", exc) from exc
        if watchdog.fired:  # the shut-down socket can read as a short but complete answer
            raise _Phase("body" if "first byte" in x.phases else "first byte", "cut at the deadline")
        x.phases["total"] = time.perf_counter() - begin
    except _Phase as exc:
        x.error_phase = exc.phase
        x.error = _describe(exc.__cause__) if exc.__cause__ else str(exc)
        if watchdog.fired:
            x.error = f"no complete answer within {watchdog.seconds:g} s (the exchange's overall deadline)"
    except ValueError as exc:  # odd input anywhere else (an IDNA host name that cannot be encoded, ...)
        x.error_phase, x.error = x.error_phase or "request", str(exc)[:200]
    finally:
        watchdog.cancel()
        if sock is not None:
            sock.close()
    return x


class _Watchdog:
    """Shuts the exchange's socket down at its overall deadline, whatever phase it is in."""

    def __init__(self, seconds: float) -> None:
        self.seconds, self.fired = seconds, False
        self._sock: socket.socket | None = None
        self._lock = threading.Lock()
        self._timer = threading.Timer(seconds, self._fire)
        self._timer.daemon = True
        self._timer.start()

    def watch(self, sock: socket.socket) -> socket.socket:
        with self._lock:
            self._sock = sock
            if self.fired:
                self._shut(sock)
        return sock

    def _fire(self) -> None:
        with self._lock:
            self.fired = True
            if self._sock is not None:
                self._shut(self._sock)

    @staticmethod
    def _shut(sock: socket.socket) -> None:
        import socket

        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def cancel(self) -> None:
        self._timer.cancel()


def _reconnect(url: str, environ: Mapping[str, str], timeout: float) -> socket.socket:
    """A fresh (tunnelled) TCP connection to the server, for reading its certificate unverified."""
    parts = urlsplit(url)
    port = parts.port or 443
    scratch = Exchange(url)
    proxy = proxy_for(url, environ)
    if proxy:
        p = urlsplit(proxy)
        sock = _connect(p.hostname or "", p.port or 8080, timeout, scratch, " (proxy)")
        _tunnel(sock, parts.hostname or "", port, proxy, scratch)
        return sock
    return _connect(parts.hostname or "", port, timeout, scratch, "")


def _first_data(response: http.client.HTTPResponse) -> bytes:
    """The `data:` of the first event of a server-sent event stream (what an MCP server answers a request with)."""
    data: list[bytes] = []
    total = 0
    while total < BODY_LIMIT:
        line = response.readline(65536)
        if not line:
            break
        total += len(line)
        text = line.rstrip(b"\r\n")
        if text.startswith(b"data:"):
            data.append(text[5:].lstrip())
        elif not text and data:
            break  # the blank line that ends the event
    return b"\n".join(data)


def _read_events(response: http.client.HTTPResponse, x: Exchange, begin: float) -> None:
    """Read a server-sent event stream, noting when each event arrived; stop at message_stop."""
    event = None
    while True:
        line = response.readline(65536)
        if not line:
            if not x.events or x.events[-1][1] != "message_stop":
                raise OSError(f"the stream ended after {len(x.events)} event(s) without message_stop")
            return
        text = line.decode("utf-8", "replace").strip()
        if text.startswith("event:"):
            event = text[6:].strip()
        elif text.startswith("data:") and event:
            x.events.append((time.perf_counter() - begin, event))
            if event == "error":
                x.body += text[5:].strip().encode()
            if event in ("message_stop", "error"):
                return
            event = None


def certificate_subject(pem: str) -> str | None:
    """A PEM certificate's subject in the words an issuer is given (key=value, ...): decoded in memory."""
    import ssl

    try:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.load_verify_locations(cadata=pem)
        decoded = context.get_ca_certs()
    except (ssl.SSLError, ValueError):
        return None
    if not decoded:
        return None
    return ", ".join(f"{k}={v}" for rdn in decoded[0].get("subject", ()) for k, v in rdn)
