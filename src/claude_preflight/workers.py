"""Work spread over the CPUs: this process does the first share, one fresh Python per other share.

Not multiprocessing: its "spawn" start re-imports the parent's __main__ in every worker, and under pytest or the
console command that is pytest itself (300 ms and 20 MB per worker before any work). A worker here imports only
the module of the function it runs. The function and its arguments travel pickled on stdin, the result on stdout.
Env-level code: probes reach this through Env.map_in_processes.
"""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any, BinaryIO

from claude_preflight import children


def map_in_processes(function: Callable[..., Any], shares: Sequence[tuple], timeout: float | None) -> list[Any]:
    """[function(*share) for share in shares], the first share here and each other one in its own process.

    `timeout` bounds the whole map: a worker not done by then is killed and subprocess.TimeoutExpired raised. The
    workers are the run's children (children.spawn): Ctrl-C and SIGTERM stop them with everything else."""
    deadline = None if timeout is None else time.monotonic() + timeout
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    started = []
    try:
        for share in shares[1:]:
            payload = pickle.dumps((function, share), pickle.HIGHEST_PROTOCOL)  # an unpicklable share raises here
            worker = children.spawn(
                [sys.executable, "-m", "claude_preflight.workers"],
                environment,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
            )
            started.append(worker)
            assert worker.stdin is not None
            # Fed from a thread: a share over the pipe's 64 kB would hold this process until the worker has
            # started and read it (about 0.1 s), and this process's own share is meanwhile to be done.
            threading.Thread(target=_feed, args=(worker.stdin, payload), daemon=True).start()
            worker.stdin = payload = None  # the feeder's now (it lets go of the payload once written)
        results = [function(*shares[0])] if shares else []
        for worker in started:
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            output, _ = worker.communicate(timeout=left)
            if worker.returncode != 0:
                raise RuntimeError(f"worker process exited with {worker.returncode}")
            results.append(pickle.loads(output))
        return results
    finally:
        for worker in started:
            children.done(worker)  # killed and reaped if still running (an error, Ctrl-C)


def _feed(pipe: BinaryIO, payload: bytes) -> None:
    try:
        with pipe:
            pipe.write(payload)
    except OSError:  # the worker is gone (killed at the deadline, or failed): communicate() says so
        pass


def _serve() -> None:
    function, share = pickle.loads(sys.stdin.buffer.read())
    sys.stdout.buffer.write(pickle.dumps(function(*share), pickle.HIGHEST_PROTOCOL))


if __name__ == "__main__":
    _serve()
