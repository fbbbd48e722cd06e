"""Tests of course_utils.grading.zygote: grading processes forked from a warm interpreter into
a new sandbox each.

A forked run must give what a fresh run gives, and be exactly as isolated: the slot's uid with
no capability and no_new_privs, the sandbox's own PID, network and mount namespaces, the run's
folder and environment only, no way to reach the zygote, nothing left behind when it ends. It
must survive a cell that kills its process, and a broken zygote must only cost speed.
Needs root and bubblewrap.
"""

import json
import os
import subprocess
from pathlib import Path

import pytest

from course_utils.grading import engine
from course_utils.grading.assemble import read_notebook, reference_plan
from course_utils.grading.sandbox import UID_BASE, unavailable_reason
from course_utils.grading.settings import Settings
from course_utils.grading.zygote import Zygote, ZygoteError

REPO = Path(__file__).resolve().parents[2]
REASON = unavailable_reason()
pytestmark = pytest.mark.skipif(REASON is not None, reason=f"sandbox unavailable: {REASON}")
FRESH = Settings().with_values(zygote=False)


@pytest.fixture(scope="module")
def slot():
    with engine._slot() as number:
        yield number


@pytest.fixture(scope="module")
def zygote(slot):
    engine._close_zygote()
    started = engine._zygote(Settings(), slot)
    assert isinstance(started, Zygote)
    yield started
    engine._close_zygote()


def cells(*sources):
    return [{"index": i, "source": s, "role": "locked"} for i, s in enumerate(sources)]


class Plan:
    def __init__(self, *sources):
        self.cells = cells(*sources)


def run(zygote, slot, *sources, student="s01", mode="probe", settings=Settings()):
    assert engine._zygote(settings, slot) in (zygote, None)
    return engine._run(Plan(*sources), student, mode, settings, slot)


def statuses(execution):
    return [execution.cells[i].status for i in sorted(execution.cells)]


def records(execution):
    return {i: (c.status, c.records) for i, c in execution.cells.items()}


def test_forked_reference_run_equals_a_fresh_one(zygote, slot):
    plan = reference_plan(read_notebook(REPO / "source" / "ps1" / "problem_set_1.ipynb"))
    forked = engine._run(plan, "s07", "judge", Settings(), slot)
    fresh = engine._run(plan, "s07", "judge", FRESH, slot)
    assert records(forked) == records(fresh)
    assert forked.student_id_used and not forked.flags
    assert all(c.status == "ok" for c in forked.cells.values())


CREDENTIALS = """
status = dict(l.split(":", 1) for l in open("/proc/self/status").read().splitlines())
assert {k: int(status[k], 16) for k in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb")} == dict.fromkeys(
    ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"), 0), status
assert status["NoNewPrivs"].strip() == "1" and not status["Groups"].split()
assert os.getresuid() == (UID,) * 3 and os.getresgid() == (UID,) * 3, (os.getresuid(), os.getresgid())
assert os.getppid() == 0  # its parent is outside the sandbox's PID namespace: nothing to signal
# in the slot's memory cgroup, the root of the sandbox's cgroup namespace (elsewhere: "/../...")
assert all(l.endswith(":/") for l in open("/proc/self/cgroup").read().splitlines() if "memory" in l)
"""


def test_a_forked_process_has_the_slots_uid_and_no_privilege(zygote, slot):
    code = CREDENTIALS.replace("UID", str(UID_BASE + slot))
    execution = run(zygote, slot, "import os", code)
    assert statuses(execution) == ["ok", "ok"], execution.cells


def test_a_forked_process_sees_only_its_sandbox(zygote, slot):
    execution = run(
        zygote,
        slot,
        "import os, socket, ctypes",
        f"assert not os.path.exists({str(REPO / 'nbgrader_config.py')!r}) and not os.path.exists('/root/.bashrc')",
        # only the sandbox's processes: its placeholder, the runner and nothing of the grader's
        "assert len([p for p in os.listdir('/proc') if p.isdigit()]) <= 4, os.listdir('/proc')",
        "assert [n for _, n in socket.if_nameindex()] == ['lo']",
        "assert ctypes.CDLL(None).unshare(0x10000000) != 0  # no user namespace of its own",
        "assert os.getcwd() == '/submission' and os.listdir('.') == []",
    )
    assert statuses(execution) == ["ok"] * 6, execution.cells


