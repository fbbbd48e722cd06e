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

from ..protocol import KINDS, Mismatch, all_passed, failure_text, misconceptions
from ..protocol.codec import decode


@dataclass
class Verdict:
    grade_id: str
    score: float | None  # None: could not be judged (the reference run failed)
    max_score: float
    message: str = ""
    flag: str = ""  # integrity finding, if any
    misconception: str = ""  # the named misconception the failing value matched, if any


def _well_formed(record):
    return isinstance(record, dict) and record.get("kind") in KINDS and isinstance(record.get("what"), str)


def _tampering(got, expected):
    """Why the student's records cannot come from an honest run of the test cell, or ''.

    A test may run more or fewer checks for a different answer (a loop over the student's
    list), so differing sequences are judged check by check, not flagged; what no honest run
    sends is a malformed record, or no record at all where the reference recorded some.
    """
    if not isinstance(got, list) or not all(_well_formed(r) for r in got):
        return "malformed check records"
    if expected and not got:
        return f"no check records where the reference sent {len(expected)}"
    return ""


def _partners(got, expected):
    """(student record, its reference record or None) in the student's order.

    The partner is the reference record at the same position when kinds (and, but for
    ``true``, names) agree, else the first unused reference record of the same kind and name.
    """
    unused = list(range(len(expected)))

    def same(mine, theirs):
        return mine["kind"] == theirs["kind"] and (mine["kind"] == "true" or mine["what"] == theirs["what"])

    for position, mine in enumerate(got):
        if position in unused and same(mine, expected[position]):
            partner = position
        else:
            partner = next((j for j in unused if same(mine, expected[j]) and mine["kind"] != "true"), None)
        if partner is not None:
            unused.remove(partner)
        yield mine, None if partner is None else expected[partner]


def _judge_values(student, reference, skeletons):
    """The judge arguments of a student record and its reference record (same kind)."""
    kind = KINDS[reference["kind"]]
    values = {name: decode(student.get(name)) for name in kind.student_fields}
    values |= {name: decode(reference.get(name)) for name in kind.reference_fields}
    if kind.name == "true" and skeletons is not None:
        values["skeletons"] = skeletons  # conditions are evaluated here, not in the student's process
    return values


def _judge_record(student, reference, skeletons):
    """Raise Mismatch unless ``student``'s values pass against ``reference``'s (same kind)."""
    KINDS[reference["kind"]].judge(**_judge_values(student, reference, skeletons))


def split_catalogue(records):
    """(check records, {what: [(wrong value, says)]}) of a reference run's records."""
    checks, catalogue = [], {}
    for record in records:
        if isinstance(record, dict) and record.get("kind") == misconceptions.RECORD_KIND:
            entry = (decode(record.get("value")), str(record.get("says", "")))
            catalogue.setdefault(str(record.get("what")), []).append(entry)
        else:
            checks.append(record)
    return checks, catalogue


def named_misconception(student, reference, catalogue):
    """The sentence of the misconception a failing student record matches, or ''."""
    known = catalogue.get(reference["what"], [])
    try:
        values = _judge_values(student, reference, None) if known else {}
    except Exception:  # a value that cannot be read is wrong, and named by nothing
        return ""
    return misconceptions.name_for(KINDS[reference["kind"]], values, known) if known else ""


def _first_opaque(value, depth=0):
    """The description of the first value the student's run could not send as plain data, or ''."""
    if depth > 200:
        return ""
    if isinstance(value, dict):
        if isinstance(value.get("__opaque__"), str):
            return value["__opaque__"][:200]
        value = list(value.values())
    if isinstance(value, list):
        return next((found for item in value if (found := _first_opaque(item, depth + 1))), "")
    return ""


def judge_test(grade_id, points, student, reference, skeletons=None):
    """Verdict for one test cell from the two runs' CellResults (student may be None).

    skeletons: the skeleton of each condition site of the test cell (``grading.predicates``);
    None judges a ``true`` record by its recorded truth (only for records of a trusted run).
    """
    if reference is None or reference.status != "ok":
        why = reference.error if reference else "did not run"
        return Verdict(grade_id, None, points, f"the reference solution failed this test: {why}")
    if student is None:
        return Verdict(grade_id, 0.0, points, "this test cell did not run")
    if student.status != "ok":
        return Verdict(grade_id, 0.0, points, student.error)
    checks, catalogue = split_catalogue(reference.records)
    return _judge_checks(grade_id, points, student, checks, catalogue, skeletons)


def _judge_checks(grade_id, points, student, reference_records, catalogue, skeletons):
    """Verdict for a test cell whose two runs both finished (see ``judge_test``)."""
    problem = _tampering(student.records, reference_records)
    if problem:
        return Verdict(
            grade_id,
            0.0,
            points,
            f"the test's records do not match: {problem}",
            flag=f"test {grade_id}: check records tampered or missing ({problem})",
        )
    opaque = _first_opaque(student.records)
    flag = f"test {grade_id}: an answer was not plain data ({opaque})" if opaque else ""
    passed, pairs = 0, list(_partners(student.records, reference_records))
    for mine, theirs in pairs:
        if theirs is None and mine["kind"] != "true":
            message = f"[{mine['question']}] the test checked {mine['what']!r}, which the reference solution never does"
            return Verdict(grade_id, 0.0, points, message, flag=flag)
        theirs = theirs or {"kind": "true", "question": mine["question"], "what": mine["what"]}  # a loop's extra
        try:
            _judge_record(mine, theirs, skeletons)
        except Mismatch as why:
            says = named_misconception(mine, theirs, catalogue)
            message = misconceptions.with_misunderstanding(str(why), says)
            message = failure_text(theirs["question"], theirs["what"], message, theirs.get("where", ""))
            return Verdict(grade_id, 0.0, points, message, flag=flag, misconception=says)
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
    if sum(partner is not None for _, partner in pairs) != len(reference_records):
        question = reference_records[0]["question"] if reference_records else grade_id
        message = (
            f"[{question}] your answer led to {len(student.records)} checks where the reference solution "
            f"runs {len(reference_records)} (all {passed} ran passed): e.g. a list of another length"
        )
        return Verdict(grade_id, 0.0, points, message, flag=flag)
    return Verdict(grade_id, float(points), points, all_passed(passed))
