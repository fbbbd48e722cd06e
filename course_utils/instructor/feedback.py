"""What the course's feedback template needs beyond nbgrader's ``GetGrades``: pending grades and lateness.

A step of ``nbgrader generate_feedback`` (``c.GenerateFeedback.preprocessors`` in nbgrader_config.py,
after ``GetGrades``). It marks each grade that still waits for a grader (``needs_manual_grade``:
a written answer not graded yet, or a test the grader could not judge) and puts in
``resources["course"]``:

- ``graded_score`` / ``graded_max``: points of the grades that are final, out of how many;
- ``pending_points``: points still waiting for a grader (0 when the score is final);
- ``late``: None when on time, else {due, submitted, days, penalty, policy} (the course's
  ``LatePolicy``, the one that computed the penalty).

The template (``templates/course_feedback``) then never shows a partial score as final.
"""

from nbgrader.api import Gradebook
from nbgrader.preprocessors import ClearHiddenTests as NbgraderClearHiddenTests
from nbgrader.preprocessors import NbGraderPreprocessor
from nbgrader.utils import is_grade
from traitlets import List

from .late_policy import LatePolicy


def configurable_priority():
    """``display_data_priority``, configurable: nbconvert's HTMLExporter configures it on every
    NbConvertBase, and nbgrader's preprocessors declare it without ``config=True``, so each feedback
    command logged "Config option `display_data_priority` not recognized" once per such step."""
    return List(NbGraderPreprocessor.display_data_priority.default_value).tag(config=True)


class ClearHiddenTests(NbgraderClearHiddenTests):
    """nbgrader's ClearHiddenTests, without the spurious config warning (configurable_priority)."""

    display_data_priority = configurable_priority()


class PendingGrades(NbGraderPreprocessor):
    """Mark grades awaiting a grader and describe a late submission (see the module doc)."""

    display_data_priority = configurable_priority()

    def preprocess(self, nb, resources):
        info = resources["nbgrader"]
        with Gradebook(info["db_url"]) as gradebook:
            submission = gradebook.find_submission(info["assignment"], info["student"])
            notebook = gradebook.find_submission_notebook(info["notebook"], info["assignment"], info["student"])
            grades = {grade.name: grade for grade in notebook.grades}
            pending = {name for name, grade in grades.items() if grade.needs_manual_grade}
            for cell in nb.cells:
                if is_grade(cell):
                    cell.metadata.nbgrader["pending"] = cell.metadata.nbgrader["grade_id"] in pending
            final = [grade for name, grade in grades.items() if name not in pending]
            resources["course"] = {
                "graded_score": sum(grade.score for grade in final),
                "graded_max": sum(grade.max_score for grade in final),
                "pending_points": sum(grades[name].max_score for name in pending),
                "late": self._late(submission, notebook),
            }
        return nb, resources

    def _late(self, submission, notebook):
        """None when on time, else what the student should read about the penalty."""
        seconds = submission.total_seconds_late
        if not seconds:
            return None
        policy = LatePolicy.from_config(self.config)
        return {
            "due": f"{submission.duedate:%Y-%m-%d %H:%M} UTC",
            "submitted": f"{submission.timestamp:%Y-%m-%d %H:%M} UTC",
            "hours": seconds / 3600,
            "days": policy.days_late(seconds),
            "share": policy.share(seconds),
            "penalty": notebook.late_submission_penalty or 0.0,
            "policy": policy.describe(),
        }
