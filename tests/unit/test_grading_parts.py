"""Unit tests of the grader's parts: codec, strip, assemble, oracle, execute, CLI start-up."""

import json
import subprocess
import sys

import numpy as np
import pytest
import sympy as sp

from course_utils.grading import assemble, strip
from course_utils.grading.execute import CellResult, run_plan
from course_utils.grading.oracle import judge_test
from course_utils.protocol import codec


@pytest.mark.parametrize(
    "value",
    [
        1,
        -2.5,
        "text",
        None,
        True,
        [1, (2, "a")],
        {1, 2},
        {"k": [1.0]},
        np.arange(6.0).reshape(2, 3),
        np.array([True, False]),
        np.array(2.5),
        np.int32(7),
        10**40,
    ],
)
def test_codec_round_trips_plain_values(value):
    back = codec.decode(json.loads(json.dumps(codec.encode(value))))
    assert type(back) is type(value) if not isinstance(value, np.generic) else back == value.item()
    assert np.array_equal(back, value) if isinstance(value, np.ndarray) else back == value


def test_codec_round_trips_sympy():
    x = sp.Symbol("x", real=True)
    for expr in [
        x**2 + sp.exp(-x) / 3,
        sp.Piecewise((x, x > 0), (0, True)),
        sp.Matrix([[x, 1], [2, sp.pi]]),
        sp.Function("f")(x),
        sp.Rational(3, 7),
    ]:
        assert codec.decode(json.loads(json.dumps(codec.encode(expr)))) == expr


@pytest.mark.parametrize(
    "text",
    [
        "__import__('os').system('true')",
        "Symbol('x').__class__",
        "Function('f')(Symbol('x')).func.__globals__",
        "Pow(Integer(10), Integer(10**9))",
        "Pow(Symbol('x'), Integer(100000000))",
        "open('/etc/passwd')",
    ],
)
def test_codec_reads_sympy_without_running_code(text):
    with pytest.raises((ValueError, SyntaxError)):
        codec.parse_srepr(text)


def test_codec_makes_unknown_objects_opaque_and_never_equal():
    class AlwaysEqual:
        def __eq__(self, other):
            return True

    back = codec.decode(codec.encode(AlwaysEqual()))
    assert isinstance(back, codec.Opaque) and back != back
    assert isinstance(codec.decode(codec.encode(type("S", (str,), {})("x"))), str)


def test_strip_removes_expected_values_their_inputs_and_comments():
    cell = (
        "with checking('q', hidden=1) as check:\n"
        "    ref = secret_formula(X)  # the answer is 42\n"
        "    check.close('f(X)', f(X), ref, rtol=1e-9)\n"
        "    check.equal('g', g(), expected='secret')\n"
        "    check.sympy_equal('h', h, 2*x, [x])\n"
        "    check.true('t', f(X).sum() > 0)\n"
    )
    out = strip.strip_expected(cell)
    assert "secret" not in out and "42" not in out and "2 * x" not in out
    assert "f(X)" in out and "check.true('t', (0, [f(X)]))" in out and "rtol=1e-09" in out
    assert "> 0" not in out  # a condition's skeleton stays with the grader


def test_strip_keeps_assignments_the_probe_needs():
    out = strip.strip_expected(
        "with checking('q') as c:\n    z = make()\n    W0 = model.W.copy()\n"
        "    P = W0 * 2\n    P -= 1\n    c.close('z', f(z), P)\n"
    )
    assert "z = make()" in out and "W0" not in out and "P" not in out


def _nb(*cells):
    return [{"cell_type": t, "source": s, "metadata": {"nbgrader": m} if m else {}} for t, s, m in cells]


