"""The project grader (``course grade``): sandboxed runs, an out-of-process oracle, crash-safe
parallel grading. Instructors run it; students never import it.

Import-light on purpose (``course grade --help`` must start fast): submodules import
NumPy, nbgrader or Dask only when they need them. What the grader and the notebooks agree
on (check kinds, records, the environment variables) lives in ``course_utils.protocol``.
"""
