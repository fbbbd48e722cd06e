"""What instructors run besides the grader: ``make demo``, ``make lab`` and the grading report.

- ``commands``  the course folder and stock nbgrader commands run from it
- ``demo``      release, example submissions, stock autograde, feedback, export, score tables
- ``report``    ``grades.html``: score distributions, statuses and integrity flags
- ``lab``       JupyterLab with nbgrader's extensions for one person on one machine
"""
