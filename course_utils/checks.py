"""Helpers for notebook test cells: clear messages, no stderr, hidden-test counts.

A test cell looks like::

    with checking("1.2 ReLU gradient", hidden=3) as check:
        check.close("df/db at b+xw=2", relu_grad(1.0, 1.0, 1.0)[0], 1.0, where="relu_grad")
        ### BEGIN HIDDEN TESTS
        ...three more check.* calls...
        ### END HIDDEN TESTS

Under the project grader (``course grade``) the same cells run in two modes, chosen by
``COURSE_CHECK_MODE``: ``probe`` in the student's sandboxed process, where each check only
records the student's value (plain data, see ``grading.codec``) and judges nothing, and
``judge`` in the reference run, where each check compares as usual and records the expected
value and tolerances. The oracle compares the two records outside the student's process.

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

import numpy as np

from . import symbolic
from .grading import check_mode
from .grading.codec import encode

RECORDS = []  # records of the checks run in probe/judge mode; the grading runner drains it per cell


class CheckFailed(AssertionError):
    """A check did not pass; the message says expected, got and where to look."""


def _fmt(value, limit=200):
    text = np.array2string(value, precision=6, threshold=20) if isinstance(value, np.ndarray) \
        else repr(value)
    return text if len(text) <= limit else text[:limit] + " ..."


def _where(where):
    return f"\n  where to look: {where}" if where else ""


class Checker:
    """The ``check`` object of a test cell; each method raises CheckFailed or counts a pass."""

    def __init__(self, question, mode=None):
        self.question = question
        self.passed = 0
        self.mode = check_mode() if mode is None else mode

    def _record(self, kind, what, where, **values):
        RECORDS.append({"kind": kind, "question": self.question, "what": str(what),
                        "where": str(where), **{k: encode(v) for k, v in values.items()}})

    def _probing(self, kind, what, where, **got):
        """In probe mode: record the student's value and judge nothing (True); else False."""
        if self.mode != "probe":
            return False
        self._record(kind, what, where, **got)
        self.passed += 1
        return True

    def _fail(self, what, message, where):
        raise CheckFailed(f"[{self.question}] {what}: {message}{_where(where)}")

    def _ok(self, kind, what, where, **expected):
        """Count a pass; in judge mode also record the expected side for the oracle."""
        self.passed += 1
        if self.mode == "judge":
            self._record(kind, what, where, **expected)

    def true(self, what, condition, message="", where=""):
        """Pass when ``condition`` is truthy."""
        if self._probing("true", what, where, got=bool(condition), message=message):
            return
        if not bool(condition):
            self._fail(what, message or "condition is false", where)
        self._ok("true", what, where)

    def equal(self, what, got, expected, where=""):
        """Exact equality (ints, strings, sets, tuples)."""
        if self._probing("equal", what, where, got=got):
            return
        if got != expected:
            self._fail(what, f"expected {_fmt(expected)}, got {_fmt(got)}", where)
        self._ok("equal", what, where, expected=expected)

    def close(self, what, got, expected, rtol=1e-7, atol=1e-12, where=""):
        """Arrays or numbers equal to a relative tolerance; shapes must match."""
        if self._probing("close", what, where, got=_as_floats(got)):
            return
        expected = np.asarray(expected, dtype=float)
        try:
            got_arr = np.asarray(got, dtype=float)
        except (TypeError, ValueError):
            self._fail(what, f"expected numbers of shape {expected.shape}, got {_fmt(got)}", where)
        if got_arr.shape != expected.shape:
            self._fail(what, f"expected shape {expected.shape}, got shape {got_arr.shape}", where)
        if not np.all(np.isfinite(got_arr)):
            self._fail(what, f"got non-finite values (inf or NaN): {_fmt(got_arr)}", where)
        if not np.allclose(got_arr, expected, rtol=rtol, atol=atol):
            err = np.max(np.abs(got_arr - expected) / (np.abs(expected) + atol))
            self._fail(what, f"expected {_fmt(expected)}, got {_fmt(got_arr)} "
                             f"(max relative error {err:.2e} > {rtol:.0e})", where)
        self._ok("close", what, where, expected=expected, rtol=rtol, atol=atol)

    def gradients(self, what, report, where=""):
        """A gradcheck.GradReport in which every tensor passed."""
        if self._probing("gradients", what, where, analytic=report.analytic):
            return
        if not report.passed:
            self._fail(what, f"gradient check failed for {report.failed()}\n{report}", where)
        self._ok("gradients", what, where, numeric=report.numeric, used=report.used)

    def sympy_equal(self, what, answer, reference, symbols, where="", **kwargs):
        """A symbolic answer equivalent to ``reference`` (see symbolic.equivalent)."""
        if self._probing("sympy", what, where, got=answer):
            return
        if answer is None or answer is Ellipsis:
            self._fail(what, "no expression given yet", where)
        result = symbolic.equivalent(answer, reference, symbols, **kwargs)
        if not result:
            self._fail(what, f"not equivalent to the expected expression: {result.message}", where)
        self._ok("sympy", what, where, expected=reference, symbols=list(symbols), options=kwargs)


