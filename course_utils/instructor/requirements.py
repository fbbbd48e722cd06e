"""Which requirement classes a test cell's checks test, visible and hidden (an instructor's lint).

A student should never be surprised by a hidden test about a stated requirement: hidden tests
vary the inputs, they do not add requirements. So every requirement class a test cell's hidden
checks test must appear at least once among its visible checks, and Validate predicts grading.

A check call is classified from the test cell's own code (no notebook runs), by its kind and
by what it says it checks (its ``what``, answer expression and ``where``):

==============  =================================================================================
``gradient``    ``check.gradients`` (central differences)
``derivation``  ``check.derivation_matches_code`` (the student's SymPy result against their NumPy code)
``symbolic``    ``check.sympy_equal``, or an answer used as a SymPy expression (``subs``, ``has``)
``shape``       ``check.equal`` of a shape, a length or a number of items
``dtype``       a check whose name or code speaks of a dtype
``stability``   overflow, underflow, finiteness at extreme inputs ("overflow", "finite", "stable",
                "1000", "saturated", "hundreds"... in the check's name, answer or ``where``)
``property``    ``check.true`` and plain ``assert``: a condition (convexity, PSD, a certificate)
``value``       ``check.close`` / ``check.equal`` of values
==============  =================================================================================

``ENFORCED`` are the classes that are requirements of their own; ``value`` and ``property`` are
what every check is about (hidden checks vary the inputs and conditions of the same answer).

    python -m course_utils.instructor.requirements [source/ps1 ...]   # prints the gaps, if any
"""

import ast
import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path

BEGIN, END = "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"
STABILITY = re.compile(r"overflow|underflow|\bfinite|stable|\b1e3\b|1000|saturat|hundreds|large \|", re.IGNORECASE)
SHAPE = re.compile(r"\bshape|\blen\(|number of|how many|parameter tensors|length", re.IGNORECASE)
DTYPE = re.compile(r"dtype|astype", re.IGNORECASE)
SYMBOLIC = re.compile(r"\bsp\.|sympy|\.subs\(|\.has\(")
ENFORCED = frozenset({"stability", "gradient", "derivation", "symbolic", "shape", "dtype"})
METHODS = {"true", "equal", "close", "gradients", "sympy_equal", "derivation_matches_code"}


@dataclass(frozen=True)
class CheckedCell:
    """A test cell's grade id and the requirement classes of its visible and hidden checks."""

    notebook: str
    grade_id: str
    visible: frozenset
    hidden: frozenset

    @property
    def missing(self):
        """Enforced classes the hidden checks test and no visible check does."""
        return (self.hidden - self.visible) & ENFORCED


def split_hidden(source):
    """(visible code, hidden code) of a test cell: the hidden block is what lies between the markers."""
    visible, hidden, inside = [], [], False
    for line in source.splitlines():
        if line.strip() == BEGIN:
            inside = True
        elif line.strip() == END:
            inside = False
        (hidden if inside else visible).append(line)
    return "\n".join(visible), "\n".join(hidden)


def _text(node, source):
    """The source text of ``node``."""
    return ast.get_source_segment(source, node) or ""


def classify_call(method, code):
    """The requirement classes of one check call (``method``: its Checker method, ``code``: its
    ``what``, answer and ``where`` arguments, or an assert's condition, as source text)."""
    if method == "gradients":
        return {"gradient"}
    if method == "sympy_equal":
        return {"symbolic"}
    if method == "derivation_matches_code":
        return {"derivation"}
    classes = {name for name, pattern in (("stability", STABILITY), ("dtype", DTYPE)) if pattern.search(code)}
    if SYMBOLIC.search(code):
        classes.add("symbolic")  # the answer is a SymPy expression, checked as one (substituted, inspected)
    if method in ("true", "assert"):
        return classes | {"property"}
    if method == "equal" and SHAPE.search(code.split(" where=")[0]):
        return classes | {"shape"}
    return classes | {"value"}


def _calls(code):
    """(method, what and answer source) of each check call and plain ``assert`` in ``code``."""
    code = _dedent_block(code)
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return []
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in METHODS:
            if isinstance(node.func.value, ast.Name) and node.func.value.id == "check":
                where = [_text(k.value, code) for k in node.keywords if k.arg == "where"]
                found.append((node.func.attr, " ".join([_text(a, code) for a in node.args[:2]] + where)))
        elif isinstance(node, ast.Assert):
            found.append(("assert", _text(node.test, code)))
    return found


def _dedent_block(code):
    """Code of a ``with checking(...)`` body taken out of its block: wrapped so that it parses."""
    return "if True:\n" + "\n".join("    " + line for line in code.splitlines()) if code.strip() else ""


def classes_of(code):
    """The union of the requirement classes of the check calls in ``code``."""
    return frozenset().union(*(classify_call(m, c) for m, c in _calls(code))) if code.strip() else frozenset()


def checked_cells(notebook):
    """A CheckedCell for each test cell with hidden tests of a source notebook (path)."""
    cells = json.loads(Path(notebook).read_text())["cells"]
    for cell in cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        source = "".join(cell["source"])
        if cell["cell_type"] != "code" or not meta.get("grade") or meta.get("solution") or BEGIN not in source:
            continue
        visible, hidden = split_hidden(source)
        yield CheckedCell(Path(notebook).name, meta["grade_id"], classes_of(visible), classes_of(hidden))


def gaps(folders):
    """Test cells of the notebooks under ``folders`` whose hidden checks test a class no visible one does."""
    return [
        cell
        for folder in folders
        for nb in sorted(Path(folder).glob("*.ipynb"))
        for cell in checked_cells(nb)
        if cell.missing
    ]


if __name__ == "__main__":
    folders = sys.argv[1:] or sorted(str(p) for p in Path("source").iterdir() if p.is_dir())
    for cell in gaps(folders):
        print(f"{cell.notebook} {cell.grade_id}: hidden tests {sorted(cell.missing)} not among the visible checks")
