"""Work spread over worker processes (workers.map_in_processes): this process's own share is not held by a
worker's start."""

from __future__ import annotations

import builtins
import threading

from claude_preflight import children, workers


def test_a_share_bigger_than_the_pipe_does_not_hold_this_processs_own_share(tmp_path, monkeypatch):
    """The worker reads its share only once this process's own share has run (it waits for the flag that share
    makes). Written from this thread, a share over the pipe's 64 kB blocked until the worker read it: never."""
    flag = tmp_path / "own share ran"
    spawn = children.spawn

    def slow_reader(argv, environ, **popen):
        wait = 'while [ ! -e "$0" ]; do sleep 0.01; done; exec "$@"'
        return spawn(["sh", "-c", wait, str(flag), *argv], environ, **popen)

    monkeypatch.setattr(children, "spawn", slow_reader)
    big = "x = 1  # " + "padding " * 20_000  # 160 kB pickled
    outcome: list[object] = []

    def run() -> None:
        shares = [(f"open({str(flag)!r}, 'w').close()", {}), (big, {})]
        outcome.append(workers.map_in_processes(builtins.exec, shares, 60))

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(30)
    if thread.is_alive():
        children.stop_all()  # end the stuck worker so the run can go on
        children.reset()
    assert outcome == [[None, None]]
