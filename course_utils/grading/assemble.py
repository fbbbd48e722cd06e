"""What runs where: the cell plans of the student's run and of the reference run.

The student's notebook is read as plain JSON and rebuilt around the instructor's cells:
answer cells keep the student's code, every other graded or locked cell is replaced by
the instructor's version (test cells by the hidden version with expected values stripped),
and cells the student added stay in place. Metadata the student edited (tags, grade ids,
cell types, points) is never used, only reported:

    student_plan(source_cells, release_cells, submitted_cells) -> Plan  (flags say what was odd)
    submission_flags(release_cells, submitted_cells) -> the flags alone (for the stock pipeline's report)
    reference_plan(source_cells) -> Plan
"""

import functools
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from .files import NotAPlainFile, read_submitted
from .predicates import rewrite_asserts, skeletons_of
from .strip import strip_expected

MAX_NOTEBOOK_BYTES = 50 * 2**20
_MARKERS = re.compile(r"^\s*### (BEGIN|END) (SOLUTION|HIDDEN TESTS)\s*$")


class UnreadableNotebook(ValueError):
    """The submitted file is not a notebook that can be graded (message says why)."""


@dataclass
class Plan:
    cells: list  # {"index", "source", "grade_id", "role"}: code cells to run
    flags: list = field(default_factory=list)  # integrity findings, human-readable
    tests: dict = field(default_factory=dict)  # test grade_id -> points (from the source)
    shown: list = field(default_factory=list)  # every cell as graders see it: (cell dict, plan index or None)


def _text(source):
    return "".join(source) if isinstance(source, list) else str(source)


def _nbgrader(cell):
    meta = cell.get("metadata") if isinstance(cell, dict) else None
    info = meta.get("nbgrader") if isinstance(meta, dict) else None
    return info if isinstance(info, dict) else {}


def role(cell):
    """'test', 'answer', 'locked' or 'other' for an instructor cell."""
    info = _nbgrader(cell)
    if info.get("solution"):
        return "answer"
    if info.get("grade") and cell.get("cell_type") == "code":
        return "test"
    return "locked" if info.get("locked") or info.get("task") or info.get("grade") else "other"


def without_markers(source):
    return "".join(line for line in _text(source).splitlines(True) if not _MARKERS.match(line))


def read_notebook(path):
    """The cells of an instructor's notebook file (source/, release/) as dicts."""
    return parse_notebook(Path(path).read_bytes())


def read_submitted_notebook(root, relative):
    """The cells of a submitted notebook, read as a plain file only (``files.read_submitted``).

    FileNotFoundError when missing; UnreadableNotebook with the reason otherwise.
    """
    try:
        return parse_notebook(read_submitted(root, relative, MAX_NOTEBOOK_BYTES))
    except NotAPlainFile as exc:
        raise UnreadableNotebook(str(exc)) from None


def parse_notebook(data):
    """The cells of a notebook's bytes; UnreadableNotebook with the reason otherwise."""
    try:
        nb = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise UnreadableNotebook(f"not valid JSON ({str(exc)[:200]})") from None
    cells = nb.get("cells") if isinstance(nb, dict) else None
    if not isinstance(cells, list) or not all(isinstance(c, dict) for c in cells):
        raise UnreadableNotebook("no list of cells in the file")
    return cells


def _grade_id(cell):
    gid = _nbgrader(cell).get("grade_id")
    return gid if isinstance(gid, str) else None


def _tags(cell):
    tags = cell.get("metadata", {}).get("tags", []) if isinstance(cell.get("metadata"), dict) else []
    return sorted(map(str, tags)) if isinstance(tags, list) else [str(tags)]


def _compare(gid, mine, theirs):
    """Integrity flags for a student's copy ``theirs`` of the instructor's released cell ``mine``."""
    flags = []
    if theirs.get("cell_type") != mine.get("cell_type"):
        flags.append(f"cell {gid}: type changed to {theirs.get('cell_type')!r}")
    if _tags(theirs) != _tags(mine):
        flags.append(f"cell {gid}: tags changed to {_tags(theirs)}")
    kept = ("grade", "solution", "locked", "points", "task")
    if any(_nbgrader(theirs).get(k) != _nbgrader(mine).get(k) for k in kept):
        flags.append(f"cell {gid}: nbgrader metadata changed")
    if role(mine) != "answer" and _text(theirs.get("source", "")) != _text(mine.get("source", "")):
        flags.append(f"{role(mine)} cell {gid}: source edited (the instructor's version was run)")
    return flags


