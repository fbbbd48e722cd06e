"""Run a cell plan in the sandbox, survive what the notebook does to its process.

One runner process executes the plan (``grading.runner``). The grader reads its result
channel line by line and enforces what the process cannot be trusted to: a per-cell
timeout, a cap on the channel and on raw output, and recovery after a death. When the
process dies in cell k (``os._exit``, a signal, out of memory, a timeout), cell k is
recorded as failed with the reason, and a fresh process re-runs the plan without the
cells that killed earlier processes, so a crash costs only the cells affected.

    run_plan(cells, workdir, env, ...) -> Execution
"""
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field

MAX_CHANNEL_BYTES = 256 * 2**20   # all result lines of one run
MAX_LINE = 160 * 2**20            # one result line (a cell's outputs and check records)
MAX_RAW_OUTPUT = 64 * 2**10      # bytes kept of what the process writes to fd 1/2 itself
MAX_FILES_WRITTEN = 16 * 2**20   # more than this in the private folder is reported


@dataclass
class CellResult:
    status: str                      # "ok", "error", or "died"
    error: str = ""
    outputs: list = field(default_factory=list)
    records: list = field(default_factory=list)
    guard: list = field(default_factory=list)     # tripwire findings reported by the run


@dataclass
class Execution:
    cells: dict = field(default_factory=dict)   # plan index -> CellResult
    flags: list = field(default_factory=list)    # channel tampering, deaths
    raw_output: str = ""
    seconds: float = 0.0
    student_id_used: bool = True


def _drain(stream, keep, counted):
    """Read ``stream`` to the end, keeping the first MAX_RAW_OUTPUT bytes in ``keep``."""
    while chunk := stream.read(65536):
        counted[0] += len(chunk)
        if sum(map(len, keep)) < MAX_RAW_OUTPUT:
            keep.append(chunk[:MAX_RAW_OUTPUT])


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
                self._add(problem=f"result channel overflow (a line over {MAX_LINE // 2**20} MB "
                                  f"or more than {MAX_CHANNEL_BYTES // 2**20} MB in all)")
                break
            try:
                event = json.loads(line)
                assert isinstance(event, dict) and event.get("event") in ("start", "done", "guard", "end")
            except (ValueError, AssertionError):
                self._add(problem="malformed message on the result channel")
                continue
            self._add(event=event)
        self._add(event={"event": "closed"})

    def _add(self, event=None, problem=None):
        with self.changed:
            (self.events.append(event) if event else self.problems.append(problem))
            self.changed.notify_all()


def _runner_argv():
    return [sys.executable, "-m", "course_utils.grading.runner", "plan.json"]


