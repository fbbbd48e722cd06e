"""Runs a notebook's code cells inside the sandbox and streams results to the grader.

    python -m course_utils.grading.runner plan.json     (fd ``COURSE_RESULT_FD`` is the channel)

plan.json: ``{"cells": [{"index": i, "source": "...", "instructor": bool}], "skip": [i, ...]}``. For each cell the
runner writes one JSON line ``{"event": "start", "cell": i}`` before and one ``done`` line
after it ran, with status, error text, outputs (capped) and the check records of the cell.
This process runs the student's code, so nothing it sends is trusted: the grader only reads
plain data from it, and judges answers itself (see ``grading.oracle``).
"""

import json
import os
import re
import signal
import sys

MAX_CELL_OUTPUT = 100_000  # characters of text kept per cell
MAX_IMAGE = 2_000_000  # characters of base64 PNG kept per display
MAX_DISPLAYED = 8_000_000  # characters of all displays of one cell


class CappedText:
    """A text stream that keeps the first ``limit`` characters and counts the rest."""

    def __init__(self, name, limit=MAX_CELL_OUTPUT):
        self.name, self.limit, self.parts, self.kept, self.dropped = name, limit, [], 0, 0

    def write(self, text):
        text = str(text)
        room = self.limit - self.kept
        self.parts.append(text[: max(room, 0)])
        self.kept += min(len(text), max(room, 0))
        self.dropped += max(len(text) - max(room, 0), 0)
        return len(text)

    def flush(self):
        pass

    def isatty(self):
        return False

    def output(self):
        text = "".join(self.parts)
        if self.dropped:
            text += f"\n[... {self.dropped} more characters not kept]"
        return {"output_type": "stream", "name": self.name, "text": text} if text else None


def _shell(outputs):
    """An IPython shell whose display() calls append to ``outputs`` (text and PNG only)."""
    from IPython.core.displaypub import DisplayPublisher
    from IPython.core.interactiveshell import InteractiveShell

    class Publisher(DisplayPublisher):
        def publish(self, data, metadata=None, *args, **kwargs):
            kept = {
                k: str(v)[: MAX_IMAGE if k == "image/png" else MAX_CELL_OUTPUT]
                for k, v in data.items()
                if k in ("text/plain", "image/png")
            }
            shown = sum(len(v) for output in outputs for v in output["data"].values())
            if shown + sum(map(len, kept.values())) <= MAX_DISPLAYED:
                outputs.append({"output_type": "display_data", "data": kept, "metadata": {}})

    shell = InteractiveShell.instance(colors="nocolor")
    shell.display_pub = Publisher(shell=shell)
    return shell


def _caused_by(error, kind):
    """Is ``error``, or an exception it was raised from, a ``kind``?"""
    seen = 0
    while error is not None and seen < 10:
        if isinstance(error, kind):
            return True
        error, seen = error.__cause__ or error.__context__, seen + 1
    return False


def _error_text(result):
    error = result.error_before_exec or result.error_in_exec
    return f"{type(error).__name__}: {error}"[:2000] if error else ""


def _allowed_prefixes():
    """Where an honest notebook reads: its folder, /tmp, the Python install, data, system files."""
    import tempfile

    import course_utils
    from course_utils.protocol import READABLE_VARIABLE

    return [
        os.getcwd(),
        os.environ.get("HOME", ""),
        os.path.join(tempfile.gettempdir(), "tmp"),
        "/dev/null",
        "/dev/urandom",
        "/proc/self",
        "/sys/devices",
        "/usr",
        "/etc",
        "/lib",
        sys.prefix,
        sys.base_prefix,
        os.path.dirname(course_utils.__file__),
        *os.environ.get(READABLE_VARIABLE, "").split(os.pathsep),
    ]


def _records_text(run_state):
    """The cell's check records as one JSON array text; a forged list becomes a malformed record."""
    own = vars(run_state)  # the instance's own attributes: no property a class patch adds runs
    records, count = own.get("records"), own.get("count")
    if type(records) is not list or len(records) != count or not all(type(r) is str for r in records):
        return '[{"kind": "changed by the notebook"}]'
    return "[" + ",".join(records) + "]"


