"""``course publish <assignment>``: the gradebook's scores to the LMS line item, through LTI AGS.

From the gradebook only (``Store.rows``, after ``refresh_late_penalties``: the scores ``course
export`` shows, automatic + manual, late penalty applied), per student of the assignment:

- final (graded, no manual points pending): ``scoreGiven`` = the score after the late penalty,
  ``scoreMaximum``, ``gradingProgress`` FullyGraded, ``activityProgress`` Completed;
- manual points pending, or grading failed: no ``scoreGiven``; PendingManual / Submitted and a
  comment saying why (the LMS shows it as waiting for a grade, never as a final score);
- no submission (missing, not submitted yet): nothing is sent; the student is listed as not posted.

Every score sent, refused or failed is appended to the record (``c.CourseLMS.record``,
``lms-scores.csv``: when, what, outcome). A score identical to the last one posted for that student
and line item is not sent again (``--force`` sends it anyway; AGS replaces a user's score, so
nothing duplicates). A student the LMS refuses (not a member of the course: HTTP 400/404/422) is
reported and recorded; requests that fail for a while are retried, then reported as failed: the
gradebook is untouched either way, and the next ``course publish`` sends what did not go through.
"""

import csv
import hashlib
import json
from datetime import datetime, timezone
from pathlib import Path

from ..grading.store import _csv_value

RECORD_COLUMNS = [
    "posted_at",
    "assignment",
    "student",
    "lti_user_id",
    "line_item",
    "grading_progress",
    "score_given",
    "score_maximum",
    "outcome",
    "detail",
    "fingerprint",
]


def read_user_map(path):
    """{student: lti_user_id} of a CSV with columns student,lti_user_id (ValueError naming a bad line)."""
    with open(path, newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        if not {"student", "lti_user_id"} <= set(reader.fieldnames or []):
            raise ValueError(f"{path}: the header must name the columns student,lti_user_id")
        mapping = {}
        for line, row in enumerate(reader, start=2):
            if not row["student"] or not row["lti_user_id"]:
                raise ValueError(f"{path} line {line}: empty student or lti_user_id")
            mapping[row["student"].strip()] = row["lti_user_id"].strip()
    return mapping


def score_of(row, user_id):
    """The AGS score (dict, without timestamp) of one gradebook row, or None when there is nothing to send."""
    if row["score"] is None:
        return None
    if _csv_value("score_is_final", row) == "yes":
        score = {
            "userId": user_id,
            "scoreGiven": round(row["score"], 6),
            "scoreMaximum": row["max_score"],
            "activityProgress": "Completed",
            "gradingProgress": "FullyGraded",
        }
        penalty = row["late_submission_penalty"] or 0
        return score | ({"comment": f"late penalty: {penalty:g} points"} if penalty else {})
    why = (
        f"grading failed ({row['reason'] or 'no reason given'}); the instructor reviews it"
        if row["status"] == "failed"
        else f"{row['pending_manual_points']:g} points wait for manual grading"
    )
    return {"userId": user_id, "activityProgress": "Submitted", "gradingProgress": "PendingManual", "comment": why}


def fingerprint(line_item, score):
    """A digest of what was sent (the timestamp left out): equal digests = nothing new to send."""
    return hashlib.sha256(json.dumps([line_item, score], sort_keys=True).encode()).hexdigest()[:16]


class Record:
    """The append-only CSV of every score sent (``RECORD_COLUMNS``), and what was last posted."""

    def __init__(self, path):
        self.path = Path(path)

    def last_posted(self, assignment):
        """{student: fingerprint} of the last score the LMS accepted for each student of ``assignment``."""
        if not self.path.exists():
            return {}
        with open(self.path, newline="", encoding="utf-8") as handle:
            rows = [r for r in csv.DictReader(handle) if r["assignment"] == assignment and r["outcome"] == "posted"]
        return {r["student"]: r["fingerprint"] for r in rows}

    def append(self, **values):
        """One row, flushed to disk before the next score is sent."""
        new = not self.path.exists() or self.path.stat().st_size == 0
        with open(self.path, "a", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, RECORD_COLUMNS)
            if new:
                writer.writeheader()
            writer.writerow({column: values.get(column, "") for column in RECORD_COLUMNS})
            handle.flush()


def now_iso():
    """AGS timestamps: ISO 8601 with milliseconds and the UTC offset."""
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


def publish(rows, assignment, client, record, user_map=None, force=False, log=print):
    """Send ``assignment``'s scores of ``rows`` (``Store.rows``) to the LMS; returns the summary dict.

    Summary: {posted, unchanged, not_posted, rejected, failed}: lists of student ids.
    """
    from .ags import AGSError

    rows = [row for row in rows if row["assignment"] == assignment]
    if not rows or rows[0]["max_score"] is None:
        raise ValueError(f"{assignment}: not in the gradebook (run nbgrader generate_assignment first)")
    item = client.line_item(assignment, rows[0]["max_score"])
    done = {} if force else record.last_posted(assignment)
    summary = {key: [] for key in ("posted", "unchanged", "not_posted", "rejected", "failed")}
    for row in rows:
        student = row["student"]
        score = score_of(row, (user_map or {}).get(student, student))
        if score is None:
            summary["not_posted"].append(student)
            log(f"  {student}: {row['status']}, nothing to send")
            continue
        digest = fingerprint(item["id"], score)
        if done.get(student) == digest:
            summary["unchanged"].append(student)
            log(f"  {student}: unchanged since last posted")
            continue
        outcome, detail = _send(client, item, score, AGSError)
        record.append(
            posted_at=now_iso(),
            assignment=assignment,
            student=student,
            lti_user_id=score["userId"],
            line_item=item["id"],
            grading_progress=score["gradingProgress"],
            score_given=score.get("scoreGiven", ""),
            score_maximum=score.get("scoreMaximum", ""),
            outcome=outcome,
            detail=detail,
            fingerprint=digest,
        )
        summary[outcome].append(student)
        shown = f"{score['scoreGiven']:g}/{score['scoreMaximum']:g}" if "scoreGiven" in score else "no score"
        log(f"  {student}: {score['gradingProgress']} {shown}: {outcome}{f' ({detail})' if detail else ''}")
    return summary


def _send(client, item, score, AGSError):
    """('posted', '') or ('rejected' | 'failed', why) for one score."""
    try:
        client.post_score(item, score | {"timestamp": now_iso()})
    except AGSError as exc:
        if exc.status is not None and 400 <= exc.status < 500:
            return "rejected", f"the LMS refused it: {exc}"
        return "failed", str(exc)
    return "posted", ""


def describe(summary, assignment):
    """One line: how many scores went where, naming the students who need attention."""
    parts = [f"{len(summary['posted'])} posted", f"{len(summary['unchanged'])} unchanged"]
    for key, label in (("not_posted", "no score to send"), ("rejected", "refused by the LMS"), ("failed", "failed")):
        if summary[key]:
            parts.append(f"{len(summary[key])} {label}: {', '.join(summary[key])}")
    return f"{assignment}: " + "; ".join(parts)
