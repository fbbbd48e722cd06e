"""nbgrader configuration for the course; stock `nbgrader ...` commands read it from the repo root.

Closes the holes measured on nbgrader 0.9.6 (see ../shared/DESIGN.md):
- `skip-execution` would let a student skip the test cells at autograde: the skip tag is a
  per-course secret kept out of git (`.grading_secret`, created on first use);
- a deleted grade cell would score None: OverwriteCells re-adds missing cells;
- gradebook.db is never copied into release/ or feedback;
- cells get a timeout long enough for the grading-mode training budgets.
"""

import secrets
from pathlib import Path

ROOT = Path(__file__).resolve().parent


def skip_tag():
    """The course's secret skip tag (a student cannot guess it to skip test cells)."""
    secret = ROOT / ".grading_secret"
    if not secret.exists():
        secret.write_text(f"skip-{secrets.token_hex(16)}\n")
    return secret.read_text().strip()


c = get_config()  # noqa: F821 (provided by traitlets when nbgrader loads this file)

c.CourseDirectory.root = str(ROOT)
c.CourseDirectory.course_id = "dl-workbook"
c.CourseDirectory.db_url = f"sqlite:///{ROOT / 'gradebook.db'}"
c.CourseDirectory.ignore = [
    ".ipynb_checkpoints",
    "*.pyc",
    "__pycache__",
    "feedback",
    "gradebook.db*",
    ".grading_secret",
]

c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"

c.Execute.skip_cells_with_tag = skip_tag()
c.Execute.timeout = 120  # seconds per cell; training cells use short budgets when grading
c.OverwriteCells.add_missing_cells = True
# nbgrader's autograde steps, with OverwriteCells reporting a test cell only when the student changed
# it (stock nbgrader reports every honest cell with hidden tests: course_utils/instructor/nbgrader_steps.py)
c.Autograde.sanitize_preprocessors = [
    "nbgrader.preprocessors.ClearOutput",
    "nbgrader.preprocessors.DeduplicateIds",
    "nbgrader.preprocessors.OverwriteKernelspec",
    "course_utils.instructor.nbgrader_steps.OverwriteCells",
    "nbgrader.preprocessors.CheckCellMetadata",
]


# Feedback shows each test cell's verdict and message but not the hidden test code, so hidden
# tests (and the reference values inside them) can be reused next year.
c.GenerateFeedback.preprocessors = [
    "nbgrader.preprocessors.GetGrades",
    "nbgrader.preprocessors.ClearHiddenTests",
    "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor",
]

# A local exchange so JupyterLab's Assignment List works without a hub (see `make lab`).
c.Exchange.root = str(ROOT / ".exchange")
c.Exchange.path_includes_course = True
