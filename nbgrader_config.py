"""nbgrader configuration for the course; stock `nbgrader ...` commands read it from the repo root.

Closes the holes measured on nbgrader 0.9.6 (see ../shared/DESIGN.md):
- `skip-execution` would let a student skip the test cells at autograde: the skip tag is a
  per-course secret kept out of git (`.grading_secret`, created on first use);
- a deleted grade cell would score None: OverwriteCells re-adds missing cells;
- gradebook.db is never copied into release/ or feedback;
- cells get a timeout long enough for the grading-mode training budgets.
"""

import importlib.util
import os
import secrets
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent


def skip_tag():
    """The course's secret skip tag (a student cannot guess it to skip test cells)."""
    secret = ROOT / ".grading_secret"
    if not secret.exists():
        secret.write_text(f"skip-{secrets.token_hex(16)}\n")
    return secret.read_text().strip()


def package_folder(name):
    """Folder of an installed package, found without importing it (nbgrader's import costs seconds)."""
    return Path(importlib.util.find_spec(name).submodule_search_locations[0])


c = get_config()  # noqa: F821 (provided by traitlets when nbgrader loads this file)

# nbgrader 0.9's Gradebook.add_submission builds a SubmittedAssignment and its SubmittedNotebooks
# through their relationships and adds them to its session only afterwards, so under SQLAlchemy 2
# each autoflush in between warns "Object of type <Submitted...> not in session, add operation along
# ... will not proceed" (three per student, on every autograde); the rows are added right after and
# the gradebook is complete. nbgrader's code, not ours: this one message from nbgrader.api is silenced.
warnings.filterwarnings(
    "ignore", message=r"Object of type <Submitted(Assignment|Notebook)> not in session", module=r"nbgrader\.api"
)

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


# Kernels that nbgrader starts (autograde, Validate) get CurveZMQ keys from their kernel manager (the
# kernelspec declares curve support): their loopback sockets are encrypted, and ipykernel has no
# reason to warn "running over TCP without encryption" on every start. JupyterLab and the hub's
# servers pass the same setting (course_utils/instructor/lab.py, hub/jupyterhub_config.py).
c.KernelManager.transport_encryption = "auto"


# Feedback shows each test cell's verdict and message but not the hidden test code, so hidden
# tests (and the reference values inside them) can be reused next year.
c.GenerateFeedback.preprocessors = [
    "nbgrader.preprocessors.GetGrades",
    "course_utils.instructor.feedback.PendingGrades",  # grades awaiting a grader, lateness
    "course_utils.instructor.feedback.ClearHiddenTests",  # nbgrader's, without a spurious config warning
    "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor",
]
# The course's feedback template (course_utils/instructor/templates/course_feedback): pending manual
# grades say "pending", a late submission states the policy, MathJax comes from the student's Jupyter
# server (jupyter-server-mathjax), not a CDN. Nested under GenerateFeedback, so Formgrader's own
# HTMLExporter (created without this parent) keeps nbgrader's templates.
c.GenerateFeedback.HTMLExporter.template_name = "course_feedback"
FORMGRADER = package_folder("nbgrader") / "server_extensions" / "formgrader"
c.GenerateFeedback.HTMLExporter.extra_template_basedirs = [
    str(package_folder("course_utils") / "instructor" / "templates"),
    str(FORMGRADER / "templates"),  # nbgrader's 'feedback' template, which ours extends
]
# what nbgrader's GenerateFeedback sets (Bootstrap's CSS), plus where 'feedback/index.html.j2' resolves
c.GenerateFeedback.HTMLExporter.extra_template_paths = [
    str(FORMGRADER / "static" / "node_modules" / "bootstrap" / "dist" / "css"),
    str(FORMGRADER / "templates"),
]

# The term: due dates (naive times are refused; give the zone) and the late policy. `course grade`
# and `course due-dates` write the due dates into the gradebook (what Formgrader and stock nbgrader
# read); stock autograde and `course grade` compute the same penalty (course_utils/instructor/late_policy.py).
c.CourseGrader.due_dates = {
    "ps1": "2026-10-16 23:59 Europe/Berlin",
    "ps2": "2026-10-30 23:59 Europe/Berlin",
    "ps3": "2026-11-13 23:59 Europe/Berlin",
    "ps4": "2026-11-27 23:59 Europe/Berlin",
    "ps5": "2026-12-11 23:59 Europe/Berlin",
}
c.CourseGrader.late_grace_minutes = 15
c.CourseGrader.late_penalty_per_day = 0.10
c.CourseGrader.late_penalty_max = 0.50
c.AssignLatePenalties.plugin_class = "course_utils.instructor.late_policy.CourseLatePolicy"

# Where releases and submissions travel: a shared server's exchange (the hub's course account gets
# COURSE_EXCHANGE, see hub/), else a folder of the course so `make lab` works without a hub.
c.Exchange.root = os.environ.get("COURSE_EXCHANGE") or str(ROOT / ".exchange")
c.Exchange.path_includes_course = True
# `make lab` is one server for the instructor and a student: the student's fetched work goes to
# student-work/<course>/<assignment>, out of the course root (on the hub it goes to the student's home)
c.Exchange.assignment_dir = str(ROOT / "student-work")
