"""The verdict on each test cell, computed outside the student's process.

Inputs are plain data: the records the student's run sent for a test cell (values its
code produced) and the records of the reference run (expected values, tolerances,
central differences). A test cell earns its points when the student's cell ran without
error and every record matches its reference record under the same rules a visible
check uses (``checks.Checker`` in normal mode). Records that do not line up with the
reference (missing, extra, renamed, malformed) score 0 and are reported as tampering,
since an honest run of the same test code sends the same sequence.

    judge_test(grade_id, points, student_cell, reference_cell) -> Verdict
"""
from dataclasses import dataclass

from .codec import decode

KINDS = ("true", "equal", "close", "gradients", "sympy")


@dataclass
class Verdict:
    grade_id: str
    score: float | None       # None: could not be judged (the reference run failed)
    max_score: float
    message: str = ""
    flag: str = ""            # integrity finding, if any


def _well_formed(record):
    return isinstance(record, dict) and record.get("kind") in KINDS and isinstance(record.get("what"), str)


def _sequence_problem(got, expected):
    """Why the student's records do not line up with the reference's, or ''."""
    if not all(_well_formed(r) for r in got):
        return "malformed check records"
    if [r["kind"] for r in got] != [r["kind"] for r in expected]:
        return f"{len(got)} check records of kinds {[r['kind'] for r in got][:8]}, expected " \
               f"{len(expected)} of kinds {[r['kind'] for r in expected][:8]}"
    for mine, theirs in zip(got, expected):
        if mine["kind"] != "true" and mine["what"] != theirs["what"]:
            return f"check {mine['what']!r} where {theirs['what']!r} was expected"
    return ""


def _gradients(check, what, student, reference, where):
    from ..gradcheck import PASS_THRESHOLD, rel_error
    analytic = decode(student.get("analytic"))
    numeric, used = decode(reference["numeric"]), decode(reference["used"])
    if not isinstance(analytic, dict):
        check._fail(what, "no gradients were sent", where)
    for name, reference_grad in numeric.items():
        import numpy as np
        given = np.asarray(analytic.get(name), dtype=float) if name in analytic else None
        if given is None or given.shape != reference_grad.shape:
            check._fail(what, f"gradient {name!r} missing or of the wrong shape", where)
        err = rel_error(given[used[name]], reference_grad[used[name]])
        if not err < PASS_THRESHOLD:
            check._fail(what, f"gradient {name!r} differs from central differences "
                              f"(relative error {err:.2e} > {PASS_THRESHOLD:.0e})", where)
    check.passed += 1


def _judge_record(check, student, reference):
    """Raise CheckFailed unless ``student``'s value passes against ``reference``."""
    kind, what, where = reference["kind"], reference["what"], reference.get("where", "")
    if kind == "true":
        if student.get("got") is not True:
            check._fail(student["what"], student.get("message") or "condition is false", where)
        check.passed += 1
    elif kind == "equal":
        check.equal(what, decode(student.get("got")), decode(reference["expected"]), where=where)
    elif kind == "close":
        check.close(what, decode(student.get("got")), decode(reference["expected"]),
                    rtol=reference["rtol"], atol=reference["atol"], where=where)
    elif kind == "sympy":
        check.sympy_equal(what, decode(student.get("got")), decode(reference["expected"]),
                          decode(reference["symbols"]), where=where, **decode(reference.get("options") or {}))
    else:
        _gradients(check, what, student, reference, where)


def judge_test(grade_id, points, student, reference):
    """Verdict for one test cell from the two runs' CellResults (student may be None)."""
    from ..checks import Checker, CheckFailed
    if reference is None or reference.status != "ok":
        why = reference.error if reference else "did not run"
        return Verdict(grade_id, None, points, f"the reference solution failed this test: {why}")
    if student is None:
        return Verdict(grade_id, 0.0, points, "this test cell did not run")
    if student.status != "ok":
        return Verdict(grade_id, 0.0, points, student.error)
    problem = _sequence_problem(student.records, reference.records)
    if problem:
        return Verdict(grade_id, 0.0, points, f"the test's records do not match: {problem}",
                       flag=f"test {grade_id}: check records tampered or missing ({problem})")
    opaque = [r.get("got", {}).get("__opaque__") for r in student.records if isinstance(r.get("got"), dict)]
    flag = f"test {grade_id}: an answer was not plain data ({[o for o in opaque if o][0]})" \
        if any(opaque) else ""
    check = Checker(reference.records[0]["question"] if reference.records else grade_id, mode="")
    try:
        for mine, theirs in zip(student.records, reference.records):
            _judge_record(check, mine, theirs)
    except CheckFailed as failure:
        return Verdict(grade_id, 0.0, points, str(failure), flag=flag)
    except Exception as exc:  # a value that cannot be compared is a wrong value, never a crash
        why = f"{type(exc).__name__}: {str(exc)[:200]}"
        return Verdict(grade_id, 0.0, points, f"could not compare a value your code produced ({why})",
                       flag=f"test {grade_id}: an answer could not be read ({why})")
    return Verdict(grade_id, float(points), points, f"all {check.passed} checks passed")