def test_each_run_has_its_student_id_environment_and_folder(zygote, slot, capsys):
    code = (
        "import os, json, numpy; from course_utils import variants; sid = variants.student_id()",
        "open(sid + '.txt', 'w').write(sid); print(json.dumps(dict(os.environ)))",
        "import sympy.core.random as sympy_random, random",
        "print(numpy.random.random(), random.random(), sympy_random.rng.random())",
    )
    seen = []
    for student in ("alice", "bob"):
        execution = run(zygote, slot, *code, student=student)
        assert statuses(execution) == ["ok"] * 4, execution.cells
        env = json.loads(json.loads(execution.cells[1].outputs)[0]["text"])
        assert env == {**engine._env(student, "probe"), "COURSE_RESULT_FD": "3", "KMP_DUPLICATE_LIB_OK": "True"}
        seen.append(json.loads(execution.cells[3].outputs)[0]["text"])
    assert "zygote failed" not in capsys.readouterr().out  # forked, not started afresh
    # a new interpreter's unseeded generators differ per run: so do these, each of them
    assert all(a != b for a, b in zip(*(text.split() for text in seen)))


def test_nothing_a_run_starts_outlives_it(zygote, slot):
    execution = run(
        zygote, slot, "import subprocess; subprocess.Popen(['sleep', '300'], start_new_session=True)", "x = 1"
    )
    assert statuses(execution) == ["ok", "ok"]
    left = subprocess.run(["pgrep", "-u", str(UID_BASE + slot)], capture_output=True, text=True).stdout.split()
    assert not left


def test_unsandboxed_what_a_run_starts_is_killed_with_it(zygote, slot):
    """Without a sandbox to tear down, the zygote kills the run's process group (as a fresh run's)."""
    marker = f"{os.getpid()}{slot}7"
    unsandboxed = Settings().with_values(unsandboxed=True)
    execution = run(zygote, slot, f"import subprocess; subprocess.Popen(['sleep', '{marker}'])", settings=unsandboxed)
    assert statuses(execution) == ["ok"]
    left = subprocess.run(["pgrep", "-f", f"sleep {marker}"], capture_output=True, text=True).stdout.split()
    assert not left


def test_a_forked_process_is_dumpable_as_a_new_program(zygote, slot):
    execution = run(zygote, slot, "import os; assert os.listdir('/proc/self/fd'); open('/proc/self/environ').read()")
    assert statuses(execution) == ["ok"], execution.cells


def test_a_cell_that_kills_its_process_is_recovered_and_the_zygote_lives_on(zygote, slot):
    execution = run(zygote, slot, "x = 1", "import os; os._exit(3)", "y = x + 1", mode="judge")
    assert statuses(execution) == ["ok", "died", "ok"]
    assert "exited with code 3" in execution.cells[1].error
    slow = Settings().with_values(cell_timeout=2)
    execution = run(zygote, slot, "import time; time.sleep(30)", "z = 2", settings=slow)
    assert statuses(execution) == ["died", "ok"] and "timed out" in execution.cells[0].error
    assert records(run(zygote, slot, "a = 1")) == {0: ("ok", "[]")}


def test_a_broken_zygote_costs_only_speed(slot, capsys, monkeypatch):
    zygote = Zygote({"PATH": "/usr/bin:/bin"})
    zygote.close()  # as if it had died
    monkeypatch.setattr(engine, "_zygote_of_this_process", [zygote])
    execution = run(zygote, slot, "import os", "x = os.getpid()")
    assert statuses(execution) == ["ok", "ok"]
    assert zygote.broken and "zygote failed" in capsys.readouterr().out
    with pytest.raises(ZygoteError):
        zygote.spawn("runner", [], "/nonexistent", {}, {}, ())


def test_a_zygote_whose_trial_run_fails_is_not_used(slot, monkeypatch, capsys):
    """A child that cannot set a run up exits before the first cell, which would look like the
    notebook's crash: the trial run finds it, and the worker starts new interpreters instead."""
    ask = Zygote.ask

    def with_root_uid(self, request, fds=()):  # root's uid is not mapped in the sandbox: setresuid fails
        if "spawn" in request:
            request["spawn"]["uid"] = 0
        return ask(self, request, fds)

    monkeypatch.setattr(Zygote, "ask", with_root_uid)
    monkeypatch.setattr(engine, "_zygote_of_this_process", [])
    try:
        assert engine._zygote(Settings(), slot).broken
        assert "grading without a zygote: its trial run failed" in capsys.readouterr().out
        execution = engine._run(Plan("x = 1", "y = x + 1"), "s01", "probe", Settings(), slot)
        assert statuses(execution) == ["ok", "ok"]
    finally:
        engine._close_zygote()


def test_the_zygote_refuses_a_request_it_does_not_know(zygote):
    assert zygote.ask({"spawn": {"main": "os", "env": {}, "uid": None}}, [0, 1, 2]) == {}
    assert zygote.ask({"nonsense": 1}) == {}
    assert os.path.exists(f"/proc/{zygote.process.pid}")
