"""Points of an assignment: automatic (test cells) and by hand (manually graded cells).

python -m course_utils.instructor.points [source/ps1 ...]   # one line per assignment
"""

import json
import sys
from pathlib import Path

AUTOMATIC_SHARE = 0.8  # the course's target: four points in five graded automatically


def points(folder):
    """(automatic, by hand) points of the source notebooks in ``folder``."""
    automatic = by_hand = 0.0
    for notebook in sorted(Path(folder).glob("*.ipynb")):
        for cell in json.loads(notebook.read_text())["cells"]:
            meta = cell.get("metadata", {}).get("nbgrader", {})
            if meta.get("grade"):
                if meta.get("solution"):
                    by_hand += meta.get("points", 0)
                else:
                    automatic += meta.get("points", 0)
    return automatic, by_hand


def share(folder):
    """The automatic share of the assignment's points (0..1)."""
    automatic, by_hand = points(folder)
    return automatic / (automatic + by_hand)


def as_text(value):
    """12 -> '12', 12.5 -> '12.5' (as the README's table writes points)."""
    return f"{value:g}"


if __name__ == "__main__":
    folders = sys.argv[1:] or sorted(str(p) for p in Path("source").iterdir() if p.is_dir())
    for folder in folders:
        automatic, by_hand = points(folder)
        print(f"{Path(folder).name}: {as_text(automatic)} + {as_text(by_hand)} ({share(folder):.0%} automatic)")
