"""Work spread over the CPUs: this process and fresh Python workers take tasks from one queue as each gets free.

Not multiprocessing: its "spawn" start re-imports the parent's __main__ in every worker, and under pytest or the
console command that is pytest itself (300 ms and 20 MB per worker before any work). A worker here imports only
the module of the function it runs. The function and what every task shares travel pickled on stdin, once; then
the number of each task it is given, a line each, and the results, pickled on stdout at the end.

Tasks are handed out as workers ask, not split up front: a worker starts 0.1 s after this process starts its
own (Python's start and its imports, longer on a busy machine), and a split up front has to guess by how much.
Env-level code: probes reach this through Env.share_out.
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

READY = b"\n"  # a worker's request for its next task: written when it starts one, so the next is at hand


class Sharing:
    """[function(*common, task) for task in tasks], taken in order by this process and `processes - 1` workers.

    Made, the workers start on the tasks; finish() has this process take the ones left and returns every
    result. Give the costly tasks first: the last ones taken then end close together. `timeout` bounds the
    whole: a worker not done by then is killed and subprocess.TimeoutExpired raised. The workers are the run's
    children (children.spawn): Ctrl-C and SIGTERM stop them with everything else, and this process takes no
    more. cancel() ends a sharing whose results are not wanted."""

    def __init__(
        self, function: Callable[..., Any], common: tuple, tasks: Sequence, processes: int, timeout: float | None
    ) -> None:
        self.function, self.common, self.tasks = function, common, tasks
        self.deadline = None if timeout is None else time.monotonic() + timeout
        self.queue = _Queue(len(tasks))
        self.results: list[Any] = [None] * len(tasks)
        self.helpers: list[_Helper] = []
        if len(tasks) > 1 and processes > 1:
            # Pickled once for every worker (unpicklable: raises here); each helper lets go of it once written.
            payload = pickle.dumps((function, common, tasks), pickle.HIGHEST_PROTOCOL)
            try:
                for _ in range(min(processes, len(tasks)) - 1):
                    self.helpers.append(_Helper(payload, self.queue, self.results))
            except BaseException:
                self.cancel()
                raise

    def finish(self) -> list[Any]:
        try:
            while (index := self.queue.take()) is not None:
                self.results[index] = self.function(*self.common, self.tasks[index])
            for helper in self.helpers:
                helper.join(self.deadline)
            if children.cancelled.is_set():
                raise RuntimeError("the run was stopped")
            return self.results
        finally:
            self.cancel()

    def cancel(self) -> None:
        """End the workers (killed and reaped if still running: an error, Ctrl-C, results not wanted)."""
        self.queue.close()
        for helper in self.helpers:
            children.done(helper.worker)


class _Queue:
    """The next task's number, for whoever asks first; none once the run is stopping."""

    def __init__(self, count: int) -> None:
        self._count, self._next, self._lock = count, 0, threading.Lock()

    def take(self) -> int | None:
        with self._lock:
            if self._next >= self._count or children.cancelled.is_set():
                return None
            self._next += 1
            return self._next - 1

    def close(self) -> None:
        """No task is given out any more."""
        with self._lock:
            self._next = self._count


class _Helper:
    """One worker process and the thread here that feeds it tasks and takes its results."""

    def __init__(self, payload: bytes, queue: _Queue, results: list) -> None:
        environment = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
        self.worker = children.spawn(
            [sys.executable, "-m", "claude_preflight.workers"],
            environment,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )
        self.problem: str | None = None
        self._payload = payload
        # From a thread: a payload over the pipe's 64 kB would hold this process until the worker has started and
        # read it (0.1 s), and meanwhile this process is to work on its own tasks.
        self.thread = threading.Thread(target=self._tend, args=(queue, results), daemon=True)
        self.thread.start()

    def _tend(self, queue: _Queue, results: list) -> None:
        stdin, stdout = self.worker.stdin, self.worker.stdout
        assert stdin is not None and stdout is not None
        given: list[int] = []
        try:
            with stdin:
                payload, self._payload = self._payload, b""
                stdin.write(len(payload).to_bytes(8, "little"))
                stdin.write(payload)
                del payload  # 2.5 MB at 100k sessions: not held while the tasks run
                while _give(stdin, queue, given) and stdout.read(1) == READY:
                    pass
            done = pickle.loads(stdout.read())
            for index in given:
                results[index] = done[index]
        except (OSError, EOFError, pickle.UnpicklingError, KeyError, ValueError):
            self.problem = f"worker process exited with {self.worker.wait()}"  # killed, or its task raised

    def join(self, deadline: float | None) -> None:
        self.thread.join(None if deadline is None else max(0.0, deadline - time.monotonic()))
        if self.thread.is_alive():
            raise subprocess.TimeoutExpired(self.worker.args, 0)
        if self.problem:
            raise RuntimeError(self.problem)


def _give(pipe: BinaryIO, queue: _Queue, given: list[int]) -> bool:
    """Send the worker its next task; False (and nothing sent) when none is left."""
    index = queue.take()
    if index is None:
        return False
    given.append(index)
    pipe.write(b"%d\n" % index)
    pipe.flush()
    return True


def _serve() -> None:
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    function, common, tasks = pickle.loads(stdin.read(int.from_bytes(stdin.read(8), "little")))
    done = {}
    while line := stdin.readline():
        stdout.write(READY)
        stdout.flush()
        index = int(line)
        done[index] = function(*common, tasks[index])
    stdout.write(pickle.dumps(done, pickle.HIGHEST_PROTOCOL))
    stdout.flush()


if __name__ == "__main__":
    _serve()
    os._exit(0)  # the results are out: the interpreter's clean-up (tens of ms) would only delay the run
