"""``course export --format canvas|moodle``: the gradebook as the CSV each LMS's grade import reads.

Both come from ``Store.rows`` (scores after the late penalty, as ``course export`` and ``course
publish``); one column per assignment, one row per student. A score is written only when it is
final; missing work and pending manual grades stay EMPTY cells, never 0 (docs/lms.md says what
each LMS does with them):

- **canvas**: Canvas's gradebook import layout: ``Student`` ("Last, First"), ``ID`` (Canvas's own
  user id, unknown here: empty), ``SIS User ID`` (the student id), ``SIS Login ID`` (the email),
  ``Section``, then one column per assignment named ``<assignment>`` (a new assignment on import;
  rename it to ``<name> (<Canvas assignment id>)`` to fill an existing one: ``--canvas-ids``),
  after a ``Points Possible`` row. Canvas ignores empty cells on import.
- **moodle**: Moodle's "Import grades from CSV": ``ID number`` (the student id), ``Email address``,
  ``First name``, ``Last name``, then per assignment a grade column ``<assignment>`` and a feedback
  column ``<assignment> feedback`` ("missing", "pending: N points to grade by hand", the late
  penalty). On import, map ``ID number`` (or email) to the user and each column to its grade item or
  its feedback; an empty grade cell is skipped, not zeroed.
"""

import csv

from ..grading.store import _csv_value

FORMATS = ("canvas", "moodle")
CANVAS_FIXED = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
MOODLE_FIXED = ["ID number", "Email address", "First name", "Last name"]


def final_score(row):
    """The score to import (after the late penalty), or None while missing, pending or failed."""
    if row["score"] is None or _csv_value("score_is_final", row) != "yes":
        return None
    return row["score"]


def note(row):
    """Why a cell is empty, or the late penalty (Moodle's feedback column)."""
    if row["score"] is None:
        return row["status"]  # missing, not submitted yet, failed: <reason>
    if row["status"] == "failed":
        return f"grading failed: {row['reason'] or 'no reason given'}"
    if row["pending_manual_points"]:
        return f"pending: {row['pending_manual_points']:g} points to grade by hand"
    penalty = row["late_submission_penalty"] or 0
    return f"late penalty {penalty:g} points" if penalty else ""


def _number(value):
    return "" if value is None else f"{value:.6g}"


def _table(rows, assignments):
    """(assignment names in order, {student: {assignment: row}}, {assignment: max score})."""
    names = assignments or sorted({row["assignment"] for row in rows})
    by_student, top = {}, {}
    for row in rows:
        if row["assignment"] in names:
            by_student.setdefault(row["student"], {})[row["assignment"]] = row
            top[row["assignment"]] = row["max_score"]
    return names, dict(sorted(by_student.items())), top


def write_canvas(path, rows, assignments=None, canvas_ids=None):
    """Canvas's gradebook import CSV (module doc); ``canvas_ids``: {assignment: Canvas assignment id}."""
    names, students, top = _table(rows, assignments)
    header = [f"{n} ({canvas_ids[n]})" if canvas_ids and n in canvas_ids else n for n in names]
    with open(path, "w", newline="", encoding="utf-8") as handle:
        out = csv.writer(handle)
        out.writerow(CANVAS_FIXED + header)
        out.writerow(["Points Possible", "", "", "", ""] + [_number(top.get(n)) for n in names])
        for student, by_name in students.items():
            person = next(iter(by_name.values()))
            name = ", ".join(p for p in (person["last_name"], person["first_name"]) if p) or student
            cells = [_number(final_score(by_name[n])) if n in by_name else "" for n in names]
            out.writerow([name, "", student, person["email"] or "", ""] + cells)
    return len(students)


def write_moodle(path, rows, assignments=None):
    """Moodle's grade import CSV (module doc): a grade and a feedback column per assignment."""
    names, students, _ = _table(rows, assignments)
    with open(path, "w", newline="", encoding="utf-8") as handle:
        out = csv.writer(handle)
        out.writerow(MOODLE_FIXED + [c for n in names for c in (n, f"{n} feedback")])
        for student, by_name in students.items():
            person = next(iter(by_name.values()))
            cells = []
            for n in names:
                row = by_name.get(n)
                cells += [_number(final_score(row)), note(row)] if row else ["", ""]
            out.writerow(
                [student, person["email"] or "", person["first_name"] or "", person["last_name"] or ""] + cells
            )
    return len(students)


def write(path, rows, lms, assignments=None, canvas_ids=None):
    """Write ``lms``'s CSV (one of FORMATS); returns the number of students."""
    if lms == "canvas":
        return write_canvas(path, rows, assignments, canvas_ids)
    if lms == "moodle":
        return write_moodle(path, rows, assignments)
    raise ValueError(f"unknown format {lms!r}: one of {', '.join(FORMATS)}")
