"""Instructor report after grading: ``grades.html`` next to ``grades.csv``.

For each assignment: the due date, the score distribution per question (plot), every student
of the roster with their name, submission time, automatic score, manual points graded or
still pending, late penalty, total (marked "not final" while manual grades are pending) and
grading status ("missing" for a roster student who submitted nothing), and integrity flags
found by comparing each submitted notebook with the released one (deleted, duplicated or
retyped grade cells, changed tags or metadata, edited test cells, unreadable or missing
notebooks), and what the class got wrong per question (``class_errors``: common wrong answers,
the misconceptions named for them). The late policy is stated with its formula; MathJax comes
from the jupyter-server-mathjax package (through the Jupyter server that shows the page, or from the
installed files when the page is opened from disk), never from a CDN.

    python -m course_utils.instructor.report [ps1 ps2 ...]   # in the course folder; none: all graded
"""

import base64
import html
import importlib.util
import io
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from ..protocol import counted
from .class_errors import render_section, summarise, wrong_answers

ABSENT = ("missing", "not submitted yet")  # statuses of a roster student with no submission (grading.store)


@dataclass
class StudentResult:
    student: str
    scores: dict = field(default_factory=dict)  # grade_id -> (auto score or None, max points)
    pending_manual: int = 0
    flags: list = field(default_factory=list)
    row: dict = field(default_factory=dict)  # the student's row of `course export` (grading.store)

    @property
    def status(self):
        if self.row.get("status") in ABSENT:
            return self.row["status"]
        if self.row.get("status") == "failed":
            return f"FAILED: {self.row.get('reason') or 'not graded'}"
        if not self.scores or any(score is None for score, _ in self.scores.values()):
            return "FAILED: not graded"
        return "graded"

    @property
    def name(self):
        """'Last, First' from the roster, '' when the gradebook has no name."""
        parts = [self.row.get("last_name"), self.row.get("first_name")]
        return ", ".join(part for part in parts if part)


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


def collect(root, assignment, rows=()):
    """StudentResult per submitted student, from the gradebook and the submitted notebooks.

    ``rows``: ``course export`` rows (``Store.rows()``); they add names, lateness, pending
    manual points and the roster students who submitted nothing ("missing").
    """
    root = Path(root)
    results = gradebook_results(root, assignment)
    released = sorted((root / "release" / assignment).glob("*.ipynb"))
    for student_dir in sorted((root / "submitted").glob(f"*/{assignment}")):
        result = results.setdefault(student_dir.parent.name, StudentResult(student_dir.parent.name))
        for notebook in released:
            result.flags += integrity_flags(root, student_dir.relative_to(root) / notebook.name, notebook)
    for row in rows:
        if row["assignment"] == assignment:
            results.setdefault(row["student"], StudentResult(row["student"])).row = row
    return dict(sorted(results.items()))


def store_rows(root):
    """Every ``course export`` row of the course's gradebook."""
    from ..grading.settings import load_settings
    from ..grading.store import Store

    settings = load_settings(root)
    with Store(settings.db_url, settings.course_id) as store:
        return store.rows()


def graded_assignments(rows):
    """Assignments with at least one submission or grading result, by due date then name."""
    names = {row["assignment"]: row["duedate"] for row in rows if row["status"] != "missing"}
    return sorted(names, key=lambda name: (names[name] is None, names[name] or 0, name))


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


def _points(value):
    return "" if value is None else f"{value:g}"


def _submitted(row):
    """When the student submitted, and how late (the gradebook's due date)."""
    stamp, due = row.get("timestamp"), row.get("duedate")
    if stamp is None:
        return ""
    late = (stamp - due).total_seconds() / 3600 if due is not None else 0
    return f"{stamp:%Y-%m-%d %H:%M}" + (f" <span class='bad'>({late:.1f} h late)</span>" if late > 0 else "")


def _total(result):
    """Score after the late penalty, out of the maximum; 'not final' while grades are pending."""
    row = result.row
    if row.get("score") is None:
        return ""
    total = f"{row['score']:g}/{_points(row.get('max_score'))}"
    return total + (" <span class='bad'>(not final)</span>" if row.get("pending_manual_points") else "")


def _student_row(result):
    """One <tr> of an assignment's table."""
    if result.status in ABSENT:
        cells = [html.escape(result.student), html.escape(result.name), "", "", "", "", ""]
        css = "bad" if result.status == "missing" else ""
        return (
            "<tr>"
            + "".join(f"<td>{c}</td>" for c in cells)
            + f"<td class='{css}'>{html.escape(result.status)}</td><td></td><td></td></tr>"
        )
    got = sum(s or 0 for s, _ in result.scores.values())
    out_of = sum(p for _, p in result.scores.values())
    failing = [g for g, (s, p) in result.scores.items() if s is not None and s < p]
    row = result.row
    pending = row.get("pending_manual_points")
    manual = f"{_points(pending)} points pending" if pending else _points(row.get("manual_score")) or "-"
    penalty = row.get("late_submission_penalty")
    cells = [
        html.escape(result.student),
        html.escape(result.name),
        _submitted(row),
        f"{got:g}/{out_of:g}",
        manual if row else str(result.pending_manual),
        f"-{penalty:g}" if penalty else "",
        _total(result),
    ]
    return (
        "<tr>"
        + "".join(f"<td>{c}</td>" for c in cells)
        + f"<td class='{'' if result.status == 'graded' else 'bad'}'>{html.escape(result.status)}</td>"
        f"<td>{html.escape(failed_summary(failing, len(result.scores)))}</td>"
        f"<td>{flags_cell(result.flags)}</td></tr>"
    )


FLAG = re.compile(r"^(?P<role>\w+ )?cell (?P<cell>[^:\s]+): (?P<kind>.+)$")


