"""What the class got wrong: per question, the common wrong answers and the misconceptions behind them.

Read from what grading already wrote, as plain text, never evaluated: each failed test's
message (``[question] what: expected E, got G (...)``, then ``likely misunderstanding: ...``
when the grader named a misconception, see ``protocol.misconceptions``). The project grader
writes its verdicts to ``feedback/<student>/<assignment>/grading_report.txt``; stock nbgrader
leaves them in the autograded notebooks' error outputs.

Per question (test cell): the share of students with full marks; the wrong answers grouped
into clusters, one per named misconception, the others by value (a student's value within the
check's tolerance of a cluster's first value joins it; values shown only as ``...`` are
grouped by their text); and how many wrong answers no misconception explains.

    wrong_answers(root, assignment) -> {student: {grade_id: FailedAnswer}}
    summarise(results, answers) -> [QuestionSummary]
"""

import html
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..protocol.misconceptions import LEAD

HEAD = re.compile(r"^\[(?P<question>[^\]\n]*)\] (?P<what>[^\n]*?): (?P<why>[^\n]*)")
GOT = re.compile(r"\bgot (?P<got>.*?)(?: \(max relative error [^)]*> (?P<rtol>[0-9.e+-]+)\))?$")
NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|[-+]?inf|nan")
REPORT_LINE = re.compile(
    r"^(?P<notebook>\S+) (?P<grade_id>\S+): (?P<score>[\d.?]+)/(?P<points>[\d.]+)  (?P<message>.*)$"
)
NOT_NUMBERS = re.compile(r"[a-df-zA-DF-Z_]")  # letters other than an exponent's e
MAX_TEXT = 300  # characters of a wrong value kept for display and grouping
DEFAULT_RTOL = 1e-6


@dataclass
class FailedAnswer:
    """One failed test of one student, as its message states it."""

    question: str
    what: str
    got: str  # the value as the message printed it ('' when the message states none)
    rtol: float
    says: str  # the named misconception's sentence, '' when none matched

    @property
    def numbers(self):
        """The printed value as floats, or None when it is not (or not fully) printed numbers."""
        if not self.got or "..." in self.got or NOT_NUMBERS.search(self.got.replace("inf", "").replace("nan", "")):
            return None
        found = NUMBER.findall(self.got)
        return np.array([float(n) for n in found]) if found else None


def parse_failure(message):
    """The FailedAnswer a failure message states, or None when it is not a check's failure."""
    head = HEAD.match(message or "")
    if not head:
        return None
    got = GOT.search(head["why"])
    says = message.split(LEAD, 1)[1].splitlines()[0].strip() if LEAD in message else ""
    rtol = float(got["rtol"]) if got and got["rtol"] else DEFAULT_RTOL
    return FailedAnswer(head["question"], head["what"], (got["got"] if got else "")[:MAX_TEXT], rtol, says)


def _report_messages(text):
    """{grade_id: message} of the failed tests of a grading_report.txt (messages span lines)."""
    messages, current = {}, None
    for line in text.splitlines():
        row = REPORT_LINE.match(line)
        if row:
            failed = row["score"] != "?" and float(row["score"]) < float(row["points"])
            current = row["grade_id"] if failed else None
            if current:
                messages[current] = row["message"]
        elif current and line.startswith("  "):
            messages[current] += "\n" + line
        else:
            current = None
    return messages


def _notebook_messages(path):
    """{grade_id: message} of the grade cells of an autograded notebook that ended in an error."""
    messages = {}
    for cell in json.loads(Path(path).read_text()).get("cells", []):
        grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        errors = [o for o in cell.get("outputs", []) if isinstance(o, dict) and o.get("output_type") == "error"]
        if grade_id and errors and isinstance(errors[0].get("evalue"), str):
            messages[grade_id] = errors[0]["evalue"]
    return messages


def failure_messages(root, assignment, student):
    """{grade_id: message}: the project grader's report when there is one, else the autograded notebooks."""
    report = Path(root) / "feedback" / student / assignment / "grading_report.txt"
    if report.is_file():
        return _report_messages(report.read_text(errors="replace"))
    messages = {}
    for notebook in sorted((Path(root) / "autograded" / student / assignment).glob("*.ipynb")):
        messages |= _notebook_messages(notebook)
    return messages