def preload():
    """Import what every run needs before its first cell (the zygote imports it once for all runs)."""
    import matplotlib.font_manager  # noqa: F401 (its first import runs fc-list: not the student's doing)
    import matplotlib.pyplot  # noqa: F401
    import numpy.testing  # noqa: F401
    import sympy  # noqa: F401
    from IPython.core.interactiveshell import InteractiveShell  # noqa: F401

    from course_utils import blas, checks, gradcheck  # noqa: F401
    from course_utils.grading import guard  # noqa: F401


def run(plan, channel):
    """Execute the plan's cells in order; one ``start`` and one ``done`` line per cell."""
    preload()  # before the guard's snapshot of the objects it watches
    from course_utils import checks
    from course_utils.grading.guard import Guard
    from course_utils.protocol import RUN

    outputs = []
    shell = _shell(outputs)
    import matplotlib.pyplot as plt

    plt.switch_backend(plt.get_backend())  # registers pyplot's IPython display hook: not the student's doing

    checks.show_check_failures_briefly(shell)  # installed now, so the guard's snapshot includes it
    current = {"cell": None}

    def report(finding):  # audit findings leave at once, before a cell can kill the process
        channel.write(json.dumps({"event": "guard", "cell": current["cell"], "finding": finding}) + "\n")
        channel.flush()

    guard = Guard(shell, [p for p in _allowed_prefixes() if p], report)
    skip = set(plan.get("skip", []))
    for cell in plan["cells"]:
        if cell["index"] in skip:
            continue
        current["cell"] = cell["index"]
        channel.write(json.dumps({"event": "start", "cell": cell["index"]}) + "\n")
        channel.flush()
        outputs.clear()
        if cell.get("instructor"):
            guard.restore()  # the instructor's code runs with the original functions and hooks
        RUN.records, RUN.count = [], 0
        stdout, stderr = CappedText("stdout"), CappedText("stderr")
        sys.stdout, sys.stderr = stdout, stderr
        try:
            result = shell.run_cell(cell["source"], store_history=True)
        finally:
            sys.stdout, sys.stderr = sys.__stdout__, sys.__stderr__
        streams = [s.output() for s in (stdout, stderr) if s.output()]
        findings = guard.findings() + [
            f"printed {s.dropped} characters more than the {s.limit} kept" for s in (stdout, stderr) if s.dropped
        ]
        if _caused_by(result.error_in_exec, MemoryError):
            findings.append("ran out of memory (MemoryError)")
        done = {
            "event": "done",
            "cell": cell["index"],
            "status": "ok" if result.success else "error",
            "error": _error_text(result),
            "outputs": json.dumps(streams + list(outputs)),
            "records": _records_text(RUN),  # text: the grader passes it to its judge unparsed
            "guard": findings,
        }
        channel.write(json.dumps(done) + "\n")
        channel.flush()
    channel.write(json.dumps({"event": "end", "student_id_used": RUN.student_id_used}) + "\n")
    channel.flush()


def install_font_cache(cache):
    """Write the grader's matplotlib font list (``{"name": "fontlist-v....json", "text": ...}``) into
    this run's own MPLCONFIGDIR, so importing matplotlib reads it instead of scanning every font."""
    folder = os.environ.get("MPLCONFIGDIR")
    if (
        not isinstance(cache, dict)
        or not folder
        or not re.fullmatch(r"fontlist-v[0-9.]+\.json", str(cache.get("name")))
    ):
        return
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, cache["name"]), "w") as f:
        f.write(str(cache.get("text", "")))


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a too-large file fails with EFBIG, not a kill
    from course_utils.protocol import RESULT_FD_VARIABLE

    channel = os.fdopen(int(os.environ.get(RESULT_FD_VARIABLE, "3")), "w", buffering=1 << 16)
    with open(argv[0]) as f:
        plan = json.load(f)
    os.unlink(argv[0])  # the cells to come are not left lying in the notebook's folder
    install_font_cache(plan.get("font_cache"))
    run(plan, channel)
    channel.flush()
    os._exit(0)  # at once: the grader takes a process still running after "end" as a forged end


if __name__ == "__main__":
    main()