def flag_groups(flags):
    """[(kind, [cells], first flag)]: findings of one kind on several cells become one group, in order."""
    groups = {}
    for flag in flags:
        match = FLAG.match(flag)
        kind = f"{match['role'] or ''}cell: {match['kind']}" if match else flag
        groups.setdefault(kind, ([], flag))[0].extend([match["cell"]] if match else [])
    return [(kind, cells, first) for kind, (cells, first) in groups.items()]


def flags_cell(flags):
    """Integrity findings as one line per kind, the cells of a kind folded (one red word per student)."""
    if not flags:
        return ""
    lines = [
        html.escape(first)
        if len(cells) <= 1
        else f"<details><summary>{html.escape(kind)} ({len(cells)} cells)</summary>{html.escape(', '.join(cells))}"
        "</details>"
        for kind, cells, first in flag_groups(flags)
    ]
    return f"<span class='bad'>{counted(len(flags), 'finding')}</span><br>" + "<br>".join(lines)


def alarm(n, what):
    """'2 missing' in red, '0 missing' in plain text: red only for something to act on."""
    text = f"{n} {html.escape(what)}"
    return f"<span class='bad'>{text}</span>" if n else text


def mathjax_script():
    """The MathJax loader of the feedback template, with the installed package's file as fallback."""
    loader = Path(__file__).parent / "templates" / "course_feedback" / "mathjax_loader.js"
    spec = importlib.util.find_spec("jupyter_server_mathjax")
    fallback = ""
    if spec is not None:
        fallback = (Path(spec.submodule_search_locations[0]) / "static" / "MathJax.js").as_uri()
    return f"<script data-fallback='{html.escape(fallback)}'>\n{loader.read_text()}\n</script>"


def policy_paragraph(policy):
    """The late policy in words and as a formula (typeset by MathJax)."""
    if policy is None:
        return ""
    return (
        f"<p class='policy'>Late policy: {html.escape(policy.describe())} A notebook that scored $s$ points "
        f"and was submitted $t$ hours after the due date loses "
        f"$$p = s\\cdot\\min\\left({policy.max_share:g},\\ "
        f"{policy.per_day:g}\\,\\left\\lceil t/24 \\right\\rceil\\right)"
        f"\\quad\\text{{if }} t > {policy.grace_minutes / 60:g},\\qquad p = 0 \\text{{ otherwise.}}$$</p>"
    )


def render(assignments_results, policy=None, class_errors=None):
    """HTML page for {assignment: {student: StudentResult}}; ``policy``: the late policy to state;
    ``class_errors``: {assignment: [class_errors.QuestionSummary]} (what the class got wrong)."""
    parts = [
        "<!DOCTYPE html><html><head><meta charset='utf-8'><title>Grading report</title>",
        mathjax_script(),
        "<style>body{font-family:sans-serif;margin:2em} td,th{padding:3px 10px;text-align:left}"
        " .bad{color:#b00;font-weight:bold} td details{color:#555} summary{cursor:pointer}"
        " table{border-collapse:collapse}"
        " tr:nth-child(even){background:#f3f3f3}</style></head><body><h1>Grading report</h1>",
        policy_paragraph(policy),
    ]
    for assignment, results in assignments_results.items():
        failed = [r.student for r in results.values() if r.status.startswith("FAILED")]
        missing = [r.student for r in results.values() if r.status == "missing"]
        waiting = [r.student for r in results.values() if r.status == "not submitted yet"]
        flagged = [r.student for r in results.values() if r.flags]
        due = next((r.row["duedate"] for r in results.values() if r.row.get("duedate")), None)
        parts.append(
            f"<h2>{html.escape(assignment)}</h2><p>{'due ' + f'{due:%Y-%m-%d %H:%M} UTC; ' if due else ''}"
            f"{len(results) - len(missing) - len(waiting)} submissions; "
            f"{f'{len(waiting)} not submitted yet; ' if waiting else ''}"
            f"{alarm(len(missing), 'missing')}; {alarm(len(failed), 'failed to grade')}; "
            f"{alarm(len(flagged), 'with integrity flags')}</p>"
        )
        parts.append(
            f"<img alt='score distribution of {html.escape(assignment)}' "
            f"src='data:image/png;base64,{distribution_plot(results)}'>"
        )
        parts.append(
            "<table><tr><th>student</th><th>name</th><th>submitted</th><th>automatic</th><th>manual</th>"
            "<th>late penalty</th><th>total</th><th>status</th><th>failed tests</th><th>integrity flags</th></tr>"
        )
        parts += [_student_row(r) for r in results.values()]
        parts.append("</table>")
        if class_errors and assignment in class_errors:
            parts.append(render_section(class_errors[assignment]))
    parts.append("</body></html>")
    return "\n".join(parts)


def write_report(root, assignments=None, rows=None):
    """Write ``grades.html`` in the course ``root`` from the gradebook (no notebook runs).

    ``assignments``: None for every assignment with results; ``rows``: ``Store.rows()`` when
    the caller has them (``course grade``), else read here.
    """
    from ..grading.settings import load_settings
    from .late_policy import LatePolicy

    root = Path(root)
    rows = store_rows(root) if rows is None else rows
    assignments = graded_assignments(rows) if assignments is None else assignments
    policy = LatePolicy.from_settings(load_settings(root))
    target = root / "grades.html"
    results = {a: collect(root, a, rows) for a in assignments}
    errors = {a: summarise(r, wrong_answers(root, a, r)) for a, r in results.items()}
    target.write_text(render(results, policy, errors))
    return target


if __name__ == "__main__":
    from .commands import course_root

    print(f"report: {write_report(course_root(), sys.argv[1:] or None)}")
