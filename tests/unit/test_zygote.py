"""Tests of course_utils.grading.zygote: reference runs forked from a warm, sandboxed interpreter.

A forked run must give what a fresh run gives (records, statuses, whether the student id was
asked), survive a cell that kills its process, keep each run's files apart, and be used for
reference runs only: a student's run never reaches the zygote. Needs root and bubblewrap.
"""

import contextlib
from pathlib import Path

import pytest

from course_utils.grading import engine
from course_utils.grading.assemble import read_notebook, reference_plan
from course_utils.grading.sandbox import MAX_SLOTS, Limits, private_folder, unavailable_reason
from course_utils.grading.settings import Settings
from course_utils.grading.zygote import Zygote, ZygoteError

REPO = Path(__file__).resolve().parents[2]
REASON = unavailable_reason()
pytestmark = pytest.mark.skipif(REASON is not None, reason=f"sandbox unavailable: {REASON}")
SLOT = MAX_SLOTS - 8  # far from the engine's slots


@pytest.fixture(scope="module")
def zygote():
    with private_folder(Limits(), prefix="test-zygote-") as folder:
        env = {k: v for k, v in engine._env("", "judge").items() if k not in ("COURSE_STUDENT_ID", "COURSE_CHECK_MODE")}
        started = Zygote(engine._sandbox(Settings(), SLOT), env, folder)
        yield started
        started.close()


def cells(*sources):
    return [{"index": i, "source": s, "role": "locked"} for i, s in enumerate(sources)]


def records(execution):
    return {i: (c.status, c.records) for i, c in execution.cells.items()}


def test_forked_reference_run_equals_a_fresh_one(zygote):
    plan = reference_plan(read_notebook(REPO / "source" / "ps1" / "problem_set_1.ipynb"))
    forked = zygote.run(plan.cells, "s07", 120, 3, 1800)
    with engine._slot() as slot:
        fresh = engine._run(plan, "s07", "judge", Settings(), slot)
    assert records(forked) == records(fresh)
    assert forked.student_id_used and not forked.flags
    assert all(c.status == "ok" for c in forked.cells.values())


def test_each_run_has_its_student_id_and_folder_and_sees_no_other(zygote):
    code = cells(
        "import os; from course_utils import variants; sid = variants.student_id()",
        "assert os.listdir('.') == [], os.listdir('.')",  # plan.json is gone, no earlier run's file
        "open(sid + '.txt', 'w').write(sid)",
        "assert os.environ['COURSE_CHECK_MODE'] == 'judge'",
    )
    for student in ("alice", "bob"):
        run = zygote.run(code, student, 60, 3, 600)
        assert [c.status for c in run.cells.values()] == ["ok"] * 4, run.cells


def test_a_cell_that_kills_its_process_is_recovered_and_the_zygote_lives_on(zygote):
    run = zygote.run(cells("x = 1", "import os; os._exit(3)", "y = x + 1"), "s01", 60, 3, 600)
    assert [run.cells[i].status for i in range(3)] == ["ok", "died", "ok"]
    assert "exited with code 3" in run.cells[1].error
    run = zygote.run(cells("import time; time.sleep(30)", "z = 2"), "s01", 2, 3, 600)
    assert run.cells[0].status == "died" and "timed out" in run.cells[0].error
    assert run.cells[1].status == "ok"
    assert records(zygote.run(cells("a = 1"), "s02", 60, 3, 600)) == {0: ("ok", "[]")}


def test_student_runs_never_use_the_zygote(monkeypatch, tmp_path):
    """Only ``reference_results`` forks from the zygote; the student's probe run starts fresh."""
    used = []
    monkeypatch.setattr(Zygote, "run", lambda self, *args: used.append(args) or (_ for _ in ()).throw(ZygoteError("x")))
    source = REPO / "source" / "ps1" / "problem_set_1.ipynb"
    plan = reference_plan(read_notebook(source))
    with contextlib.ExitStack() as stack:
        slot = stack.enter_context(engine._slot())
        stack.callback(engine._close_zygotes)
        engine._run(plan, "s03", "probe", Settings(), slot)
        assert not used
        execution = engine._reference_run(plan, "s03", Settings(), slot)  # the zygote fails: a fresh run
    assert len(used) == 1 and used[0][1] == "s03"
    assert all(c.status == "ok" for c in execution.cells.values())
