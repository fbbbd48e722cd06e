"""Every ``check.close`` says why its tolerance is what it is (an instructor's lint, like ``requirements``).

A ``check.close`` call of a test cell is covered by the nearest comment above it that starts with
``# tolerance:`` when no blank line lies between them, so one comment explains a paragraph of
checks that share a reason. The comment runs on over the comment lines right below it.

A call whose ``rtol`` is below ``FLOAT32_RTOL`` (``check.close``'s default is 1e-7) fails a
float32 answer, so its comment must say why float64 is required (it mentions "float64"); where
float32 is a reasonable choice (training, images, attacks) the tolerance is ``FLOAT32_RTOL`` or
looser and the comment says so.

    python -m course_utils.instructor.tolerances [source/ps1 ...]   # prints the calls not covered
"""

import ast
import json
import sys
from dataclasses import dataclass
from pathlib import Path

MARK = "# tolerance:"
FLOAT32_RTOL = 1e-5  # float32 keeps ~7 digits; a sum or product of a few hundred terms agrees with float64 to ~1e-6
DEFAULT_RTOL = 1e-7  # check.close's default


@dataclass(frozen=True)
class Uncovered:
    """A check.close call of a source notebook whose tolerance is not explained (or not enough)."""

    notebook: str
    grade_id: str
    line: int  # in the cell, from 1
    why: str

    def __str__(self):
        return f"{self.notebook} {self.grade_id} line {self.line}: {self.why}"


def _rtol(call):
    """The call's rtol as a number, DEFAULT_RTOL when not given, None when it is not a literal."""
    for keyword in call.keywords:
        if keyword.arg == "rtol":
            try:
                return float(ast.literal_eval(keyword.value))
            except ValueError:
                return None
    return DEFAULT_RTOL


def _close_calls(source):
    """(line, rtol) of each check.close call in a cell's code."""
    tree = ast.parse(source)
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "close"
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id == "check"
        ):
            yield node.lineno, _rtol(node)


def covering_comment(lines, line):
    """The ``# tolerance:`` comment (with its continuation comment lines) above ``line`` (from 1), or ''."""
    for index in range(line - 2, -1, -1):
        text = lines[index].strip()
        if not text:
            return ""
        if text.startswith(MARK):
            rest = [lines[index].strip()]
            for following in lines[index + 1 : line - 1]:
                if not following.strip().startswith("#") or following.strip().startswith(MARK):
                    break
                rest.append(following.strip())
            return " ".join(rest)
    return ""


def uncovered_in(source, notebook="", grade_id=""):
    """The check.close calls of one test cell's code that the rules above do not accept."""
    try:
        calls = sorted(_close_calls(source))
    except SyntaxError as exc:
        return [Uncovered(notebook, grade_id, exc.lineno or 0, "the cell does not parse")]
    lines, found = source.splitlines(), []
    for line, rtol in calls:
        comment = covering_comment(lines, line)
        if not comment:
            found.append(Uncovered(notebook, grade_id, line, f"no '{MARK}' comment above it"))
        elif rtol is not None and rtol < FLOAT32_RTOL and "float64" not in comment:
            found.append(
                Uncovered(notebook, grade_id, line, f"rtol {rtol:g} fails float32: say why float64 is required")
            )
    return found


def uncovered(folders):
    """Every uncovered check.close of the test cells of the notebooks under ``folders``."""
    found = []
    for folder in folders:
        for notebook in sorted(Path(folder).glob("*.ipynb")):
            for cell in json.loads(notebook.read_text())["cells"]:
                meta = cell.get("metadata", {}).get("nbgrader", {})
                if cell["cell_type"] == "code" and meta.get("grade") and not meta.get("solution"):
                    found += uncovered_in("".join(cell["source"]), notebook.name, meta["grade_id"])
    return found


if __name__ == "__main__":
    folders = sys.argv[1:] or sorted(str(p) for p in Path("source").iterdir() if p.is_dir())
    for call in uncovered(folders):
        print(call)
