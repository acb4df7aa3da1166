"""Work shared with worker processes (workers.Sharing): tasks handed out as each process gets free, this process's
own tasks never held by a worker's start, the workers the run's children."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading
import time

import pytest

from claude_preflight import children, workers

# Imported by the workers from the folder the test puts on sys.path (they inherit it): not a test module,
# which would import pytest into them.
HELPERS = """
import os, pathlib, sys, time

def meet(folder, count, name):
    '''Wait until `count` tasks have started: run in as many processes at once, or not at all.'''
    pathlib.Path(folder, name).touch()
    deadline = time.monotonic() + 30
    while len(list(pathlib.Path(folder).glob("met-*"))) < count and time.monotonic() < deadline:
        time.sleep(0.01)
    return os.getpid(), sorted(m for m in sys.modules if m.split(".")[0] in ("pytest", "_pytest"))

def touch(padding, path):
    pathlib.Path(path).touch()
    return os.getpid()

def nap(seconds):
    time.sleep(seconds)
    return os.getpid()

def note(folder, seconds):
    time.sleep(seconds)
    pathlib.Path(folder, str(os.getpid())).touch()
"""


@pytest.fixture
def helpers(tmp_path, monkeypatch):
    folder = tmp_path / "helpers"
    folder.mkdir()
    (folder / "sharing_helpers.py").write_text(textwrap.dedent(HELPERS))
    monkeypatch.syspath_prepend(str(folder))
    children.reset()
    import sharing_helpers

    yield sharing_helpers
    sys.modules.pop("sharing_helpers", None)
    children.stop_all()
    children.reset()


def _given_out(sharing: workers.Sharing, count: int) -> None:
    """Wait until `count` tasks have been taken (by the workers: this process has not started on its own)."""
    deadline = time.monotonic() + 30
    while sharing.queue._next < count and time.monotonic() < deadline:
        time.sleep(0.01)
    assert sharing.queue._next >= count


def test_a_worker_takes_tasks_and_imports_no_pytest(helpers, tmp_path):
    """Two tasks that each wait for the other to start: done only if a worker took one while this process took
    the other. The worker imported the function's module, not pytest."""
    done = workers.Sharing(helpers.meet, (str(tmp_path), 2), ["met-a", "met-b"], 2, 60).finish()
    pids = {pid for pid, _ in done}
    assert len(pids) == 2 and os.getpid() in pids
    [(_, worker_imports)] = [(pid, imports) for pid, imports in done if pid != os.getpid()]
    assert worker_imports == []


def test_the_results_come_back_in_task_order_whoever_ran_them(helpers):
    tasks = [0.2, 0, 0, 0.1, 0, 0, 0, 0.05]
    sharing = workers.Sharing(helpers.nap, (), tasks, 3, 60)
    done = sharing.finish()
    assert len(done) == len(tasks) and all(isinstance(pid, int) for pid in done)
    assert not children._live  # the workers exited and were reaped


def test_a_payload_bigger_than_the_pipe_does_not_hold_this_processs_own_tasks(helpers, tmp_path, monkeypatch):
    """The worker reads its payload only once this process has run a task (it waits for the flag that task
    makes). Written from this thread, a payload over the pipe's 64 kB blocked until the worker read it: never.
    This process takes every task meanwhile; the worker, once it reads, finds none left."""
    flag = tmp_path / "own task ran"
    spawn = children.spawn

    def slow_reader(argv, environ, **popen):
        wait = 'while [ ! -e "$0" ]; do sleep 0.01; done; exec "$@"'
        return spawn(["sh", "-c", wait, str(flag), *argv], environ, **popen)

    monkeypatch.setattr(children, "spawn", slow_reader)
    padding = "padding " * 20_000  # 160 kB pickled
    outcome: list[object] = []

    def run() -> None:
        tasks = [str(flag), str(tmp_path / "second")]
        outcome.append(workers.Sharing(helpers.touch, (padding,), tasks, 2, 60).finish())

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(30)
    if thread.is_alive():
        children.stop_all()  # end the stuck worker so the run can go on
    assert outcome == [[os.getpid(), os.getpid()]]


def test_workers_are_the_runs_children_and_stop_with_it(helpers, tmp_path):
    """Ctrl-C or SIGTERM (children.stop_all) ends the workers too; this process then takes no more tasks and
    says the run was stopped."""
    sharing = workers.Sharing(helpers.note, (str(tmp_path),), [60, 60, 0], 2, None)
    _given_out(sharing, 2)  # the worker has one task and the next at hand
    [pid] = list(children._live)
    children.stop_all()
    with pytest.raises(RuntimeError):
        sharing.finish()
    assert not (tmp_path / str(os.getpid())).exists()  # the last task was not taken here
    assert not os.path.exists(f"/proc/{pid}") or not sys.platform.startswith("linux")  # killed and reaped


def test_workers_end_at_the_timeout(helpers):
    sharing = workers.Sharing(helpers.nap, (), [60, 0], 2, 0.5)
    _given_out(sharing, 2)  # the worker took both: this process waits for it
    with pytest.raises(subprocess.TimeoutExpired):
        sharing.finish()
    assert not children._live  # the worker was killed and reaped


def test_a_cancelled_sharing_ends_its_workers(helpers):
    """A scan begun before pytest collected the checks, when none of them wants it (`-k memory`)."""
    sharing = workers.Sharing(helpers.nap, (), [60, 60], 2, None)
    _given_out(sharing, 1)
    sharing.cancel()
    assert not children._live