def _attempt(cells, skip, workdir, env, sandbox, cell_timeout, execution):
    """One runner process; fills ``execution.cells``; returns the index it died in, or None."""
    from .sandbox import sandbox_command
    _write_new(workdir / "plan.json", json.dumps({"cells": cells, "skip": sorted(skip)}))
    read_fd, write_fd = os.pipe()
    argv = sandbox_command(_runner_argv(), workdir, dict(env, COURSE_RESULT_FD=str(write_fd)), **sandbox)
    process = subprocess.Popen(argv, cwd=workdir, pass_fds=(write_fd,), stdin=subprocess.DEVNULL,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    os.close(write_fd)
    raw, raw_bytes = [], [0]
    drain = threading.Thread(target=_drain, args=(process.stdout, raw, raw_bytes), daemon=True)
    drain.start()
    findings = []
    channel = _Channel(read_fd)
    channel.start()
    # Cells must start in plan order, one at a time: a forged "start" cannot reset the clock.
    order = iter([c["index"] for c in cells if c["index"] not in skip])
    expected = next(order, None)
    current, started, seen, reason = None, time.monotonic(), 0, None
    while reason is None:
        with channel.changed:
            channel.changed.wait_for(lambda: len(channel.events) > seen, timeout=0.2)
            new, seen = channel.events[seen:], len(channel.events)
        for event in new:
            kind = event["event"]
            if kind == "start" and current is None and expected is not None and event.get("cell") == expected:
                current, started, expected = expected, time.monotonic(), next(order, None)
            elif kind == "guard" and event.get("cell") == current:
                findings.append(str(event.get("finding"))[:300])
            elif kind == "done" and current is not None and event.get("cell") == current:
                execution.cells[current] = _cell_result(event, findings)
                current, findings, started = None, [], time.monotonic()
            elif kind == "end":
                execution.student_id_used = bool(event.get("student_id_used", True))
                reason = "end"
            elif kind == "closed":
                reason = reason or "closed"
                try:
                    process.wait(timeout=1.0)
                except subprocess.TimeoutExpired:
                    pass
            else:
                channel.problems.append(f"unexpected {kind!r} message for cell {event.get('cell')!r}")
        if reason is None and time.monotonic() - started > cell_timeout:
            reason = f"timed out after {cell_timeout:.0f} s"
    code = process.poll()
    _kill(process)
    drain.join(timeout=5)
    execution.flags += [f"result channel: {p}" for p in dict.fromkeys(channel.problems)]
    execution.raw_output += b"".join(raw).decode("utf-8", "replace")
    if raw_bytes[0] > MAX_RAW_OUTPUT:
        execution.flags.append(f"wrote {raw_bytes[0]} bytes directly to stdout/stderr "
                               f"(the first {MAX_RAW_OUTPUT} kept)")
    if reason == "end":
        return None
    if reason == "closed":
        reason = ("the result channel closed early: " +
                  ("the process was still running" if code is None else _exit_text(code)))
    if current is None:
        current = next((c["index"] for c in cells if c["index"] not in execution.cells
                        and c["index"] not in skip), None)
    if current is not None:
        execution.cells[current] = CellResult("died", f"{reason} while running this cell", guard=findings)
    return current


def _write_new(path, text):
    """Write ``path`` afresh: a link the previous run left there is removed, never followed."""
    path.unlink(missing_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
    with os.fdopen(fd, "w") as f:
        f.write(text)


def _cell_result(event, findings):
    records = event.get("records")
    return CellResult(status="ok" if event.get("status") == "ok" else "error",
                      error=str(event.get("error", ""))[:2000],
                      outputs=event.get("outputs") if isinstance(event.get("outputs"), list) else [],
                      records=records if isinstance(records, list) else [],
                      guard=findings + ([str(g)[:300] for g in event.get("guard", [])][:20]
                                        if isinstance(event.get("guard"), list) else ["malformed guard report"]))


def _exit_text(code):
    """Exit status in words; the sandbox reports a signal N as 128 + N."""
    signal_number = -code if code < 0 else code - 128 if code > 128 else 0
    if signal_number:
        extra = {9: " (killed: out of memory, or a limit)", 24: " (CPU time limit)"}.get(signal_number, "")
        return f"the process was killed by signal {signal_number}{extra}"
    return f"the process exited with code {code}"


def _kill(process):
    try:
        os.killpg(process.pid, 9)
    except (ProcessLookupError, PermissionError):
        pass
    process.wait()


def run_plan(cells, workdir, env, sandbox, cell_timeout=120.0, max_deaths=3):
    """Execute ``cells`` (plan dicts) in ``workdir``; see module docstring.

    sandbox: keyword arguments for ``sandbox.sandbox_command`` (limits, readable, slot, unsandboxed).
    """
    start, execution, skip = time.monotonic(), Execution(), set()
    cells = [{"index": c["index"], "source": c["source"]} for c in cells]
    for _ in range(max_deaths + 1):
        died_in = _attempt(cells, skip, workdir, env, sandbox, cell_timeout, execution)
        if died_in is None:
            break
        skip.add(died_in)
        execution.flags.append(f"process died in cell {died_in}: {execution.cells[died_in].error}")
        for index in [i for i in execution.cells if i not in skip]:
            del execution.cells[index]  # state is lost: earlier cells run again in the new process
    for c in cells:
        execution.cells.setdefault(c["index"], CellResult("died", "not run: the process died too often"))
    written = sum(p.stat().st_size for p in workdir.rglob("*") if p.is_file() and p.name != "plan.json")
    if written > MAX_FILES_WRITTEN:
        execution.flags.append(f"wrote {written / 2**20:.0f} MB of files")
    execution.seconds = time.monotonic() - start
    return execution


def fresh_workdir(path):
    """An empty private directory for one run."""
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    return path
