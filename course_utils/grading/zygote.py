"""A warm interpreter that forks one reference run per student id: instructor code only.

The reference solution's runs (judge mode) never execute a student's code, so they need no
fresh process of their own: a zygote, started once per grading worker in a sandbox of its own
(its own slot uid, private folder and limits), imports what the runner needs (IPython, NumPy,
SymPy, matplotlib, course_utils) once and forks a child per run, which starts at the first cell
instead of paying the ~2 s of interpreter start and imports. Student runs never come here:
each of them still gets a new sandbox and a new interpreter (``grading.execute``).

    zygote = Zygote(sandbox_kwargs, env)          # grader side; starts the sandboxed zygote
    execution = zygote.run(cells, student, cell_timeout, max_deaths, run_seconds)
    zygote.close()

    python -m course_utils.grading.zygote          # inside the sandbox; $COURSE_ZYGOTE_FD: control socket

Protocol on the control socket (SOCK_SEQPACKET, one JSON message each way per request):
``{"run": folder, "student": id}`` plus two fds (result channel, raw output) -> ``{"pid": n}``;
``{"kill": pid}`` -> ``{}``; ``{"status": pid}`` -> ``{"code": exit status or null}``.
"""

import contextlib
import itertools
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

from ..protocol import MODE_VARIABLE, RESULT_FD_VARIABLE, STUDENT_VARIABLE

CONTROL_VARIABLE = "COURSE_ZYGOTE_FD"  # the control socket's fd number inside
READY_TIMEOUT = 120.0  # seconds for the zygote's interpreter and imports
REPLY_TIMEOUT = 10.0
FOLDER = re.compile(r"run-[0-9]{1,9}")


class ZygoteError(RuntimeError):
    """The zygote is gone or answered nonsense: the caller falls back to a fresh process."""


# ---------------------------------------------------------------- inside the sandbox


def _exit_status(status):
    """waitpid status -> the code bwrap would report (N, or 128 + signal)."""
    return os.WEXITSTATUS(status) if os.WIFEXITED(status) else 128 + os.WTERMSIG(status)


def _child(request, fds, control):
    """In the forked child: become the runner of the plan in ``request['run']``; never returns."""
    try:
        control.close()
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        result_fd, raw_fd = fds
        os.dup2(raw_fd, 1)
        os.dup2(raw_fd, 2)
        os.close(raw_fd)
        os.environ.update({STUDENT_VARIABLE: request["student"], MODE_VARIABLE: "judge"})
        os.environ[RESULT_FD_VARIABLE] = str(result_fd)
        os.chdir(request["run"])
        from . import runner

        runner.main(["plan.json"])
    finally:
        os._exit(70)


def _serve(control):
    """Answer requests until the grader closes the socket."""
    statuses = {}

    def reap(*_):
        with contextlib.suppress(ChildProcessError):
            while (found := os.waitpid(-1, os.WNOHANG))[0]:
                statuses[found[0]] = _exit_status(found[1])

    signal.signal(signal.SIGCHLD, reap)
    while True:
        message, fds, _, _ = socket.recv_fds(control, 4096, 2)
        if not message:
            return
        request, reply = json.loads(message), {}
        if "run" in request and FOLDER.fullmatch(request["run"]) and len(fds) == 2:
            pid = os.fork()
            if pid == 0:
                _child(request, fds, control)
            reply = {"pid": pid}
        elif "kill" in request:
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(request["kill"]), signal.SIGKILL)
        elif "status" in request:
            reap()
            reply = {"code": statuses.get(int(request["status"]))}
        for fd in fds:
            os.close(fd)
        control.send(json.dumps(reply).encode())


def main():
    """Import what the runner imports, say ``ready`` on stdout, then serve (see module docstring)."""
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    import matplotlib.font_manager  # noqa: F401 (builds the font cache once, for every child)
    import matplotlib.pyplot  # noqa: F401
    import numpy.testing  # noqa: F401
    import sympy  # noqa: F401
    from IPython.core.interactiveshell import InteractiveShell  # noqa: F401

    from course_utils import blas, checks, explorer, gradcheck, numerics, training, variants  # noqa: F401

    from . import guard, runner  # noqa: F401

    control = socket.socket(fileno=int(os.environ.pop(CONTROL_VARIABLE)))
    print("ready", flush=True)
    _serve(control)
    os._exit(0)


# ---------------------------------------------------------------- the grader's side


