"""The oracle in a process of its own, which the grader bounds in time and memory and can kill.

A student's check records are data the student's code chose: a JSON text nested deeply
enough to overflow a parser, or an unevaluated SymPy expression (``10**1000**1000``,
``factorial(10**8)``) that takes minutes to rebuild or compare. So the grader never parses,
rebuilds or compares them itself: ``judge_notebook`` writes the records of both runs to a
private folder and runs ``python -m course_utils.grading.judge`` in the sandbox (same limits
as a student's run), which judges the tests one by one (``oracle.judge_test``) and prints one
verdict line per test. A test the judge does not finish within ``judge_timeout`` seconds (or
that kills it) scores 0 with the reason and a finding; a new judge process goes on with the
next test, so one costly answer costs only its own test.

    judge_notebook(tests, student_cells, reference_cells, skeletons, run) -> {grade_id: Verdict}
"""

import json
import queue
import subprocess
import sys
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from .oracle import Verdict

MAX_VERDICT_LINE = 64 * 2**10
START_TIMEOUT = 120.0  # seconds for the judge's interpreter and imports, before the first test


@dataclass(frozen=True)
class JudgeRun:
    """How to start judge processes: sandbox keyword arguments, environment, time per test."""

    sandbox: dict
    env: dict
    judge_timeout: float


def _write_input(folder, tests, student_cells, reference_cells, skeletons):
    """input.json: per test, its points, condition skeletons and both runs' cell results."""
    items = [
        {
            "grade_id": gid,
            "points": points,
            "skeletons": skeletons.get(gid, []),
            "student": asdict(student_cells[gid]) if student_cells.get(gid) else None,
            "reference": asdict(reference_cells[gid]) if reference_cells.get(gid) else None,
        }
        for gid, points in tests.items()
    ]
    (folder / "input.json").write_text(json.dumps({"tests": items}))


def _reader(stream, lines):
    """Put each line of ``stream`` (capped) on ``lines``; None at the end."""
    while line := stream.readline(MAX_VERDICT_LINE + 1):
        lines.put(line if len(line) <= MAX_VERDICT_LINE else b"")
    lines.put(None)


def _verdict(line, grade_id, points):
    """The Verdict a judge line states for ``grade_id``; None when the line is not that."""
    try:
        data = json.loads(line)
    except (ValueError, RecursionError):
        return None
    if not isinstance(data, dict) or data.get("grade_id") != grade_id:
        return None
    score = data.get("score")
    return Verdict(
        grade_id,
        None if score is None else float(score),
        points,
        str(data.get("message", ""))[:4000],
        str(data.get("flag", ""))[:500],
        str(data.get("misconception", ""))[:500],
    )


def _stopped(grade_id, points, why):
    return Verdict(
        grade_id,
        0.0,
        points,
        f"the grader stopped judging this answer: {why}",
        flag=f"test {grade_id}: judging stopped ({why})",
    )


def _judge_some(pending, tests, student_cells, reference_cells, skeletons, run):
    """Start one judge process for ``pending`` tests; Verdicts until it finishes, dies or times out."""
    from .sandbox import private_folder
    from .zygote import start, stop

    verdicts = {}
    with private_folder(run.sandbox["limits"], run.sandbox["unsandboxed"], prefix="grade-judge-") as workdir:
        _write_input(Path(workdir), {g: tests[g] for g in pending}, student_cells, reference_cells, skeletons)
        # a new interpreter, never a fork of the zygote: the judge reads student-written data, so it
        # gets an address layout, stack canary and hash seed no student's run has seen
        process, stdout = start("judge", ["input.json"], workdir, run.env, run.sandbox, stderr=subprocess.DEVNULL)
        lines = queue.Queue()
        threading.Thread(target=_reader, args=(stdout, lines), daemon=True).start()
        try:
            _wait_ready(lines)
            for gid in pending:
                try:
                    line = lines.get(timeout=run.judge_timeout)
                except queue.Empty:
                    verdicts[gid] = _stopped(gid, tests[gid], f"it took more than {run.judge_timeout:g} s")
                    break
                verdict = _verdict(line, gid, tests[gid]) if line else None
                if verdict is None:
                    code = process.poll()
                    why = "the judge process ran out of memory or died" if code else "no verdict was given"
                    verdicts[gid] = _stopped(gid, tests[gid], why)
                    break
                verdicts[gid] = verdict
        finally:
            stop(process)
    return verdicts


def _wait_ready(lines):
    deadline = time.monotonic() + START_TIMEOUT
    while (line := lines.get(timeout=max(deadline - time.monotonic(), 0.1))) is not None:
        if line.strip() == b"ready":
            return
    raise RuntimeError("the judge process did not start")


def judge_notebook(tests, student_cells, reference_cells, skeletons, run):
    """{grade_id: Verdict} for ``tests`` ({grade_id: points}); see module docstring.

    student_cells, reference_cells: {grade_id: CellResult or None} of the two runs;
    skeletons: {grade_id: [condition skeleton per site]} (``grading.predicates``).
    """
    verdicts, pending = {}, list(tests)
    while pending:
        verdicts |= _judge_some(pending, tests, student_cells, reference_cells, skeletons, run)
        pending = [gid for gid in tests if gid not in verdicts]
    return verdicts


# ---------------------------------------------------------------- inside the judge process


def _cell(data):
    from .execute import CellResult

    if data is None:
        return None
    cell = CellResult(**data)
    try:
        records = json.loads(cell.records) if isinstance(cell.records, str) else cell.records
    except (ValueError, RecursionError):
        records = None
    cell.records = records if isinstance(records, list) else [{"kind": "unreadable"}]
    return cell


def main(argv=None):
    """Judge every test of input.json in order; print ``ready``, then one verdict line per test."""
    import numpy  # noqa: F401  (imported before "ready": the first test's clock starts after)
    import sympy  # noqa: F401

    from .oracle import judge_test

    argv = sys.argv[1:] if argv is None else argv
    tests = json.loads(Path(argv[0]).read_text())["tests"]
    out = sys.stdout
    out.write("ready\n")
    out.flush()
    for test in tests:
        gid, points = test["grade_id"], test["points"]
        try:
            verdict = judge_test(gid, points, _cell(test["student"]), _cell(test["reference"]), test["skeletons"])
        except Exception as exc:  # records of an unexpected shape: a wrong answer, never a crash
            why = f"{type(exc).__name__}: {str(exc)[:200]}"
            verdict = Verdict(
                gid,
                0.0,
                points,
                f"could not judge the values your code produced ({why})",
                flag=f"test {gid}: check records could not be read ({why})",
            )
        out.write(json.dumps(asdict(verdict)) + "\n")
        out.flush()


if __name__ == "__main__":
    main()
