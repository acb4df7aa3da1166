"""A stand-in Messages API on 127.0.0.1 for driving the real Claude Code through one tool call: the first turn asks
for one Bash call, every later turn (after a tool_result) answers "done". Streaming and plain requests both work."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def _event(name: str, data: dict) -> bytes:
    return f"event: {name}\ndata: {json.dumps({'type': name, **data})}\n\n".encode()


def _stream(blocks: list[dict], stop: str) -> bytes:
    start = {"id": "msg_preflight", "type": "message", "role": "assistant", "model": "claude-sonnet-4-5",
             "content": [], "stop_reason": None, "stop_sequence": None, "usage": {"input_tokens": 10, "output_tokens": 1}}  # fmt: skip
    out = [_event("message_start", {"message": start})]
    for i, block in enumerate(blocks):
        if block["type"] == "tool_use":
            out.append(_event("content_block_start", {"index": i, "content_block": {**block, "input": {}}}))
            delta = {"type": "input_json_delta", "partial_json": json.dumps(block["input"])}
        else:
            out.append(_event("content_block_start", {"index": i, "content_block": {"type": "text", "text": ""}}))
            delta = {"type": "text_delta", "text": block["text"]}
        out += [_event("content_block_delta", {"index": i, "delta": delta}), _event("content_block_stop", {"index": i})]
    out.append(
        _event("message_delta", {"delta": {"stop_reason": stop, "stop_sequence": None}, "usage": {"output_tokens": 5}})
    )
    out.append(_event("message_stop", {}))
    return b"".join(out)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: ToolCallApi

    def log_message(self, *args) -> None:
        pass

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        body = json.loads(self.rfile.read(int(self.headers.get("content-length", 0))) or b"{}")
        messages = body.get("messages") or []
        last = messages[-1].get("content") if messages else ""
        answered = isinstance(last, list) and any(isinstance(b, dict) and b.get("type") == "tool_result" for b in last)
        if not answered and "Bash" in [t.get("name") for t in body.get("tools") or []]:
            tool = {"type": "tool_use", "id": "toolu_preflight1", "name": "Bash",
                    "input": {"command": self.server.command, "description": "claude-preflight test"}}  # fmt: skip
            blocks, stop = [tool], "tool_use"
        else:
            blocks, stop = [{"type": "text", "text": "done"}], "end_turn"
        if body.get("stream"):
            data, kind = _stream(blocks, stop), "text/event-stream"
        else:
            reply = {"id": "msg_preflight", "type": "message", "role": "assistant", "model": "claude-sonnet-4-5",
                     "content": blocks, "stop_reason": stop, "stop_sequence": None,
                     "usage": {"input_tokens": 10, "output_tokens": 5}}  # fmt: skip
            data, kind = json.dumps(reply).encode(), "application/json"
        self.send_response(200)
        self.send_header("content-type", kind)
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


class ToolCallApi(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, command: str) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.command = command
        threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def stop(self) -> None:
        self.shutdown()
        self.server_close()
