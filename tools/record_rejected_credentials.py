"""Record what Claude Code does when the API rejects a credential it sends.

A server on 127.0.0.1 answers every request 401; each case runs `claude -p hello` in a new home with the default
retries (about 3 minutes; the cases run at once). Prints one JSON line a case, as in
tests/fixtures/real-claude/credentials/rejected.jsonl:

    python3 tools/record_rejected_credentials.py node_modules/.bin/claude > rejected.jsonl
"""

from __future__ import annotations

import http.server
import json
import subprocess
import sys
import tempfile
import threading
import time

CASES = [
    ("ANTHROPIC_API_KEY in quotes", {"ANTHROPIC_API_KEY": '"sk-ant-api03-fake-key-AAAA"'}),
    ("ANTHROPIC_AUTH_TOKEN in quotes", {"ANTHROPIC_AUTH_TOKEN": '"gateway-token-AAAA"'}),
    ("CLAUDE_CODE_OAUTH_TOKEN in quotes", {"CLAUDE_CODE_OAUTH_TOKEN": '"sk-ant-oat01-fake-token-AAAA"'}),
]
REJECTION = json.dumps({"type": "error", "error": {"type": "authentication_error", "message": "invalid credentials"}})


def rejecting_server(seen: list[float]) -> http.server.ThreadingHTTPServer:
    class Reject(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("content-length") or 0))
            seen.append(time.monotonic())
            body = REJECTION.encode()
            self.send_response(401)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST

        def log_message(self, *args) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Reject)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def record(cli: str, case: str, env: dict[str, str]) -> dict:
    seen: list[float] = []
    server = rejecting_server(seen)
    base = f"http://127.0.0.1:{server.server_port}"
    start = time.monotonic()
    with tempfile.TemporaryDirectory() as home:
        environ = {"PATH": "/usr/bin:/bin", "HOME": home, "ANTHROPIC_BASE_URL": base, **env}
        run = subprocess.run([cli, "-p", "hello"], capture_output=True, text=True, timeout=400, env=environ)
    server.shutdown()
    printed = (run.stdout + run.stderr).strip()
    return {"case": case, "env": env, "exit": run.returncode, "printed": printed, "requests": len(seen),
            "seconds": round(time.monotonic() - start, 1)}  # fmt: skip


def main() -> None:
    cli = sys.argv[1] if len(sys.argv) > 1 else "claude"
    rows: dict[str, dict] = {}
    threads = [
        threading.Thread(target=lambda c=case, e=env: rows.__setitem__(c, record(cli, c, e))) for case, env in CASES
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for case, _ in CASES:
        print(json.dumps(rows[case], ensure_ascii=False))


if __name__ == "__main__":
    main()
