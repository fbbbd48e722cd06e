"""Helpers for notebook test cells: clear messages, no stderr, hidden-test counts.

A test cell looks like::

    with checking("1.2 ReLU gradient", hidden=3) as check:
        check.close("df/db at b+xw=2", relu_grad(1.0, 1.0, 1.0)[0], 1.0, where="relu_grad")
        ### BEGIN HIDDEN TESTS
        ...three more check.* calls...
        ### END HIDDEN TESTS

Each ``check.*`` method is a check kind of ``course_utils.protocol`` and is judged by that
kind's rule (``protocol.judges``). Under the project grader (``course grade``) the checker
depends on ``COURSE_CHECK_MODE``: a ``ProbeChecker`` in the student's sandboxed process
records the student's values and judges nothing, a ``JudgeChecker`` in the reference run
judges and records the expected values; the grader's oracle compares the two outside the
student's process. Otherwise a ``Checker`` judges at once.

Inside ``checking``: warnings and stderr are captured and reported on stdout
(nbgrader scores any stderr output in a test cell as 0, so a correct answer
that triggers a RuntimeWarning would otherwise lose its points), an exception
raised by the student's code becomes a ``CheckFailed`` that names the
question, and on success the cell prints how many hidden tests remain.
"""

import contextlib
import io
import os
import traceback
import warnings

from . import figure_alt
from .gradcheck import GradientShapeError
from .protocol import (
    EXECUTION_VARIABLE,
    KINDS,
    Mismatch,
    all_passed,
    check_mode,
    counted,
    failure_text,
    misconceptions,
    record,
)

figure_alt.install()  # in a notebook's kernel: every figure it shows gets alt text (see figure_alt)


class CheckFailed(AssertionError):
    """A check did not pass; the message says expected, got and where to look."""


class Checker:
    """The ``check`` object of a test cell: each method judges at once (CheckFailed or a pass)."""

    def __init__(self, question):
        self.question = question
        self.passed = 0
        self.catalogue = {}  # what -> [(wrong value, says)]: named misconceptions (hidden regions only)

    def misconception(self, what, wrong_value, says):
        """A known wrong value of the check ``what`` and, in one sentence, the misunderstanding behind it.

        Written in a hidden-test region before the check it labels (see ``protocol.misconceptions``).
        """
        self.catalogue.setdefault(str(what), []).append((wrong_value, str(says)))

    def true(self, what, condition, message="", where=""):
        """Pass when ``condition`` is truthy."""
        self._check("true", what, where, got=condition, message=message)

    def equal(self, what, got, expected, where=""):
        """Exact equality (ints, strings, sets, tuples)."""
        self._check("equal", what, where, got=got, expected=expected)

    def close(self, what, got, expected, rtol=1e-7, atol=1e-12, where=""):
        """Real numbers or arrays equal to a relative tolerance; shapes must match exactly."""
        self._check("close", what, where, got=_as_floats(got), expected=expected, rtol=rtol, atol=atol)

    def gradients(self, what, report, where=""):
        """A gradcheck.GradReport in which every tensor passed."""
        self._check(
            "gradients",
            what,
            where,
            analytic=report.analytic,
            numeric=report.numeric,
            used=report.used,
            table=str(report),
        )

    def sympy_equal(self, what, answer, reference, symbols, where="", **options):
        """A symbolic answer equivalent to ``reference`` (see symbolic.equivalent)."""
        self._check("sympy", what, where, got=answer, expected=reference, symbols=list(symbols), options=options)

    def derivation_matches_code(self, what, derived, symbols, points, got, reference=None, rtol=1e-9, where=""):
        """The student's SymPy result and NumPy code for the same quantity agree at ``points``.

        derived: SymPy expression or Matrix in ``symbols``; points: (P, len(symbols)) array;
        got: the code's values at each point, (P, ...); reference: the reference's values (P, ...),
        hidden tests only: on a disagreement the message then says which of the two is wrong.
        """
        import numpy as np

        self._check(
            "derivation",
            what,
            where,
            derived=derived,
            got=_as_floats(got),
            symbols=list(symbols),
            points=np.asarray(points, dtype=float),
            reference=None if reference is None else _as_floats(reference),
            rtol=rtol,
        )

    def _check(self, kind, what, where, **values):
        try:
            KINDS[kind].judge(**values)
        except Mismatch as why:
            says = misconceptions.name_for(KINDS[kind], values, self.catalogue.get(str(what), []))
            message = misconceptions.with_misunderstanding(str(why), says)
            raise CheckFailed(failure_text(self.question, what, message, where)) from None
        self.passed += 1


class ProbeChecker(Checker):
    """The student's run under the grader: record the student's values, judge nothing."""

    def misconception(self, what, wrong_value, says):
        """Nothing: the grader strips the catalogue from the student's run (this is a safeguard)."""

    def _check(self, kind, what, where, **values):
        record(kind, self.question, what, where, {k: values[k] for k in KINDS[kind].student_fields})
        self.passed += 1


class JudgeChecker(Checker):
    """The reference run under the grader: judge, then record the expected values for the oracle."""

    def misconception(self, what, wrong_value, says):
        """Record the misconception for the oracle (a catalogue record, not a check)."""
        record(misconceptions.RECORD_KIND, self.question, what, "", {"value": wrong_value, "says": str(says)})

    def _check(self, kind, what, where, **values):
        super()._check(kind, what, where, **values)
        record(kind, self.question, what, where, {k: values[k] for k in KINDS[kind].reference_fields})