def _as_floats(got):
    """``got`` as a float array, or the value itself when it is not numeric."""
    try:
        return np.asarray(got, dtype=float)
    except (TypeError, ValueError):
        return got


def _innermost_notebook_frame(tb):
    """The deepest frame of notebook code (not of NumPy, SymPy or course_utils) in a traceback."""
    frames = traceback.extract_tb(tb)
    library = (os.sep + "site-packages" + os.sep, os.sep + "lib" + os.sep + "python",
               os.path.dirname(__file__))
    own = [f for f in frames if not any(part in f.filename for part in library)]
    return (own or frames)[-1]


def _show_check_failures_briefly(shell=None):
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
    return os.environ.get("NBGRADER_EXECUTION") or None


@contextlib.contextmanager
def checking(question, hidden=0):
    """Run a test cell's checks with warnings/stderr captured; see module docstring.

    hidden: how many hidden checks this cell runs at grading (shown to students).
    """
    _show_check_failures_briefly()
    check = Checker(question)
    stderr = io.StringIO()
    with warnings.catch_warnings(record=True) as caught, contextlib.redirect_stderr(stderr):
        warnings.simplefilter("always")
        try:
            yield check
        except CheckFailed:
            raise
        except NotImplementedError as exc:
            raise CheckFailed(f"[{question}] not answered yet: the answer cell still raises "
                              f"NotImplementedError. Replace it with your code."
                              f"{_where('the answer cell of this question')}") from exc
        except NameError as exc:
            raise CheckFailed(f"[{question}] {exc}: run your answer cell above first "
                              f"(or it is not answered yet).{_where('the answer cells above')}") from exc
        except Exception as exc:  # the student's code raised: say where
            frame = _innermost_notebook_frame(exc.__traceback__)
            location = f"{frame.name}(), at: {(frame.line or '').strip()}"
            raise CheckFailed(f"[{question}] your code raised {type(exc).__name__}: {exc}"
                              f"{_where(location)}") from exc
        finally:
            notes = sorted({f"{w.category.__name__}: {w.message}" for w in caught})
            if notes or stderr.getvalue():
                print(f"note: your code emitted {len(notes)} warning(s) (not penalised): "
                      + "; ".join(notes[:3]) + (f"; stderr: {stderr.getvalue()[:200]!r}"
                                                if stderr.getvalue() else ""))
    if check.mode == "probe":
        print(f"✓ {question}: {check.passed} answers recorded; the grader judges them.")
    elif grading_mode() == "autograde":
        print(f"✓ {question}: all {check.passed} checks passed.")
    elif hidden:
        print(f"✓ {question}: {check.passed} visible checks passed. "
              f"{hidden} hidden test(s) will run at grading.")
    else:
        print(f"✓ {question}: {check.passed} checks passed (no hidden tests for this part).")