class _Forked:
    """A forked runner seen through the zygote, with what ``execute`` needs of a Popen."""

    def __init__(self, zygote, pid, raw_read):
        self.zygote, self.pid, self.stdout = zygote, pid, os.fdopen(raw_read, "rb")
        self.returncode = None

    def poll(self):
        if self.returncode is None:
            self.returncode = self.zygote.ask({"status": self.pid}).get("code")
        return self.returncode

    def wait(self, timeout=None):
        deadline = time.monotonic() + (timeout if timeout is not None else 1e9)
        while self.poll() is None:
            if time.monotonic() > deadline:
                raise subprocess.TimeoutExpired(f"zygote child {self.pid}", timeout)
            time.sleep(0.02)
        return self.returncode

    def stop(self):
        """Kill the child (and wait for its status)."""
        if self.poll() is None:
            self.zygote.ask({"kill": self.pid})
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.wait(5.0)


class Zygote:
    """The sandboxed zygote of one grading worker (see module docstring)."""

    def __init__(self, sandbox, env, private_dir):
        """sandbox: ``sandbox_command`` keyword arguments (its own slot); env: the runs' environment
        without the student id and mode; private_dir: an empty folder the zygote owns for its life."""
        from .sandbox import sandbox_command

        self.sandbox, self.env, self.folder, self.numbers = sandbox, env, Path(private_dir), itertools.count(1)
        self.lock = threading.Lock()
        mine, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        argv = [sys.executable, "-m", "course_utils.grading.zygote"]
        command = sandbox_command(argv, private_dir, {**env, CONTROL_VARIABLE: str(theirs.fileno())}, **sandbox)
        try:
            self.process = subprocess.Popen(
                command,
                cwd=private_dir,
                pass_fds=(theirs.fileno(),),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        finally:
            theirs.close()
        self.control = mine
        self.control.settimeout(REPLY_TIMEOUT)
        self._wait_ready()

    def _wait_ready(self):
        lines = []
        reader = threading.Thread(target=lambda: lines.append(self.process.stdout.readline()), daemon=True)
        reader.start()
        reader.join(READY_TIMEOUT)
        if not lines or lines[0].strip() != b"ready":
            self.close()
            raise ZygoteError(f"the zygote did not start: {lines[0][:200] if lines else 'no answer'}")
        threading.Thread(target=lambda: self.process.stdout.read(), daemon=True).start()

    def ask(self, request, fds=()):
        """Send one request, return its reply (ZygoteError when the zygote is gone)."""
        with self.lock:
            try:
                socket.send_fds(self.control, [json.dumps(request).encode()], list(fds))
                reply = self.control.recv(4096)
            except OSError as exc:
                raise ZygoteError(f"the zygote is gone: {exc}") from None
        if not reply:
            raise ZygoteError("the zygote is gone")
        return json.loads(reply)

    def start(self, cells, skip, run):
        """``execute`` starter: the runner forked in the zygote, its channel and raw-output readers."""
        from .execute import _Channel, _RawOutput, _write_new

        _write_new(run.workdir / "plan.json", json.dumps({"cells": cells, "skip": sorted(skip)}))
        result_read, result_write = os.pipe()
        raw_read, raw_write = os.pipe()
        try:
            reply = self.ask({"run": run.workdir.name, "student": run.env[STUDENT_VARIABLE]}, (result_write, raw_write))
        finally:
            os.close(result_write)
            os.close(raw_write)
        if not isinstance(reply.get("pid"), int):
            os.close(result_read)
            os.close(raw_read)
            raise ZygoteError("the zygote refused the run")
        process = _Forked(self, reply["pid"], raw_read)
        raw, channel = _RawOutput(process.stdout), _Channel(result_read)
        raw.start()
        channel.start()
        return process, channel, raw

    def run(self, cells, student, cell_timeout, max_deaths, run_seconds):
        """Execution of a reference plan's ``cells`` for ``student`` (as ``execute.run_plan``)."""
        from .execute import run_plan

        workdir = self.folder / f"run-{next(self.numbers)}"  # one per run, also across threads
        workdir.mkdir()
        uid = self.sandbox.get("slot", 0)
        if not self.sandbox.get("unsandboxed"):
            from .sandbox import UID_BASE

            os.chown(workdir, UID_BASE + uid, UID_BASE + uid)
        try:
            env = {**self.env, STUDENT_VARIABLE: student, MODE_VARIABLE: "judge"}
            return run_plan(cells, workdir, env, self.sandbox, cell_timeout, max_deaths, run_seconds, self.start)
        finally:
            shutil.rmtree(workdir, ignore_errors=True)

    def close(self):
        from .execute import kill_group

        with contextlib.suppress(OSError):
            self.control.close()
        kill_group(self.process)


if __name__ == "__main__":
    main()