def wrong_answers(root, assignment, students):
    """{student: {grade_id: FailedAnswer}} for the failed tests whose message names a check."""
    found = {}
    for student in students:
        parsed = {gid: parse_failure(m) for gid, m in failure_messages(root, assignment, student).items()}
        found[student] = {gid: answer for gid, answer in parsed.items() if answer}
    return found


@dataclass
class Cluster:
    """Students who gave the same wrong answer (or one the same misconception explains)."""

    what: str
    got: str
    says: str
    students: list = field(default_factory=list)
    numbers: object = None

    def takes(self, answer):
        """Does ``answer`` belong here: same misconception, or same check and a value within tolerance?"""
        if self.says or answer.says:
            return self.says == answer.says
        if self.what != answer.what:
            return False
        mine, theirs = self.numbers, answer.numbers
        if mine is None or theirs is None:
            return self.got == answer.got
        return mine.shape == theirs.shape and bool(np.allclose(theirs, mine, rtol=answer.rtol, atol=1e-12))


@dataclass
class QuestionSummary:
    grade_id: str
    graded: int
    full_marks: int
    clusters: list  # [Cluster], largest first
    unmatched: int  # wrong answers no misconception explains

    @property
    def wrong(self):
        return sum(len(c.students) for c in self.clusters)


def cluster(answers):
    """[Cluster] of {student: FailedAnswer}, largest first (ties: first seen)."""
    clusters = []
    for student, answer in answers.items():
        home = next((c for c in clusters if c.takes(answer)), None)
        if home is None:
            home = Cluster(answer.what, answer.got, answer.says, numbers=answer.numbers)
            clusters.append(home)
        home.students.append(student)
    return sorted(clusters, key=lambda c: -len(c.students))


def summarise(results, answers):
    """[QuestionSummary] per test cell of the graded students (``results``: report.StudentResult by student)."""
    graded = {s: r for s, r in results.items() if r.status == "graded"}
    questions = list(dict.fromkeys(gid for r in graded.values() for gid in r.scores))
    summaries = []
    for gid in questions:
        scored = {s: r.scores[gid] for s, r in graded.items() if gid in r.scores}
        failed = {s: answers.get(s, {}).get(gid) for s, (score, points) in scored.items() if score < points}
        stated = {s: a for s, a in failed.items() if a is not None}
        full = sum(score == points for score, points in scored.values())
        unmatched = len(failed) - sum(1 for a in stated.values() if a.says)
        summaries.append(QuestionSummary(gid, len(scored), full, cluster(stated), unmatched))
    return summaries


def _percent(n, total):
    return f"{100 * n / total:.0f}%" if total else "-"


def _cluster_item(c, graded):
    share = f"{_percent(len(c.students), graded)} ({len(c.students)})"
    if c.says:
        return f"<li><b>{share}</b>: {html.escape(c.says)}</li>"
    value = html.escape(c.got) if c.got else "no value stated"
    return f"<li>{share}: <code>{html.escape(c.what)}</code> = {value}</li>"


def render_section(summaries, top=3):
    """The 'What the class got wrong' table of one assignment (HTML)."""
    rows = []
    for q in summaries:
        if not q.graded or q.full_marks == q.graded:
            continue
        items = "".join(_cluster_item(c, q.graded) for c in q.clusters[:top])
        more = len(q.clusters) - top
        items += f"<li>{more} other answers</li>" if more > 0 else ""
        rows.append(
            f"<tr><td>{html.escape(q.grade_id)}</td><td>{_percent(q.full_marks, q.graded)}</td>"
            f"<td><ul>{items}</ul></td><td>{q.unmatched}</td></tr>"
        )
    if not rows:
        return "<h3>What the class got wrong</h3><p>every graded student has full marks on every question</p>"
    return (
        "<h3>What the class got wrong</h3><table><tr><th>question</th><th>full marks</th>"
        "<th>most common wrong answers (share of graded students)</th><th>wrong, no misconception named</th></tr>"
        + "".join(rows)
        + "</table>"
    )
