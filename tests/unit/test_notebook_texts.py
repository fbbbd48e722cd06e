"""What the notebooks tell students, read from their cells (no notebook runs)."""

import json
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def markdown_before(notebook, code_snippet):
    """The markdown cell right before the first code cell containing ``code_snippet``."""
    cells = json.loads(notebook.read_text())["cells"]
    index = next(i for i, c in enumerate(cells) if c["cell_type"] == "code" and code_snippet in "".join(c["source"]))
    return "".join(cells[index - 1]["source"])


@pytest.mark.parametrize("folder", ["source", "release"])
@pytest.mark.parametrize("run", ["for lr in [0.001, 0.01, 0.1]:", "ffn_runs = ["])
def test_ps3_says_why_its_grading_budget_numbers_look_broken(folder, run):
    text = markdown_before(REPO / folder / "ps3" / "autodiff.ipynb", run)
    assert "1 epoch" in text and ("not your code" in text or "full-budget table" in text), text
