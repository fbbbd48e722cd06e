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

from ..protocol import KINDS, Mismatch, failure_text
from ..protocol.codec import decode


@dataclass
class Verdict:
    grade_id: str
    score: float | None  # None: could not be judged (the reference run failed)
    max_score: float
    message: str = ""
    flag: str = ""  # integrity finding, if any


def _well_formed(record):
    return isinstance(record, dict) and record.get("kind") in KINDS and isinstance(record.get("what"), str)


def _sequence_problem(got, expected):
    """Why the student's records do not line up with the reference's, or ''."""
    if not all(_well_formed(r) for r in got):
        return "malformed check records"
    if [r["kind"] for r in got] != [r["kind"] for r in expected]:
        return (
            f"{len(got)} check records of kinds {[r['kind'] for r in got][:8]}, expected "
            f"{len(expected)} of kinds {[r['kind'] for r in expected][:8]}"
        )
    for mine, theirs in zip(got, expected):
        if mine["kind"] != "true" and mine["what"] != theirs["what"]:
            return f"check {mine['what']!r} where {theirs['what']!r} was expected"
    return ""


def _judge_record(student, reference):
    """Raise Mismatch unless ``student``'s values pass against ``reference``'s (same kind)."""
    kind = KINDS[reference["kind"]]
    values = {name: decode(student.get(name)) for name in kind.student_fields}
    values |= {name: decode(reference.get(name)) for name in kind.reference_fields}
    kind.judge(**values)


def judge_test(grade_id, points, student, reference):
    """Verdict for one test cell from the two runs' CellResults (student may be None)."""
    if reference is None or reference.status != "ok":
        why = reference.error if reference else "did not run"
        return Verdict(grade_id, None, points, f"the reference solution failed this test: {why}")
    if student is None:
        return Verdict(grade_id, 0.0, points, "this test cell did not run")
    if student.status != "ok":
        return Verdict(grade_id, 0.0, points, student.error)
    problem = _sequence_problem(student.records, reference.records)
    if problem:
        return Verdict(
            grade_id,
            0.0,
            points,
            f"the test's records do not match: {problem}",
            flag=f"test {grade_id}: check records tampered or missing ({problem})",
        )
    opaque = [r.get("got", {}).get("__opaque__") for r in student.records if isinstance(r.get("got"), dict)]
    flag = f"test {grade_id}: an answer was not plain data ({[o for o in opaque if o][0]})" if any(opaque) else ""
    passed = 0
    for mine, theirs in zip(student.records, reference.records):
        try:
            _judge_record(mine, theirs)
        except Mismatch as why:
            message = failure_text(theirs["question"], theirs["what"], str(why), theirs.get("where", ""))
            return Verdict(grade_id, 0.0, points, message, flag=flag)
        except Exception as exc:  # a value that cannot be compared is a wrong value, never a crash
            why = f"{type(exc).__name__}: {str(exc)[:200]}"
            return Verdict(
                grade_id,
                0.0,
                points,
                f"could not compare a value your code produced ({why})",
                flag=f"test {grade_id}: an answer could not be read ({why})",
            )
        passed += 1
    return Verdict(grade_id, float(points), points, f"all {passed} checks passed")
