"""The grader against 40 attacks and 11 honest-but-different solutions, all in ONE run.

A scratch course gets the `guard` assignment (tests/grading/course), released by stock
`nbgrader generate_assignment`; every submission of `submissions.py` is written into
submitted/, and `python -m course_utils.grading.cli grade guard --workers 2` grades them all
in the sandbox. Then, per submission: the status, every test's score in nbgrader's own
gradebook, and the integrity CSV.
"""

import csv
from pathlib import Path

import pytest
from scratch import course, gradebook_scores, make_course, submit
from submissions import EVERY_TEST as TESTS
from submissions import HONEST, POINTS, attacks


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    root = make_course(tmp_path_factory.mktemp("course"))
    submit(root, attacks(root) + HONEST)
    run = course(root, "grade", "guard", "--workers", "2", "--cell-timeout", "10", "--judge-timeout", "5")
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    from course_utils.grading.store import Store

    statuses = Store(f"sqlite:///{root / 'gradebook.db'}").statuses("guard")
    with open(root / "integrity-guard.csv") as f:
        integrity = list(csv.DictReader(f))
    return {
        "root": root,
        "statuses": statuses,
        "scores": gradebook_scores(root),
        "integrity": integrity,
        "log": run.stdout,
    }


ATTACKS = [a.name for a in attacks(Path("/course"))]


@pytest.mark.parametrize("name", ATTACKS)
def test_attack_gains_nothing_and_is_reported(graded, name):
    attack = next(a for a in attacks(graded["root"]) if a.name == name)
    status = graded["statuses"][name]
    assert status["status"] == attack.status, (status, graded["log"])
    scores = graded["scores"].get(name)
    if attack.status == "graded":
        for test in TESTS:
            expected = 0 if test in attack.zero else POINTS[test]
            assert scores[test] == expected, f"{name}: {test} scored {scores[test]}, expected {expected}; {status}"
    else:
        assert not scores or all(scores.get(t, 0) == 0 for t in attack.zero)
    findings = [row["finding"] for row in graded["integrity"] if row["student"] == name]
    if attack.finding:  # a wrong answer of the wrong kind needs no finding, only its 0
        assert any(attack.finding in f for f in findings), f"{name}: no finding with {attack.finding!r} in {findings}"


@pytest.mark.parametrize("name", [h.name for h in HONEST])
def test_honest_variant_keeps_full_marks_and_no_finding(graded, name):
    assert graded["statuses"][name]["status"] == "graded", graded["statuses"][name]
    assert graded["scores"][name] == {**{t: POINTS[t] for t in TESTS}, "why_max": 0}
    assert graded["statuses"][name]["flags"] == []


def test_honest_students_are_not_held_up_by_hostile_ones(graded):
    """Every honest student is graded within a bound set by the budgets, not by its neighbours.

    Not a speed target: a stall (a worker waiting on a hostile answer) would take minutes.
    """
    times = {
        line.split(":")[0].strip(): float(line.rsplit(",", 1)[1].split()[0])
        for line in graded["log"].splitlines()
        if line.startswith("  ") and line.rstrip().endswith(" s")
    }
    assert all(times[h.name] < 120 for h in HONEST), times


def test_at_least_30_attacks_and_10_honest_variants():
    assert len(ATTACKS) >= 30 and len(HONEST) >= 10


def test_integrity_csv_has_a_row_per_flagged_student(graded):
    flagged = {row["student"] for row in graded["integrity"]}
    expected = {a.name for a in attacks(graded["root"]) if a.finding}
    assert expected <= flagged and not flagged & {h.name for h in HONEST}
