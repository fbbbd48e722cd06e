"""The project grader: sandboxed runs, an out-of-process oracle, crash-safe parallel grading.

Import-light on purpose (``course grade --help`` must start fast): submodules import
NumPy, nbgrader or Dask only when they need them.
"""
import os


def check_mode():
    """'probe', 'judge' or '' (normal): how test-cell checks behave; set by the grader's runs."""
    return os.environ.get("COURSE_CHECK_MODE", "")
