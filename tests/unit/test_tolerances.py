"""Every check.close of the source notebooks says why its tolerance is what it is."""

from pathlib import Path

import pytest

from course_utils.instructor.tolerances import covering_comment, uncovered, uncovered_in

REPO = Path(__file__).resolve().parents[2]
ASSIGNMENTS = sorted(p.name for p in (REPO / "source").iterdir() if p.is_dir())


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_every_close_check_states_why_its_tolerance(assignment):
    found = uncovered([REPO / "source" / assignment])
    assert not found, "check.close calls without a reason for their tolerance:\n" + "\n".join(map(str, found))


def test_one_comment_covers_its_paragraph_and_no_further():
    cell = (
        "with checking('q') as check:\n"
        "    # tolerance: float64 required: the same formula, rounding only\n"
        "    # (a second comment line)\n"
        "    check.close('a', f(0), 1.0)\n"
        "    x = f(1)\n"
        "    check.close('b', x, 2.0, rtol=1e-9)\n"
        "\n"
        "    check.close('c', f(2), 3.0, rtol=1e-3)\n"
    )
    lines = cell.splitlines()
    assert covering_comment(lines, 4).endswith("rounding only # (a second comment line)")
    assert covering_comment(lines, 6) == covering_comment(lines, 4)
    assert [(u.line, u.why) for u in uncovered_in(cell)] == [(8, "no '# tolerance:' comment above it")]


def test_a_tolerance_that_fails_float32_must_say_why_float64():
    cell = "# tolerance: a few sums\ncheck.close('a', f(0), 1.0)\ncheck.close('b', f(1), 1.0, rtol=1e-4)\n"
    assert [u.line for u in uncovered_in(cell)] == [2]  # the default rtol 1e-7 fails a float32 answer
