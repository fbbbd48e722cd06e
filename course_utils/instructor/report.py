"""Instructor report after grading: ``grades.html`` next to ``grades.csv``.

For each assignment: the score distribution per question (plot), every student's
automatic score and grading status, and integrity flags found by comparing each
submitted notebook with the released one (deleted, duplicated or retyped grade cells,
changed tags or metadata, edited test cells, unreadable or missing notebooks).

    python -m course_utils.instructor.report ps1 [ps2 ...]      # in the course folder
"""

import base64
import html
import io
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator


@dataclass
class StudentResult:
    student: str
    scores: dict = field(default_factory=dict)  # grade_id -> (auto score or None, max points)
    pending_manual: int = 0
    flags: list = field(default_factory=list)

    @property
    def status(self):
        if not self.scores or any(score is None for score, _ in self.scores.values()):
            return "FAILED: not graded"
        return "graded"


def failed_summary(failed, n_tests):
    """'all N' when every test failed, else the failed test ids joined (or '-' for none)."""
    if failed and len(failed) == n_tests:
        return f"all {n_tests}"
    return ", ".join(failed) or "-"


def integrity_flags(root, submitted, released):
    """Differences between a submitted notebook (path relative to the course ``root``) and the
    released one (path) that grading hides.

    The same findings as the project grader's (``grading.assemble``): deleted, duplicated or
    retyped grade cells, changed tags or nbgrader metadata, edited test or locked cells; a
    submitted path that is not a plain file (a link, a FIFO...) is unreadable.
    """
    from ..grading.assemble import UnreadableNotebook, read_notebook, read_submitted_notebook, submission_flags

    name = Path(submitted).name
    try:
        cells = read_submitted_notebook(root, submitted)
    except FileNotFoundError:
        return [f"{name}: notebook missing"]
    except UnreadableNotebook as exc:  # any unreadable file is a flag, never a crash
        return [f"{name}: unreadable notebook ({exc})"]
    return submission_flags(read_notebook(released), cells)


def gradebook_results(root, assignment):
    """StudentResult per student with a submission in the gradebook: scores and pending manual grades."""
    from nbgrader.api import Gradebook  # slow import, only when results are asked for

    from ..grading.settings import load_settings

    results = {}
    settings = load_settings(root)
    with Gradebook(settings.db_url, course_id=settings.course_id) as gradebook:
        for submission in gradebook.assignment_submissions(assignment):
            result = results.setdefault(submission.student.id, StudentResult(submission.student.id))
            for notebook in submission.notebooks:
                for grade in notebook.grades:
                    if grade.cell_type == "code":
                        result.scores[grade.name] = (grade.auto_score, grade.max_score)
                    elif grade.needs_manual_grade:
                        result.pending_manual += 1
    return results


def collect(root, assignment):
    """StudentResult per submitted student, from the gradebook and the submitted notebooks."""
    root = Path(root)
    results = gradebook_results(root, assignment)
    released = sorted((root / "release" / assignment).glob("*.ipynb"))
    for student_dir in sorted((root / "submitted").glob(f"*/{assignment}")):
        result = results.setdefault(student_dir.parent.name, StudentResult(student_dir.parent.name))
        for notebook in released:
            result.flags += integrity_flags(root, student_dir.relative_to(root) / notebook.name, notebook)
    return dict(sorted(results.items()))


def _png(fig):
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", bbox_inches="tight")
    return base64.b64encode(buffer.getvalue()).decode()


def distribution_plot(results):
    """Per question: share of graded students with full marks; plus the histogram of totals."""
    graded = [r for r in results.values() if r.status == "graded"]
    questions = list(dict.fromkeys(gid for r in graded for gid in r.scores))  # notebook order
    fig = Figure(figsize=(10, max(2.5, 0.32 * len(questions) + 1)), dpi=90)
    left, right = fig.subplots(1, 2, gridspec_kw={"width_ratios": [3, 2]})
    shares = [
        np.mean([r.scores[q][0] == r.scores[q][1] for r in graded if q in r.scores]) if graded else 0 for q in questions
    ]
    left.barh(questions, shares, color="tab:blue")
    left.set(xlim=(0, 1), xlabel="share of graded students with full marks", title="per question")
    left.invert_yaxis()
    totals = [sum(s for s, _ in r.scores.values()) for r in graded]
    right.hist(totals, bins=min(10, max(1, len(set(totals)))), color="tab:green")
    right.set(xlabel="automatic points", ylabel="students", title="totals")
    right.yaxis.set_major_locator(MaxNLocator(integer=True))
    return _png(fig)


def render(assignments_results):
    """HTML page for {assignment: {student: StudentResult}}."""
    parts = [
        "<!DOCTYPE html><html><head><meta charset='utf-8'><title>Grading report</title>",
        "<style>body{font-family:sans-serif;margin:2em} td,th{padding:3px 10px;text-align:left}"
        " .bad{color:#b00;font-weight:bold} table{border-collapse:collapse}"
        " tr:nth-child(even){background:#f3f3f3}</style></head><body><h1>Grading report</h1>",
    ]
    for assignment, results in assignments_results.items():
        failed = [r.student for r in results.values() if r.status != "graded"]
        flagged = [r.student for r in results.values() if r.flags]
        parts.append(
            f"<h2>{html.escape(assignment)}</h2><p>{len(results)} submissions; "
            f"<span class='{'bad' if failed else ''}'>{len(failed)} failed to grade</span>; "
            f"<span class='{'bad' if flagged else ''}'>{len(flagged)} with integrity flags</span></p>"
        )
        parts.append(
            f"<img alt='score distribution of {html.escape(assignment)}' "
            f"src='data:image/png;base64,{distribution_plot(results)}'>"
        )
        parts.append(
            "<table><tr><th>student</th><th>automatic</th><th>manual pending</th>"
            "<th>status</th><th>failed tests</th><th>integrity flags</th></tr>"
        )
        for r in results.values():
            got = sum(s or 0 for s, _ in r.scores.values())
            out_of = sum(p for _, p in r.scores.values())
            failing = [g for g, (s, p) in r.scores.items() if s is not None and s < p]
            status = html.escape(r.status)
            parts.append(
                f"<tr><td>{html.escape(r.student)}</td><td>{got:g}/{out_of:g}</td><td>{r.pending_manual}</td>"
                f"<td class='{'' if r.status == 'graded' else 'bad'}'>{status}</td>"
                f"<td>{html.escape(failed_summary(failing, len(r.scores)))}</td>"
                f"<td class='bad'>{html.escape('; '.join(r.flags))}</td></tr>"
            )
        parts.append("</table>")
    parts.append("</body></html>")
    return "\n".join(parts)


def write_report(root, assignments):
    root = Path(root)
    target = root / "grades.html"
    target.write_text(render({a: collect(root, a) for a in assignments}))
    return target


if __name__ == "__main__":
    from .commands import course_root

    print(f"report: {write_report(course_root(), sys.argv[1:])}")
