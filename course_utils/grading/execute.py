"""Run a cell plan in the sandbox, survive what the notebook does to its process.

One runner process executes the plan (``grading.runner``). The grader reads its result
channel line by line and enforces what the process cannot be trusted to: a per-cell
timeout, a cap on the channel and on raw output, and recovery after a death. When the
process dies in cell k (``os._exit``, a signal, out of memory, a timeout), cell k is
recorded as failed with the reason, and a fresh process re-runs the plan without the
cells that killed earlier processes, so a crash costs only the cells affected.

    run_plan(cells, workdir, env, ...) -> Execution
"""

import contextlib
import json
import os
import subprocess
import threading
import time
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path

MAX_CHANNEL_BYTES = 128 * 2**20  # all result lines of one run
MAX_LINE = 48 * 2**20  # one "done" line (a cell's outputs and check records, both as JSON text)
MAX_SMALL_LINE = 64 * 2**10  # any other line ("start", "guard", "end")
END_GRACE = 5.0  # seconds an honest runner needs to exit after its "end" line (it exits at once)
MAX_CONTAINERS = 200_000  # "[" and "{" in one line: parsing many tiny containers costs ~20x the line
MAX_RAW_OUTPUT = 64 * 2**10  # bytes kept of what the process writes to fd 1/2 itself
MAX_FILES_WRITTEN = 16 * 2**20  # more than this in the private folder is reported


@dataclass
class CellResult:
    status: str  # "ok", "error", or "died"
    error: str = ""
    outputs: str = "[]"  # the cell's outputs as JSON text (kept for reports, never parsed here)
    records: str = "[]"  # the cell's check records as JSON text, parsed only by the judge process
    guard: list = field(default_factory=list)  # tripwire findings reported by the run


@dataclass
class Execution:
    cells: dict = field(default_factory=dict)  # plan index -> CellResult
    flags: list = field(default_factory=list)  # channel tampering, deaths
    raw_output: str = ""
    seconds: float = 0.0
    startup_seconds: float = 0.0  # sandbox, interpreter and imports: until the first cell started
    student_id_used: bool = True


class _RawOutput(threading.Thread):
    """Reads what the process writes to fd 1/2 itself, keeping the first MAX_RAW_OUTPUT bytes."""

    def __init__(self, stream):
        super().__init__(daemon=True)
        self.stream, self.kept, self.total = stream, [], 0

    def run(self):
        while chunk := self.stream.read(65536):
            self.total += len(chunk)
            if sum(map(len, self.kept)) < MAX_RAW_OUTPUT:
                self.kept.append(chunk[:MAX_RAW_OUTPUT])

    def text(self):
        return b"".join(self.kept).decode("utf-8", "replace")


class _Channel(threading.Thread):
    """Parses the runner's JSON lines into events; anything malformed is noted, never trusted."""

    def __init__(self, fd):
        super().__init__(daemon=True)
        self.file, self.events, self.problems, self.size = os.fdopen(fd, "rb"), [], [], 0
        self.changed = threading.Condition()

    def run(self):
        while line := self.file.readline(MAX_LINE + 1):
            self.size += len(line)
            if self.size > MAX_CHANNEL_BYTES or len(line) > MAX_LINE:
                self._add(
                    problem=f"result channel overflow (a line over {MAX_LINE // 2**20} MB "
                    f"or more than {MAX_CHANNEL_BYTES // 2**20} MB in all)"
                )
                break
            small = not line.startswith(b'{"event": "done"')
            if (small and len(line) > MAX_SMALL_LINE) or line.count(b"[") + line.count(b"{") > MAX_CONTAINERS:
                self._add(problem="oversized message on the result channel (not parsed)")
                continue
            try:
                event = json.loads(line)
                assert isinstance(event, dict) and event.get("event") in ("start", "done", "guard", "end")
            except (ValueError, AssertionError, RecursionError):
                self._add(problem="malformed message on the result channel")
                continue
            self._add(event=event)
        self._add(event={"event": "closed"})

    def _add(self, event=None, problem=None):
        with self.changed:
            (self.events.append(event) if event else self.problems.append(problem))
            self.changed.notify_all()


class Ending(Enum):
    """How a runner process's attempt at the plan ended."""

    FINISHED = "finished"  # the runner sent "end": every cell ran
    CLOSED = "closed"  # the result channel closed first: the process died
    TIMED_OUT = "timed out"  # a cell ran longer than the cell timeout
    OUT_OF_TIME = "out of time"  # the whole run used its time budget


