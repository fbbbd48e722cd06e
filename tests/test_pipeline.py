"""The grading round trip, end to end with stock nbgrader, in a scratch copy of the course.

One `make demo`-equivalent run per assignment (a class-scoped fixture, so that with
`pytest-xdist --dist loadscope` assignments are graded on different workers), the first
assignment run twice to prove the demo is rerunnable; then the release, scores, feedback,
export and report are checked against the bundled examples' expectations
(examples/<assignment>/<student>/expected.json).
"""

import csv
import json
import os
import re
import shutil
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import nbformat
import pytest

from course_utils.instructor.demo import scores_by_cell
from course_utils.instructor.report import collect
from course_utils.protocol.misconceptions import LEAD

REPO = Path(__file__).resolve().parent.parent
# COURSE_ASSIGNMENTS="ps1 ps2" restricts the round trip to some assignments while authoring.
ASSIGNMENTS = os.environ.get("COURSE_ASSIGNMENTS", "").split() or sorted(
    p.name for p in (REPO / "source").iterdir() if p.is_dir()
)
pytestmark = pytest.mark.pipeline

# Example submissions graded by stock nbgrader only with --full (make test-full), and why: on 2 cores
# a stock run costs 10-35 s per example, and make test keeps per assignment the blank release and
# the examples with the most planted mistakes and named misconceptions. Any other example, a new
# one included, is graded in make test.
FULL_SUITE_ONLY = {
    "reference": "make test runs every source notebook with its hidden tests under nbval (each passing "
    "test cell is a full-marks cell) and `course grade` grades ps1's reference",
    "ps2/adam-no-bias-correction": "one failing test (test_adam), a single misconception",
    "ps2/adam-wrong-bias-correction": "one failing test (test_adam)",
    "ps2/derivation-slips": "SymPy-only slips; the derivation judge is unit-tested (tests/unit/test_checks.py) "
    "and partly-wrong and structured-slips fail ps2's other kinds of checks",
    "ps3/sympy-and-report-slips": "9 failures, one named; partly-wrong fails 21 tests and names 10",
    "ps4/conventions": "17 failures, one named; seed-answers and slips name 10",
    "ps5/derivation-slips": "SymPy-only slips, none named; partly-wrong and seed-slips name 5",
}


def graded_examples(assignment, full):
    """Names of the examples the round trip grades: all with --full, else those not in FULL_SUITE_ONLY."""
    names = sorted(p.name for p in (REPO / "examples" / assignment).iterdir() if p.is_dir())
    return [n for n in names if full or not ({n, f"{assignment}/{n}"} & FULL_SUITE_ONLY.keys())]


def run_demo(course, assignments, jobs):
    """The demo in a scratch course; jobs: nbgrader commands at once (COURSE_DEMO_JOBS)."""
    result = subprocess.run(
        [sys.executable, "-m", "course_utils.instructor.demo", "all", *assignments],
        cwd=course,
        capture_output=True,
        text=True,
        env=dict(os.environ, COURSE_DEMO_JOBS=str(jobs)),
    )
    assert result.returncode == 0, f"demo failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result.stdout, result.stderr


def table_of(output, assignment):
    """The score table the demo printed for one assignment."""
    section = output[output.index(f"== {assignment}:") :]
    return section[: section.index("\n\n")] if "\n\n" in section else section


def expected(assignment, student):
    return json.loads((REPO / "examples" / assignment / student / "expected.json").read_text())


def expected_failures(assignment, student, test_ids):
    spec = expected(assignment, student)
    return set(test_ids) if spec["fail"] == "all" else set(spec["fail"])


HIDDEN_BLOCK = re.compile(r"### BEGIN HIDDEN TESTS\n(.*?)### END HIDDEN TESTS", re.S)
SLOW_CELL = 30  # seconds; grading-mode budgets keep every cell far below this


def cell_label(cell, index):
    first_line = cell.source.strip().splitlines()[0][:60]
    return cell.metadata.get("nbgrader", {}).get("grade_id") or f"cell {index} ({first_line})"


def stamps(cell):
    """The times nbclient recorded for one cell, earliest first (none if it did not run)."""
    return sorted(datetime.fromisoformat(t) for t in cell.metadata.get("execution", {}).values())


