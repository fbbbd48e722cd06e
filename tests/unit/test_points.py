"""Four points in five are automatic in every assignment, and the README's table says how many."""

import re
from pathlib import Path

import pytest

from course_utils.instructor.points import AUTOMATIC_SHARE, as_text, points, share

REPO = Path(__file__).resolve().parents[2]
ASSIGNMENTS = sorted(p.name for p in (REPO / "source").iterdir() if p.is_dir())


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_four_points_in_five_are_automatic(assignment):
    assert share(REPO / "source" / assignment) >= AUTOMATIC_SHARE, points(REPO / "source" / assignment)


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_readme_table_has_the_notebooks_points(assignment):
    row = re.search(rf"^\| `{assignment}` \|.*\| ([\d.]+) \+ ([\d.]+)\b", (REPO / "README.md").read_text(), re.M)
    automatic, by_hand = points(REPO / "source" / assignment)
    assert row and row.groups() == (as_text(automatic), as_text(by_hand)), f"README: {row and row.group(0)}"