def test_source(cell):
    """An instructor's test cell as both runs see it: no markers, plain asserts as checks."""
    return _test_source(_text(cell["source"]), _grade_id(cell))


# The instructor's cells are the same for every student: a worker parses and rewrites each once.
@functools.lru_cache(maxsize=4096)
def _test_source(source, grade_id):
    return rewrite_asserts(without_markers(source), grade_id)


@functools.lru_cache(maxsize=4096)
def _stripped(source, grade_id):
    return strip_expected(_test_source(source, grade_id))


@functools.lru_cache(maxsize=4096)
def _skeletons(source, grade_id):
    return skeletons_of(_test_source(source, grade_id))


def _trusted_source(cell):
    """The instructor's source cell as it runs in the student's process."""
    if role(cell) == "test":
        return _stripped(_text(cell["source"]), _grade_id(cell))
    return without_markers(cell["source"])


def condition_skeletons(source_cells):
    """{test grade_id: the skeleton of each of its condition sites} (judged outside the student's run)."""
    return {_grade_id(c): _skeletons(_text(c["source"]), _grade_id(c)) for c in source_cells if role(c) == "test"}


def student_plan(source_cells, release_cells, submitted_cells):
    """Rebuild the submission around the instructor's cells (see module docstring)."""
    source = {_grade_id(c): c for c in source_cells if _grade_id(c)}
    released = {_grade_id(c): c for c in release_cells if _grade_id(c)}
    plan, seen, order = Plan([], tests=_tests(source_cells)), set(), []
    for cell in submitted_cells:
        gid = _grade_id(cell)
        if gid in released and gid not in seen:
            seen.add(gid)
            plan.flags += _compare(gid, released[gid], cell)
            mine = source[gid]
            text = _text(cell.get("source", "")) if role(mine) == "answer" else _trusted_source(mine)
            order.append((gid, mine, text))
        elif gid in released:
            plan.flags.append(f"cell {gid}: duplicated (only the first copy counts)")
        else:
            if gid:
                plan.flags.append(f"unknown grade id {gid!r} (run as an ordinary cell)")
            order.append((None, cell, _text(cell.get("source", ""))))
    for position, cell in enumerate(release_cells):  # restore deleted cells after their predecessor
        gid = _grade_id(cell)
        if gid and gid not in seen:
            plan.flags.append(f"cell {gid}: deleted (restored from the release)")
            previous = {_grade_id(c) for c in release_cells[:position]}
            at = max([i + 1 for i, (g, _, _) in enumerate(order) if g in previous], default=0)
            mine = source[gid]
            order.insert(at, (gid, mine, "" if role(mine) == "answer" else _trusted_source(mine)))
            seen.add(gid)
    for gid, mine, text in order:
        index = None
        if mine.get("cell_type") == "code":
            index = len(plan.cells)
            plan.cells.append(
                {"index": index, "source": text, "grade_id": gid, "role": role(mine) if gid else "student"}
            )
        plan.shown.append((_shown_cell(gid, mine, text, released), index))
    return plan


def _shown_cell(gid, mine, text, released):
    """A cell of the autograded notebook: the student's answers, the released instructor cells
    (so a test cell shows its visible tests), the student's own cells without nbgrader metadata."""
    cell_type = "code" if mine.get("cell_type") == "code" else "markdown"
    if gid is None:
        return {"cell_type": cell_type, "metadata": {}, "source": text}
    shown = text if role(mine) == "answer" else _text(released[gid].get("source", ""))
    return {"cell_type": cell_type, "metadata": {"nbgrader": dict(_nbgrader(released[gid]))}, "source": shown}


def submission_flags(release_cells, submitted_cells):
    """Integrity findings of a submitted notebook against the released one (cells as dicts)."""
    return student_plan(release_cells, release_cells, submitted_cells).flags


def _tests(source_cells):
    return {_grade_id(c): float(_nbgrader(c).get("points") or 0) for c in source_cells if role(c) == "test"}


def reference_plan(source_cells):
    """The instructor's notebook as the reference (judge) run executes it."""
    code = [c for c in source_cells if c.get("cell_type") == "code"]
    cells = [
        {
            "index": i,
            "source": test_source(c) if role(c) == "test" else without_markers(c["source"]),
            "grade_id": _grade_id(c),
            "role": role(c),
        }
        for i, c in enumerate(code)
    ]
    return Plan(cells, tests=_tests(source_cells))