def cell_seconds(nb):
    """[(cell label, seconds)] for each executed cell, from the timing metadata nbclient records.

    The stamps (busy, execute_input, idle, execute_reply) come from the kernel, so a wait of the
    grader after the kernel has finished a cell shows only before the next cell starts: a cell's
    time runs from its first stamp to the next executed cell's first stamp.
    """
    runs = [(cell_label(cell, index), stamps(cell)) for index, cell in enumerate(nb.cells) if stamps(cell)]
    times = []
    for k, (label, own) in enumerate(runs):
        end = max(own[-1], runs[k + 1][1][0]) if k + 1 < len(runs) else own[-1]
        times.append((label, (end - own[0]).total_seconds()))
    return times


class PipelineChecks:
    """The checks of one assignment; a TestPipeline_<assignment> subclass per assignment below."""

    assignment = None
    demo_jobs = 1  # one nbgrader command at a time: xdist's two workers already keep both cores busy

    @pytest.fixture(scope="class")
    @classmethod
    def course(cls, request, tmp_path_factory):
        """A graded scratch course holding this assignment's source, its graded examples and the roster only."""
        root = tmp_path_factory.mktemp(f"course-{cls.assignment}")
        shutil.copytree(REPO / "source" / cls.assignment, root / "source" / cls.assignment)
        for name in graded_examples(cls.assignment, request.config.getoption("full")):
            shutil.copytree(REPO / "examples" / cls.assignment / name, root / "examples" / cls.assignment / name)
        shutil.copy(REPO / "examples" / "roster.csv", root / "examples")  # the demo imports the class list
        shutil.copy(REPO / "nbgrader_config.py", root)
        output, errors = run_demo(root, [cls.assignment], cls.demo_jobs)
        examples = sorted(p for p in (root / "examples" / cls.assignment).iterdir() if p.is_dir())
        return {"root": root, "output": output, "log": (root / "demo.log").read_text() + errors, "examples": examples}

    def test_committed_release_is_what_nbgrader_generates(self, course):
        generated = sorted((course["root"] / "release" / self.assignment).rglob("*"))
        committed = sorted((REPO / "release" / self.assignment).rglob("*"))
        assert [p.relative_to(course["root"]) for p in generated] == [p.relative_to(REPO) for p in committed], (
            "release/ differs from nbgrader's output: run `make release` and commit it"
        )
        for new, old in zip(generated, committed):
            if new.suffix == ".ipynb":
                assert nbformat.read(new, 4) == nbformat.read(old, 4), f"{old} is stale: run `make release`"

    def test_release_hides_solutions_and_hidden_tests(self):
        for path in (REPO / "release" / self.assignment).glob("*.ipynb"):
            text = path.read_text()
            for marker in ("BEGIN SOLUTION", "HIDDEN TESTS", "Rubric", "Model answer"):
                assert marker not in text, f"{path} leaks {marker!r}"
        assert not list((REPO / "release").rglob("gradebook.db*"))

    def test_example_scores_are_exactly_the_expected_ones(self, course):
        scores = scores_by_cell(course["root"], self.assignment)
        assert sorted(scores) == [p.name for p in course["examples"]]
        for student, cells in scores.items():
            assert all(score is not None for score, _ in cells.values()), f"{student}: ungraded cells"
            failed = {gid for gid, (score, points) in cells.items() if score < points}
            assert failed == expected_failures(self.assignment, student, cells), student
            assert all(score in (0, points) for score, points in cells.values())

    def test_every_failure_says_where_to_look(self, course):
        """Each failed test cell of an example ends in a CheckFailed message with 'where to look'."""
        for example in course["examples"]:
            for path in (course["root"] / "autograded" / example.name / self.assignment).glob("*.ipynb"):
                for cell in nbformat.read(path, 4).cells:
                    errors = [o for o in cell.get("outputs", []) if o.output_type == "error"]
                    if cell.metadata.get("nbgrader", {}).get("grade") and errors:
                        assert errors[0].ename == "CheckFailed" and "where to look" in errors[0].evalue, (
                            f"{example.name}/{path.name}:{cell.metadata.nbgrader.grade_id}: {errors[0].evalue[:300]}"
                        )

    def test_feedback_shows_messages_but_no_hidden_tests(self, course):
        for student in ("partly-wrong", "blank"):
            for html in (course["root"] / "feedback" / student / self.assignment).glob("*.html"):
                text = html.read_text()
                assert "CheckFailed" in text and "where to look" in text
                assert "BEGIN HIDDEN TESTS" not in text

    def test_grades_csv_has_every_student(self, course):
        """One row per student: every example submission and every student of the roster (the demo imports it)."""
        with open(course["root"] / "grades.csv", newline="") as fh:
            rows = list(csv.DictReader(fh))
        with open(REPO / "examples" / "roster.csv", newline="") as fh:
            roster = {row["id"] for row in csv.DictReader(fh)}
        students = {p.name for p in course["examples"]}
        listed = sorted(r["student_id"] for r in rows if r["assignment"] == self.assignment)
        assert listed == sorted(students | roster)

    def test_announced_hidden_counts_match_the_hidden_checks(self):
        """`checking(..., hidden=N)` must tell students how many check statements are hidden."""
        for path in (REPO / "source" / self.assignment).glob("*.ipynb"):
            for cell in nbformat.read(path, 4).cells:
                if not cell.metadata.get("nbgrader", {}).get("grade") or cell.cell_type != "code":
                    continue
                announced = re.search(r"checking\(.*hidden=(\d+)\)", cell.source)
                hidden = "".join(HIDDEN_BLOCK.findall(cell.source))
                written = len(re.findall(r"^\s*check\.(?!misconception\()\w+\(", hidden, re.M))
                assert (int(announced.group(1)) if announced else 0) == written, (
                    f"{path.name}:{cell.metadata.nbgrader.grade_id} announces a different hidden count"
                )

    def test_planted_misconceptions_are_named_and_nothing_else(self, course):
        """Each example's failed test says 'likely misunderstanding: ...' exactly where expected.json's
        "named" lists it (with a phrase of the sentence); no other test of any example is labelled."""
        for example in course["examples"]:
            named = expected(self.assignment, example.name).get("named", {})
            labelled = {}
            for path in (course["root"] / "autograded" / example.name / self.assignment).glob("*.ipynb"):
                for cell in nbformat.read(path, 4).cells:
                    errors = [o.evalue for o in cell.get("outputs", []) if o.output_type == "error"]
                    if errors and LEAD in errors[0]:
                        labelled[cell.metadata.nbgrader.grade_id] = errors[0].split(LEAD, 1)[1]
            assert sorted(labelled) == sorted(named), f"{example.name}: {labelled}"
            for gid, phrase in named.items():
                assert phrase in labelled[gid], f"{example.name}:{gid}: {labelled[gid]}"
        page = (course["root"] / "grades.html").read_text()
        assert "What the class got wrong" in page
        for example in course["examples"]:
            for phrase in expected(self.assignment, example.name).get("named", {}).values():
                assert phrase.replace("'", "&#x27;") in page or phrase in page, f"grades.html does not name {phrase!r}"

    def test_catalogue_never_reaches_release_or_feedback(self, course):
        """No misconception call or sentence in the release; in feedback only the sentences an answer matched."""
        sentences = catalogue_sentences(self.assignment)
        for path in (REPO / "release" / self.assignment).glob("*.ipynb"):
            text = path.read_text()
            assert "misconception" not in text and not [s for s in sentences if s in text], path
        for html in (course["root"] / "feedback").glob(f"*/{self.assignment}/*.html"):
            text = html.read_text().replace("&#39;", "'").replace("&quot;", '"')
            assert "check.misconception" not in text, html
            named = expected(self.assignment, html.parent.parent.name).get("named", {}).values()
            shown = [s for s in sentences if s in text and not any(phrase in s for phrase in named)]
            assert not shown, f"{html}: {shown}"

    @pytest.mark.full  # the reference is graded with --full only (FULL_SUITE_ONLY)
    def test_reference_solution_runs_clean_when_graded(self, course):
        """No error and nothing on stderr in any cell (widgets, progress bars, plots included)."""
        for path in (course["root"] / "autograded" / "reference" / self.assignment).glob("*.ipynb"):
            for cell in nbformat.read(path, 4).cells:
                for output in cell.get("outputs", []):
                    assert output.output_type != "error", f"{path.name}: {output.get('evalue')}"
                    assert output.get("name") != "stderr", f"{path.name}: stderr {output.get('text')[:300]}"

    def test_no_cell_waits_long_when_graded(self, course):
        """Every executed cell of every autograded notebook takes at most SLOW_CELL seconds."""
        notebooks = sorted((course["root"] / "autograded").glob(f"*/{self.assignment}/*.ipynb"))
        times = {f"{p.parent.parent.name}/{p.name}": cell_seconds(nbformat.read(p, 4)) for p in notebooks}
        assert times and all(times.values()), "no per-cell timing in the autograded notebooks"
        slow = [
            f"{name}: {label} took {seconds:.0f} s"
            for name, cells in times.items()
            for label, seconds in cells
            if seconds > SLOW_CELL
        ]
        assert not slow, f"cells over {SLOW_CELL} s under autograde:\n" + "\n".join(slow)

    def test_no_honest_cell_is_reported_as_changed(self, course):
        """nbgrader's checksum warning appears only for a cell a student changed (no example does)."""
        changed = re.findall(r"Attribute '(\w+)' for cell (\S+) has changed", course["log"])
        assert changed == [], changed

    def test_log_has_none_of_the_warnings_fixed_at_their_source(self, course):
        """No plain-TCP warning per kernel start (kernels get CurveZMQ keys, nbgrader_config.py), no
        image without alt text in the feedback (course_utils.figure_alt describes every figure), no
        unrecognised config option (course_utils.instructor.feedback.configurable_priority) and no
        SQLAlchemy warning about nbgrader's own submission rows (nbgrader_config.py)."""
        assert "$ nbgrader autograde" in course["log"] and "$ nbgrader generate_feedback" in course["log"]
        assert "without encryption" not in course["log"]
        assert "Alternative text is missing" not in course["log"]
        assert "not recognized by" not in course["log"]
        assert "SAWarning" not in course["log"]

    def test_instructor_report_lists_every_submission(self, course):
        page = (course["root"] / "grades.html").read_text()
        assert "data:image/png;base64," in page and f"<h2>{self.assignment}</h2>" in page
        for example in course["examples"]:
            assert f"<td>{example.name}</td>" in page
        assert "0 failed to grade" in page

    def test_integrity_flags_exactly_for_the_tampered_examples(self, course):
        """Honest submissions carry no flag; examples marked "flagged" in expected.json do."""
        for student, result in collect(course["root"], self.assignment).items():
            assert bool(result.flags) == expected(self.assignment, student).get("flagged", False), (
                f"{student}: {result.flags}"
            )