class _Progress:
    """Follows one runner through the plan from its channel's events (cells start in plan order)."""

    def __init__(self, cells, skip, execution):
        self.order = iter([c["index"] for c in cells if c["index"] not in skip])
        self.expected, self.current = next(self.order, None), None
        self.started, self.findings, self.ending = time.monotonic(), [], None
        self.execution = execution

    def apply(self, event):
        """Take one event into account; returns a problem text for an out-of-order event."""
        kind, cell = event["event"], event.get("cell")
        if kind == "start" and self.current is None and self.expected is not None and cell == self.expected:
            if not self.execution.cells and not self.execution.startup_seconds:
                self.execution.startup_seconds = time.monotonic() - self.started
            self.current, self.started, self.expected = self.expected, time.monotonic(), next(self.order, None)
        elif kind == "guard" and cell == self.current:
            self.findings.append(clean_text(event.get("finding"), 300))
        elif kind == "done" and self.current is not None and cell == self.current:
            self.execution.cells[self.current] = _cell_result(event, self.findings)
            self.current, self.findings, self.started = None, [], time.monotonic()
        elif kind == "end":
            self.execution.student_id_used = bool(event.get("student_id_used", True))
            self.ending = Ending.FINISHED
        elif kind == "closed":
            self.ending = self.ending or Ending.CLOSED
        else:
            return f"unexpected {kind!r} message for cell {cell!r}"
        return None

    def check_clock(self, cell_timeout, deadline):
        if self.ending is None and time.monotonic() > deadline:
            self.ending = Ending.OUT_OF_TIME
        elif self.ending is None and time.monotonic() - self.started > cell_timeout:
            self.ending = Ending.TIMED_OUT


def _start_runner(cells, skip, run):
    """The sandboxed runner process (forked from ``run.zygote`` when there is one), its channel
    reader and its raw-output reader, started."""
    from .zygote import start

    _write_new(run.workdir / "plan.json", json.dumps({"cells": cells, "skip": sorted(skip), **run.plan_extra}))
    read_fd, write_fd = os.pipe()
    try:
        process, stdout = start("runner", ["plan.json"], run.workdir, run.env, run.sandbox, run.zygote, write_fd)
    finally:
        os.close(write_fd)
    raw = _RawOutput(stdout)
    channel = _Channel(read_fd)
    raw.start()
    channel.start()
    return process, channel, raw


def _follow(progress, channel, process, run):
    """Apply the channel's events until the run ends (finished, closed or timed out)."""
    seen = 0
    while progress.ending is None:
        with channel.changed:
            channel.changed.wait_for(lambda: len(channel.events) > seen, timeout=0.2)
            new, seen = channel.events[seen:], len(channel.events)
        for event in new:
            problem = progress.apply(event)
            if problem:
                channel.problems.append(problem)
            if progress.ending is Ending.CLOSED:
                with contextlib.suppress(subprocess.TimeoutExpired):
                    process.wait(timeout=1.0)
        progress.check_clock(run.cell_timeout, run.deadline)


def _exits(process, seconds):
    """Does ``process`` exit within ``seconds``?"""
    try:
        process.wait(timeout=seconds)
        return True
    except subprocess.TimeoutExpired:
        return False


def _attempt(cells, skip, run, execution):
    """One runner process; fills ``execution.cells``; returns the index it died in, or None."""
    from .zygote import stop

    process, channel, raw = _start_runner(cells, skip, run)
    progress = _Progress(cells, skip, execution)
    _follow(progress, channel, process, run)
    if progress.ending is Ending.FINISHED and not _exits(process, END_GRACE):
        execution.flags.append("its process kept running after it reported its last cell (a forged end?)")
    code = process.poll()
    stop(process)
    raw.join(timeout=5)
    execution.flags += [f"result channel: {p}" for p in dict.fromkeys(channel.problems)]
    execution.raw_output += raw.text()
    if raw.total > MAX_RAW_OUTPUT:
        execution.flags.append(f"wrote {raw.total} bytes directly to stdout/stderr (the first {MAX_RAW_OUTPUT} kept)")
    if progress.ending is Ending.FINISHED:
        return None
    if progress.ending is Ending.TIMED_OUT:
        reason = f"timed out after {run.cell_timeout:.0f} s"
    elif progress.ending is Ending.OUT_OF_TIME:
        reason = f"stopped: the run used its whole time budget of {run.seconds:.0f} s"
    else:
        reason = "the result channel closed early: " + (
            "the process was still running" if code is None else _exit_text(code)
        )
    died_in = progress.current
    if died_in is None:
        died_in = next(
            (c["index"] for c in cells if c["index"] not in execution.cells and c["index"] not in skip), None
        )
    if died_in is not None:
        execution.cells[died_in] = CellResult("died", f"{reason} while running this cell", guard=progress.findings)
    return died_in


