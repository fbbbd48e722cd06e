"""autograded/<student>/<assignment>/<notebook>.ipynb: the graded notebook as nbgrader writes it.

Formgrader (its submission view and "needs autograding" list) and `nbgrader generate_feedback`
read this folder. The notebook holds what graders should see (`Plan.shown`: the student's
answers, the released instructor cells, the student's own cells) with the outputs of the
student's sandboxed run. Those outputs are JSON text from the student's process: they are
spliced into the file as text and never parsed here (Formgrader and nbconvert parse them later,
as they parse any notebook nbgrader's own autograde writes).
"""

import json
import secrets
from pathlib import Path

NOTEBOOK_METADATA = {
    "kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"},
    "language_info": {"name": "python"},
}


def _outputs_text(result):
    """The run's outputs of one cell if they look like a JSON list, else none."""
    text = result.outputs if result is not None else "[]"
    return text if text.startswith("[") and text.endswith("]") else "[]"


def notebook_text(plan, execution):
    """The autograded notebook as JSON text (shape: nbformat 4.5)."""
    marker = f"outputs-{secrets.token_hex(8)}-"
    cells, outputs = [], {}
    for number, (cell, index) in enumerate(plan.shown):
        cell = dict(cell, id=f"cell-{number}")
        if cell["cell_type"] == "code":
            outputs[f"{marker}{number}"] = _outputs_text(execution.cells.get(index) if index is not None else None)
            cell.update(execution_count=None, outputs=f"{marker}{number}")
        cells.append(cell)
    text = json.dumps({"cells": cells, "metadata": NOTEBOOK_METADATA, "nbformat": 4, "nbformat_minor": 5}, indent=1)
    for placeholder, raw in outputs.items():
        text = text.replace(json.dumps(placeholder), raw, 1)
    return text


def write_autograded(root, assignment, student, notebook, plan, execution):
    """Write one graded notebook."""
    folder = Path(root) / "autograded" / student / assignment
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{notebook}.ipynb").write_text(notebook_text(plan, execution))
