"""Helpers shared by every notebook of the deep-learning workbook.

Modules (import them by name, e.g. ``from course_utils import numerics``):

- ``numerics``  overflow-safe sigmoid, log-sigmoid, softmax, logsumexp
- ``gradcheck`` central-difference gradient checks with per-tensor reports
- ``symbolic``  SymPy answer parsing (whitelisted) and equivalence checks
- ``variants``  per-student parameters derived from the student id
- ``checks``    visible/hidden test helpers with clear failure messages
- ``figure_alt`` alt text for every figure shown (screen readers), from its titles and labels
- ``data``      IDX loaders for (Fashion-)MNIST, offline first
- ``explorer``  ipywidgets loss-surface explorer (1-D slice and 2-D surface)
- ``training``  progress bars, grading-mode budgets and curve plots
- ``surfaces``  a faster explorer renderer and structured autoencoder slices (ps2)
- ``blas``      one BLAS thread for small-batch training loops
- ``autodiff``  a small reverse-mode engine on NumPy arrays (ps3)
- ``tabular``   Ames housing, one-hot encoded and standardised (ps3)
- ``report``    the instructor's grading report (grades.html)
- ``demo``, ``lab``  what ``make demo`` and ``make lab`` run
- ``grading``   the project grader (``course grade``): sandbox, oracle, crash-safe parallel runs
"""

__version__ = "0.1.0"
