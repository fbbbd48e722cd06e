"""The project grader on real assignments agrees with their examples' expected failures.

The example submissions (examples/<a>/*/expected.json say which tests must fail) are graded by
`course grade` in the sandbox, with the out-of-process oracle; every example must fail exactly
its listed tests, as it does under stock nbgrader in test_pipeline.py. `make test` grades ps1;
`GRADER_ASSIGNMENTS="ps1 ps2 ps3 ps4 ps5"` grades the others too (about 10 minutes more).
"""

import json
import os
import shutil
import subprocess
import sys

import pytest
from scratch import ENV, REPO

from course_utils.instructor import demo

ASSIGNMENTS = os.environ.get("GRADER_ASSIGNMENTS", "ps1").split()


@pytest.fixture(scope="module", params=ASSIGNMENTS)
def graded(request, tmp_path_factory):
    ASSIGNMENT = request.param
    root = tmp_path_factory.mktemp("real")
    for part in ("source", "release", "examples"):
        shutil.copytree(REPO / part / ASSIGNMENT, root / part / ASSIGNMENT)
    shutil.copy(REPO / "nbgrader_config.py", root)
    demo.release(root, ASSIGNMENT)  # puts the assignment into this course's gradebook
    examples = demo.example_students(root, ASSIGNMENT)
    for example in examples:
        demo.build_submission(root, ASSIGNMENT, example)
    run = subprocess.run(
        [sys.executable, "-m", "course_utils.grading.cli", "grade", ASSIGNMENT, "--workers", "2"],
        cwd=root,
        env=ENV,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    from scratch import gradebook_scores

    return root, examples, gradebook_scores(root, assignment=ASSIGNMENT), run.stdout


def test_each_example_fails_exactly_its_expected_tests(graded):
    root, examples, scores, log = graded
    for example in examples:
        expected = json.loads((example / "expected.json").read_text())["fail"]
        tests = {gid: s for gid, s in scores[example.name].items() if gid.startswith("test_")}
        failed = sorted(gid for gid, s in tests.items() if not s)
        assert failed == sorted(tests if expected == "all" else expected), (example.name, log)
