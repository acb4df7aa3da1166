"""A small stdio MCP server for the tests. Behaviour by argument:

  ok [N]        answers initialize and tools/list with N tools (default 3)
  exit          writes to stderr and exits 3 at once
  stdout-logs   prints a log line on stdout before answering
  silent        reads stdin and never answers
  error         answers initialize with a JSON-RPC error
  sleepy [N]    like ok after sleeping 1 s first (a start that waits, e.g. on the network)
  daemon        double-forks a setsid daemon (which reports its pid too and sleeps), then answers like ok
  close-stdout  closes its stdout without a word and keeps running

Every run writes its pid to $TINY_PID_DIR (when set) so the tests can prove no process outlives a check,
and touches $TINY_MARKER (when set) so a test can prove a server was never started.
"""

import json
import os
import sys

if os.environ.get("TINY_PID_DIR"):
    with open(os.path.join(os.environ["TINY_PID_DIR"], f"{os.getpid()}.pid"), "w") as handle:
        handle.write(str(os.getpid()))
if os.environ.get("TINY_MARKER"):
    open(os.environ["TINY_MARKER"], "w").close()

mode = sys.argv[1] if len(sys.argv) > 1 else "ok"
count = int(sys.argv[2]) if len(sys.argv) > 2 else 3
if mode == "exit":
    sys.stderr.write("tiny: cannot connect to the database at localhost:5432\n")
    sys.exit(3)
if mode == "sleepy":
    import time

    time.sleep(1)
if mode == "daemon":
    middle = os.fork()
    if middle == 0:
        os.setsid()  # leaves our process group: killing the group no longer reaches it
        ready_r, ready_w = os.pipe()
        if os.fork() == 0:
            os.close(ready_r)
            pid_dir = os.environ.get("TINY_PID_DIR")
            if pid_dir:
                with open(os.path.join(pid_dir, f"{os.getpid()}.pid"), "w") as handle:
                    handle.write(str(os.getpid()))
            os.close(ready_w)
            os.execv(sys.executable, [sys.executable, "-c", "import time; time.sleep(3600)"])
        os.close(ready_w)
        os.read(ready_r, 1)  # the daemon has reported its pid
        os._exit(0)
    os.waitpid(middle, 0)  # answer only once the daemon is out there
if mode == "close-stdout":
    import time

    os.close(1)
    time.sleep(3600)
if mode == "stdout-logs":
    print("INFO tiny server starting", flush=True)


def reply(message: dict) -> None:
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


for line in sys.stdin:
    request = json.loads(line)
    if mode == "silent" or "id" not in request:
        continue
    if request["method"] == "initialize":
        if mode == "error":
            reply({"jsonrpc": "2.0", "id": request["id"], "error": {"code": -32603, "message": "tiny: not configured"}})
            continue
        reply(
            {
                "jsonrpc": "2.0",
                "id": request["id"],
                "result": {
                    "protocolVersion": "2025-06-18",
                    "capabilities": {"tools": {}},
                    "serverInfo": {"name": "tiny", "version": "1.0"},
                },
            }
        )
    elif request["method"] == "tools/list":
        tools = [
            {
                "name": f"tool_{n}",
                "description": "Does a thing. " * 20,
                "inputSchema": {"type": "object", "properties": {"x": {"type": "string"}}},
            }
            for n in range(count)
        ]
        reply({"jsonrpc": "2.0", "id": request["id"], "result": {"tools": tools}})