SOURCE = _nb(
    ("code", "import numpy", {"grade_id": "setup", "locked": True}),
    ("code", "### BEGIN SOLUTION\nanswer = 1\n### END SOLUTION", {"grade_id": "a", "solution": True}),
    (
        "code",
        "with checking('a') as check:\n    check.equal('a', answer, 1)\n    ### BEGIN HIDDEN TESTS\n"
        "    check.equal('a2', answer, 1)\n    ### END HIDDEN TESTS",
        {"grade_id": "t", "grade": True, "locked": True, "points": 2},
    ),
)
RELEASE = _nb(
    ("code", "import numpy", {"grade_id": "setup", "locked": True}),
    ("code", "answer = None", {"grade_id": "a", "solution": True}),
    (
        "code",
        "with checking('a') as check:\n    check.equal('a', answer, 1)\n",
        {"grade_id": "t", "grade": True, "locked": True, "points": 2},
    ),
)


def test_assemble_keeps_answers_and_uses_the_instructors_tests():
    submitted = json.loads(json.dumps(RELEASE))
    submitted[1]["source"] = "answer = 3"
    submitted[2]["source"] = "pass"
    submitted[2]["metadata"]["tags"] = ["skip-execution"]
    submitted[2]["metadata"]["nbgrader"]["points"] = 100
    plan = assemble.student_plan(SOURCE, RELEASE, submitted)
    sources = [c["source"] for c in plan.cells]
    assert sources[1] == "answer = 3" and "check.equal('a2', answer, None)" in sources[2]
    assert plan.tests == {"t": 2.0}
    assert any("tags changed" in f for f in plan.flags) and any("metadata changed" in f for f in plan.flags)
    assert any("source edited" in f for f in plan.flags)


def test_assemble_restores_deleted_cells_and_ignores_duplicates():
    submitted = json.loads(json.dumps(RELEASE))
    plan = assemble.student_plan(SOURCE, RELEASE, [submitted[0], submitted[1], submitted[1]])
    assert [c["grade_id"] for c in plan.cells] == ["setup", "a", "t"]
    assert any("duplicated" in f for f in plan.flags) and any("t: deleted" in f for f in plan.flags)


def test_assemble_reports_unreadable_files(tmp_path):
    (tmp_path / "nb.ipynb").write_text('{"cells": [')
    with pytest.raises(assemble.UnreadableNotebook, match="not valid JSON"):
        assemble.read_notebook(tmp_path / "nb.ipynb")


def _record(kind, what, **values):
    return {"kind": kind, "question": "q", "what": what, "where": "", **{k: codec.encode(v) for k, v in values.items()}}


def test_oracle_judges_from_plain_records():
    reference = CellResult(
        "ok",
        records=[
            _record("close", "v", expected=np.array([1.0, 2.0]), rtol=1e-7, atol=0.0),
            _record("equal", "s", expected="min"),
        ],
    )
    good = CellResult("ok", records=[_record("close", "v", got=np.array([1.0, 2.0])), _record("equal", "s", got="min")])
    wrong = CellResult(
        "ok", records=[_record("close", "v", got=np.array([1.0, 2.1])), _record("equal", "s", got="min")]
    )
    fewer = CellResult("ok", records=good.records[:1])  # e.g. a loop over a shorter list: wrong, not tampering
    none = CellResult("ok", records=[])
    assert judge_test("t", 2, good, reference).score == 2
    assert judge_test("t", 2, wrong, reference).score == 0
    verdict = judge_test("t", 2, fewer, reference)
    assert verdict.score == 0 and "runs 2" in verdict.message and not verdict.flag
    verdict = judge_test("t", 2, none, reference)
    assert verdict.score == 0 and "tampered or missing" in verdict.flag
    assert judge_test("t", 2, good, CellResult("error", "boom")).score is None


def test_run_plan_survives_a_dying_cell(tmp_path):
    cells = [
        {"index": 0, "source": "x = 1"},
        {"index": 1, "source": "import os\nos._exit(3)"},
        {"index": 2, "source": "print(x + 1)"},
    ]
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "MPLBACKEND": "Agg", "COURSE_CHECK_MODE": "probe"}
    result = run_plan(cells, tmp_path, env, {"unsandboxed": True}, cell_timeout=60)
    assert result.cells[0].status == "ok" and result.cells[1].status == "died"
    assert "exited with code 3" in result.cells[1].error
    assert result.cells[2].status == "ok" and "2" in json.loads(result.cells[2].outputs)[0]["text"]


