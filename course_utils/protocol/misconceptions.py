"""Named misconceptions: known wrong answers of a check, and what each misunderstanding is.

A test cell of a source notebook may declare, in a hidden-test region (stripped from the
release and from feedback like any hidden test), the wrong values a check typically gets::

    ### BEGIN HIDDEN TESTS
    check.misconception("J at z", np.diag(p), "the Jacobian kept only its diagonal: ...")
    ### END HIDDEN TESTS
    check.close("J at z", softmax_jacobian(z), J, where="softmax_jacobian")

The value is computed by the instructor's code from the same inputs (and variant) as the
check it labels (same ``what``). When that check fails, the student's value is compared with
each misconception's value by the check kind's own judge, with the misconception's value in
place of the expected one (same tolerances, same SymPy equivalence); the first one that
passes is named in the failure message. A value that passes against the expected value is
never labelled: the label is only looked for after the check has failed.

Where it runs: in the grader's oracle (the catalogue is part of the reference run's records,
never sent to the student's process) and in a ``Checker`` that runs the source's hidden
regions (stock ``nbgrader autograde``). Validate in a student's release never has the
catalogue, so it never names one: naming is grading-side only.
"""

from .judges import Mismatch

RECORD_KIND = "misconception"  # the kind of a catalogue record of the reference run
LEAD = "likely misunderstanding: "  # how a failure message introduces a named misconception


def matches(kind, values, wrong_value):
    """Does the student's value pass ``kind``'s judge when ``wrong_value`` is the expected one?

    values: the check's judge arguments (student and reference fields); ``kind``: its CheckKind.
    """
    if not kind.target:
        return False
    try:
        kind.judge(**(values | {kind.target: wrong_value}))
    except Mismatch:
        return False
    except Exception:  # a misconception of another shape or type: no match, never a crash
        return False
    return True


def name_for(kind, values, catalogue):
    """The sentence of the first misconception of ``catalogue`` [(value, says)] the values match, or ''."""
    return next((says for wrong_value, says in catalogue if matches(kind, values, wrong_value)), "")


def with_misunderstanding(message, says):
    """A failure message followed by the misconception's sentence (unchanged when there is none)."""
    return f"{message}\n  {LEAD}{says}" if says else message