def catalogue_sentences(assignment):
    """The sentences of the misconceptions declared in an assignment's source notebooks."""
    import ast

    found = []
    for path in (REPO / "source" / assignment).glob("*.ipynb"):
        for cell in nbformat.read(path, 4).cells:
            if "check.misconception(" in cell.source:
                calls = [n for n in ast.walk(ast.parse(cell.source)) if isinstance(n, ast.Call)]
                found += [c.args[2].value for c in calls if getattr(c.func, "attr", "") == "misconception"]
    return found


class RerunCheck:
    @pytest.mark.full  # a second whole demo: `make test-full`
    def test_demo_is_rerunnable(self, course):
        """A second run regrades to the same score table (first assignment only, to save time)."""
        again, _ = run_demo(course["root"], [self.assignment], self.demo_jobs)
        assert table_of(again, self.assignment) == table_of(course["output"], self.assignment)


# The first assignment is graded as `make demo` grades on 2 cores: one nbgrader command per student,
# two at a time.
for _index, _assignment in enumerate(ASSIGNMENTS):
    _bases = (RerunCheck, PipelineChecks) if _index == 0 else (PipelineChecks,)
    _jobs = 2 if _index == 0 else 1
    globals()[f"TestPipeline_{_assignment}"] = type(
        f"TestPipeline_{_assignment}", _bases, {"assignment": _assignment, "demo_jobs": _jobs}
    )