def test_cli_starts_without_heavy_imports():
    code = (
        "import sys, course_utils.grading.cli as c; c._parser().parse_args(['grade', 'ps1']); "
        "print(sorted(m for m in ('nbgrader', 'numpy', 'sympy', 'sqlalchemy', 'dask') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_cli_refuses_to_grade_without_a_sandbox(tmp_path, monkeypatch, capsys):
    from course_utils.grading import cli, sandbox

    monkeypatch.setattr(sandbox, "unavailable_reason", lambda: "bwrap is not installed")
    assert cli.main(["grade", "ps1"]) == 2
    assert "refusing to run student code" in capsys.readouterr().err


def test_a_loop_over_a_longer_answer_judges_its_extra_conditions():
    """ps1-style: one check.true per element of the student's list, the reference's list shorter."""
    ref = CellResult("ok", records=[_record("true", "p=(0, 0)")])
    site = (0, [True])
    longer_ok = CellResult("ok", records=[_record("true", "p=(0, 0)", got=site, message="")] * 2)
    longer_bad = CellResult(
        "ok",
        records=[
            _record("true", "p=(0, 0)", got=site, message=""),
            _record("true", "p=(1, 1)", got=(0, [False]), message="(1, 1) is not critical"),
        ],
    )
    verdict = judge_test("t", 1, longer_bad, ref, skeletons=["_v[0]"])
    assert verdict.score == 0 and "(1, 1) is not critical" in verdict.message and not verdict.flag
    assert judge_test("t", 1, longer_ok, ref, skeletons=["_v[0]"]).score == 1  # every condition holds


def test_codec_reads_values_through_their_base_types_not_their_own_methods():
    import fractions

    class Claims(np.float32):
        def item(self):
            return 0.64  # what it would like the grader to see

    class Losses(list):
        @property
        def best(self):
            return min(self)

    def round_trip(value):
        return codec.decode(json.loads(json.dumps(codec.encode(value))))

    assert round_trip(Claims(1.0)) == 1.0
    assert round_trip(Losses([3, 1, 2])) == [3, 1, 2]  # a list subclass keeps its order
    assert round_trip(fractions.Fraction(1, 4)) == 0.25  # honest exact numbers are plain data
    assert round_trip(np.longdouble(1.5)) == 1.5


def test_oracle_judges_a_derivation_against_the_students_own_code():
    """The student's run records the SymPy result (srepr) and the code's values; the reference run the
    points and its values; the judge evaluates the student's expression outside the student's process."""
    a = sp.Symbol("a")
    points = np.array([[-1.0], [0.5], [2.0]])
    sigma = 1 / (1 + np.exp(-points[:, 0]))
    reference = CellResult(
        "ok",
        records=[_record("derivation", "d", symbols=[a], points=points, reference=sigma - 1, rtol=1e-9)],
    )

    def student(derived, got):
        return CellResult("ok", records=[_record("derivation", "d", derived=derived, got=got)])

    derived = -sp.exp(-a) / (1 + sp.exp(-a))
    assert judge_test("t", 1, student(derived, sigma - 1), reference).score == 1
    verdict = judge_test("t", 1, student(derived, sigma), reference)
    assert verdict.score == 0 and "your derivation is right, your code is not" in verdict.message
    verdict = judge_test("t", 1, student(derived + a, sigma - 1), reference)
    assert verdict.score == 0 and "your code is right, your derivation is not" in verdict.message


def test_strip_removes_a_derivation_checks_reference_values():
    source = 'check.derivation_matches_code("d", dnll_da, [a], P, code(P), sig(P) - 1, rtol=1e-9, where="w")\n'
    assert "sig(P)" not in strip.strip_expected(source)
