"""The package's folders say who uses what: student-facing modules never import the grader."""

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "course_utils"


def imported_modules(path):
    """Absolute and relative module names a file imports (relative ones start with dots)."""
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            module = "." * node.level + (node.module or "")
            yield module
            yield from (f"{module}.{alias.name}" if node.module else module + alias.name for alias in node.names)


def test_student_modules_and_the_protocol_import_neither_grader_nor_instructor_tools():
    files = sorted(PACKAGE.glob("*.py")) + sorted((PACKAGE / "protocol").glob("*.py"))
    offending = {
        str(path.relative_to(PACKAGE)): name
        for path in files
        for name in imported_modules(path)
        if any(part in ("grading", "instructor") for part in name.replace(".", " ").split())
    }
    assert offending == {}


def test_every_check_kind_has_a_checker_method_and_a_judge():
    from course_utils.checks import Checker
    from course_utils.protocol import KINDS

    for kind in KINDS.values():
        assert callable(getattr(Checker, kind.method)) and callable(kind.judge), kind.name