CHECKERS = {"": Checker, "probe": ProbeChecker, "judge": JudgeChecker}


def plain_assert(question, what, condition, message=""):
    """A plain ``assert`` of a test cell, as the grader runs it: a ``true`` check (see grading.predicates)."""
    CHECKERS[check_mode()](question).true(what, condition, str(message) if message else "")


def _as_floats(got):
    """``got`` as a float array when it is real numbers; else as it is (the judge says why)."""
    import numpy as np

    try:
        array = np.asarray(got)
        return array.astype(float) if array.dtype.kind in "biuf" else got
    except (TypeError, ValueError):
        return got


def _innermost_notebook_frame(tb):
    """The deepest frame of notebook code (not of NumPy, SymPy or course_utils) in a traceback."""
    frames = traceback.extract_tb(tb)
    library = (os.sep + "site-packages" + os.sep, os.sep + "lib" + os.sep + "python", os.path.dirname(__file__))
    own = [f for f in frames if not any(part in f.filename for part in library)]
    return (own or frames)[-1]


def _name_error_text(question, exc):
    """The message of a NameError: a name the test cell needs, or one inside the student's code.

    The traceback's first frame after ``checking`` is the test cell's; a NameError raised in
    another file (another notebook cell) comes from the student's own function, which uses a
    name defined nowhere (a typo, a variable of another function, a cell not run yet).
    """
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename != __file__]
    name = getattr(exc, "name", None) or str(exc)
    if not frames or frames[-1].filename == frames[0].filename:
        return (
            f"[{question}] {exc}: run your answer cell above first "
            f"(or it is not answered yet).\n  where to look: the answer cells above"
        )
    frame = _innermost_notebook_frame(exc.__traceback__)
    return failure_text(
        question,
        f"your function {frame.name}() uses the name {name!r}, which is not defined",
        "a typo, a variable that only exists in another function, or a cell that defines it not run yet",
        f"{frame.name}(), at: {(frame.line or '').strip()}",
    )


def show_check_failures_briefly(shell=None):
    """In IPython, print a failed check as its message only, without the test cell's code.

    The full traceback would quote the lines of the test cell, hidden tests included, into the
    notebook and the feedback; the message already says what was expected and where to look.
    """
    try:
        shell = shell or get_ipython()  # noqa: F821 (defined inside IPython only)
    except NameError:
        return
    if getattr(shell, "_course_check_handler", False):
        return

    def brief(shell, etype, value, tb, tb_offset=None):
        shell._showtraceback(etype, value, [f"{etype.__name__}: {value}"])

    shell.set_custom_exc((CheckFailed,), brief)
    shell._course_check_handler = True


def grading_mode():
    """'autograde' or 'validate' when nbgrader runs the notebook, else None."""
    return os.environ.get(EXECUTION_VARIABLE) or None


@contextlib.contextmanager
def checking(question, hidden=0):
    """Run a test cell's checks with warnings/stderr captured; see module docstring.

    hidden: how many hidden checks this cell runs at grading (shown to students).
    """
    show_check_failures_briefly()
    check = CHECKERS[check_mode()](question)
    stderr = io.StringIO()
    with warnings.catch_warnings(record=True) as caught, contextlib.redirect_stderr(stderr):
        warnings.simplefilter("always")
        try:
            yield check
        except CheckFailed:
            raise
        except NotImplementedError as exc:
            raise CheckFailed(
                f"[{question}] not answered yet: the answer cell still raises "
                f"NotImplementedError. Replace it with your code."
                f"\n  where to look: the answer cell of this question"
            ) from exc
        except NameError as exc:
            raise CheckFailed(_name_error_text(question, exc)) from exc
        except GradientShapeError as exc:  # a gradient of the wrong shape: a failed check, not a crash
            raise CheckFailed(failure_text(question, "gradient shape", str(exc), "your gradient code")) from None
        except Exception as exc:  # the student's code raised: say where
            frame = _innermost_notebook_frame(exc.__traceback__)
            location = f"{frame.name}(), at: {(frame.line or '').strip()}"
            raise CheckFailed(
                failure_text(question, f"your code raised {type(exc).__name__}", str(exc), location)
            ) from exc
        finally:
            notes = sorted({f"{w.category.__name__}: {w.message}" for w in caught})
            if notes or stderr.getvalue():
                print(
                    f"note: your code emitted {len(notes)} warning(s) (not penalised): "
                    + "; ".join(notes[:3])
                    + (f"; stderr: {stderr.getvalue()[:200]!r}" if stderr.getvalue() else "")
                )
    if isinstance(check, ProbeChecker):
        print(f"✓ {question}: {counted(check.passed, 'answer')} recorded; the grader judges them.")
    elif grading_mode() == "autograde":
        print(f"✓ {question}: {all_passed(check.passed)}.")
    elif hidden:
        print(
            f"✓ {question}: {counted(check.passed, 'visible check')} passed. "
            f"{counted(hidden, 'hidden test')} will run at grading."
        )
    else:
        print(f"✓ {question}: {counted(check.passed, 'check')} passed (no hidden tests for this part).")