def _write_new(path, text):
    """Write ``path`` afresh: a link the previous run left there is removed, never followed."""
    path.unlink(missing_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
    with os.fdopen(fd, "w") as f:
        f.write(text)


def clean_text(value, limit):
    """``value`` as at most ``limit`` characters of valid UTF-8 text (lone surrogates replaced)."""
    return str(value)[:limit].encode("utf-8", "replace").decode("utf-8")


def _cell_result(event, findings):
    records, guard = event.get("records"), event.get("guard")
    return CellResult(
        status="ok" if event.get("status") == "ok" else "error",
        error=clean_text(event.get("error", ""), 2000),
        outputs=event.get("outputs") if isinstance(event.get("outputs"), str) else "[]",
        records=records if isinstance(records, str) else "[]",
        guard=findings
        + ([clean_text(g, 300) for g in guard[:20]] if isinstance(guard, list) else ["malformed guard report"]),
    )


def _exit_text(code):
    """Exit status in words; the sandbox reports a signal N as 128 + N."""
    signal_number = -code if code < 0 else code - 128 if code > 128 else 0
    if signal_number:
        extra = {9: " (killed: out of memory, or a limit)", 24: " (CPU time limit)"}.get(signal_number, "")
        return f"the process was killed by signal {signal_number}{extra}"
    return f"the process exited with code {code}"


def kill_group(process):
    """Kill ``process`` and every process of its session (it was started with start_new_session)."""
    try:
        os.killpg(process.pid, 9)
    except (ProcessLookupError, PermissionError):
        pass
    process.wait()


@dataclass(frozen=True)
class _Run:
    workdir: Path
    env: dict
    sandbox: dict
    cell_timeout: float
    seconds: float  # the whole run's time budget, crash re-runs included
    deadline: float
    zygote: object = None  # a zygote.Zygote the runner processes are forked from; None: new interpreters
    plan_extra: dict = field(default_factory=dict)  # more of plan.json for the runner (e.g. "font_cache")


def run_plan(
    cells, workdir, env, sandbox, cell_timeout=120.0, max_deaths=3, run_seconds=1800.0, zygote=None, plan_extra=None
):
    """Execute ``cells`` (plan dicts) in ``workdir``; see module docstring.

    sandbox: keyword arguments for ``sandbox.sandbox_command`` (limits, readable, slot, unsandboxed).
    max_deaths: processes that may die before the remaining cells are given up;
    run_seconds: wall time of the whole run, crash re-runs included;
    zygote: a ``zygote.Zygote`` that forks each runner process into its new sandbox (None: a new
    interpreter each); plan_extra: more keys of plan.json (``runner.main``).
    """
    began, execution, skip = time.monotonic(), Execution(), set()
    cells = [
        {"index": c["index"], "source": c["source"], "instructor": c.get("role") in ("test", "locked")} for c in cells
    ]
    run = _Run(Path(workdir), env, sandbox, cell_timeout, run_seconds, began + run_seconds, zygote, plan_extra or {})
    for _ in range(max_deaths + 1):
        died_in = _attempt(cells, skip, run, execution)
        if died_in is None:
            break
        skip.add(died_in)
        execution.flags.append(f"process died in cell {died_in}: {execution.cells[died_in].error}")
        for index in [i for i in execution.cells if i not in skip]:
            del execution.cells[index]  # state is lost: earlier cells run again in the new process
        if time.monotonic() > run.deadline:
            execution.flags.append(f"used its whole time budget ({run_seconds:.0f} s)")
            break
    else:
        execution.flags.append(f"its process died {max_deaths + 1} times: the remaining cells were not run")
    for c in cells:
        execution.cells.setdefault(
            c["index"], CellResult("died", "not run: the process died too often or the run used its time budget")
        )
    execution.flags += _disk_findings(run)
    execution.seconds = time.monotonic() - began
    return execution


def _disk_findings(run):
    """What the run stored in its private folder, when it is much (or all its budget)."""
    from .sandbox import disk_use

    stored, files = disk_use(run.workdir)
    limits = run.sandbox.get("limits")
    findings = []
    if stored > MAX_FILES_WRITTEN:
        findings.append(f"wrote {stored / 2**20:.0f} MB of files")
    if limits and stored >= 0.9 * limits.disk_bytes:
        findings.append(f"filled its disk budget ({limits.disk_bytes / 2**20:.0f} MB)")
    if limits and files >= 0.9 * limits.disk_inodes:
        findings.append(f"used its budget of {limits.disk_inodes} files")
    return findings
