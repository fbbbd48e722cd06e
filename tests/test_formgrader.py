"""The course's Formgrader extension on a real `jupyter server`: rubrics for graders only, local
MathJax, and the Autograde button running the project grader (course_utils/instructor/formgrader.py)."""

import json
import os
import re
import shutil
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from servers import free_port, wait_until_answers

REPO = Path(__file__).resolve().parent.parent
STUDENT = "partly-wrong"
NOTEBOOK = "problem_set_1"
# From source/ps1's solution regions: one model answer and one rubric line of a manual question.
MODEL_ANSWER = "the polynomial interpolates the data"
RUBRIC = "Rubric (1 point): 0.5 for training error increasing"
STUDENT_TEXT = "The curves meet because of noise, says student partly-wrong."

ENV = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")  # alembic, jupyter
pytestmark = pytest.mark.pipeline


def manual_answer_ids(notebook):
    cells = json.loads(Path(notebook).read_text())["cells"]
    return [
        c["metadata"]["nbgrader"]["grade_id"]
        for c in cells
        if c["metadata"].get("nbgrader", {}).get("grade") and c["metadata"]["nbgrader"].get("solution")
    ]


def request(url, token, method="GET", timeout=30):
    req = urllib.request.Request(url, method=method, headers={"Authorization": f"token {token}"})
    if method == "POST":
        req.data = b""
    with urllib.request.urlopen(req, timeout=timeout) as response:
        return response.status, response.read().decode(errors="replace")


def make_course(root):
    """ps1 of this repository with the gradebook nbgrader makes, and one submission written like a student's.

    The manual answers get the student's own words (the bundled examples paste the model answer and
    rubric in, which would hide whether the rubric leaks), one of them with a script in it.
    """
    from course_utils.instructor.demo import build_submission

    for name in ("source/ps1", "release/ps1"):
        shutil.copytree(REPO / name, root / name)
    shutil.copy(REPO / "nbgrader_config.py", root)
    subprocess.run(
        [sys.executable, "-m", "nbgrader", "generate_assignment", "ps1", "--force"],
        cwd=root,
        env=ENV,
        check=True,
        capture_output=True,
    )
    folder = build_submission(root, "ps1", REPO / "examples/ps1" / STUDENT)
    path = folder / f"{NOTEBOOK}.ipynb"
    nb = json.loads(path.read_text())
    manual = manual_answer_ids(root / f"source/ps1/{NOTEBOOK}.ipynb")
    for cell in nb["cells"]:
        if cell["metadata"].get("nbgrader", {}).get("grade_id") in manual:
            cell["source"] = f"{STUDENT_TEXT} $x^2$ <script>window.stolen = 1</script>"
    path.write_text(json.dumps(nb))
    # `course grade` records grades in the gradebook but writes no autograded/ notebook, which
    # Formgrader's submission view and nbgrader's feedback read: the submitted file stands in for it.
    shutil.copytree(folder, root / "autograded" / STUDENT / "ps1")
    return manual


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    if os.geteuid() != 0:
        pytest.skip("course grade needs root (it starts a bubblewrap sandbox per student)")
    course = tmp_path_factory.mktemp("formgrader-course")
    manual = make_course(course)
    config = tmp_path_factory.mktemp("formgrader-config") / "jupyter_server_config.py"
    config.write_text(
        "c.ServerApp.jpserver_extensions = {\n"
        '    "nbgrader.server_extensions.formgrader": True,\n'
        '    "course_utils.instructor.formgrader": True,\n'
        "}\n"
    )
    token, port = "formgrader-test-token", free_port()
    log = open(config.parent / "server.log", "w")
    jupyter = Path(sys.executable).parent / "jupyter"
    process = subprocess.Popen(
        [
            str(jupyter),
            "server",
            "--no-browser",
            "--ServerApp.ip=127.0.0.1",
            f"--port={port}",
            "--ServerApp.port_retries=0",
            "--allow-root",
            f"--config={config}",
            f"--IdentityProvider.token={token}",
            f"--ServerApp.root_dir={course}",
        ],
        cwd=course,
        env=ENV,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_answers(f"{base}/api/status?token={token}", process, (config.parent / "server.log").read_text, 60)
    except RuntimeError:
        process.kill()
        raise
    yield {"base": base, "token": token, "course": course, "manual": manual, "log": config.parent / "server.log"}
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
    log.close()


@pytest.fixture(scope="module")
def autograded(server):
    """Formgrader's Autograde button for the student: its JSON answer."""
    status, body = request(
        f"{server['base']}/formgrader/api/submission/ps1/{STUDENT}/autograde", server["token"], "POST", timeout=300
    )
    assert status == 200
    return json.loads(body)


def submission_page(server):
    _, body = request(f"{server['base']}/formgrader/api/submitted_notebooks/ps1/{NOTEBOOK}", server["token"])
    (submission,) = [s for s in json.loads(body) if s["student"] == STUDENT]
    return request(f"{server['base']}/formgrader/submissions/{submission['id']}/", server["token"])[1]


def expected_points(student):
    """ps1's automatic points minus those of the tests the example's expected.json says it fails."""
    failing = set(json.loads((REPO / "examples" / "ps1" / student / "expected.json").read_text())["fail"])
    cells = json.loads((REPO / "source" / "ps1" / f"{NOTEBOOK}.ipynb").read_text())["cells"]
    tests = [c["metadata"]["nbgrader"] for c in cells if c["metadata"].get("nbgrader", {}).get("grade")]
    return sum(t["points"] for t in tests if not t.get("solution") and t["grade_id"] not in failing)


def test_autograde_button_runs_the_project_grader(server, autograded):
    assert set(autograded) >= {"success", "log"}
    assert autograded["success"] is True, autograded
    assert re.search(rf"course_utils\.grading\.cli grade ps1 --students {STUDENT} --force", autograded["log"])
    assert re.search(rf"{STUDENT}: graded, {expected_points(STUDENT):g} points", autograded["log"]), autograded["log"]
    # what only the project grader writes: its report per student and the integrity table
    assert (server["course"] / "feedback" / STUDENT / "ps1" / "grading_report.txt").is_file()
    assert (server["course"] / "integrity-ps1.csv").is_file()


def test_autograde_refuses_ids_that_would_be_options(server):
    status, body = request(
        f"{server['base']}/formgrader/api/submission/ps1/--unsandboxed/autograde", server["token"], "POST"
    )
    answer = json.loads(body)
    assert status == 200 and answer["success"] is False and "refused" in answer["error"]


def test_graders_see_each_rubric_after_the_answer(server, autograded):
    page = submission_page(server)
    assert page.count(STUDENT_TEXT) == len(server["manual"]) == 5
    assert page.count("Graders only: model answer and rubric") == 5
    assert MODEL_ANSWER in page and RUBRIC in page
    # the rubric block follows the student's answer
    assert page.index(STUDENT_TEXT) < page.index("Graders only") < page.index(RUBRIC)
    # a student's script is inert in the grader's browser
    assert "<script>window.stolen" not in page


def test_mathjax_is_served_by_the_server(server, autograded):
    page = submission_page(server)
    (src,) = re.findall(r'<script[^>]+src="([^"]*MathJax[^"]*)"', page)
    assert src.startswith("/") and not src.startswith("//"), src
    assert "cdn" not in page.lower().split("</head>")[0]
    assert "white-space: pre-wrap" in page.split("</head>")[0]  # messages wrap (wrap_messages.css.j2)
    status, body = request(server["base"] + src, server["token"])
    assert status == 200 and "MathJax" in body


def test_feedback_has_no_rubric(server, autograded):
    status, body = request(
        f"{server['base']}/formgrader/api/assignment/ps1/{STUDENT}/generate_feedback",
        server["token"],
        "POST",
        timeout=120,
    )
    assert json.loads(body)["success"] is True, body
    html = (server["course"] / "feedback" / STUDENT / "ps1" / f"{NOTEBOOK}.html").read_text()
    assert STUDENT_TEXT in html
    for secret in (MODEL_ANSWER, RUBRIC, "Rubric (", "Graders only"):
        assert secret not in html


def test_the_rubric_step_ignores_anything_but_the_submission_view(tmp_path):
    import nbformat

    from course_utils.instructor.formgrader import RubricForGraders

    shutil.copytree(REPO / "source/ps1", tmp_path / "source/ps1")
    nb = nbformat.read(REPO / f"release/ps1/{NOTEBOOK}.ipynb", 4)
    step = RubricForGraders(course_root=str(tmp_path))
    feedback_resources = {"nbgrader": {"student": STUDENT, "assignment": "ps1", "notebook": NOTEBOOK}}
    for resources in ({}, feedback_resources, {"assignment_id": "ps1", "notebook_id": NOTEBOOK}):
        out, _ = step.preprocess(nbformat.from_dict(nb), resources)
        assert len(out.cells) == len(nb.cells) and RUBRIC not in json.dumps(out)
    view = {"submission_id": "x", "assignment_id": "ps1", "notebook_id": NOTEBOOK}
    out, _ = step.preprocess(nbformat.from_dict(nb), view)
    assert len(out.cells) == len(nb.cells) + 5 and RUBRIC in json.dumps(out)


@pytest.mark.parametrize(
    "command, error",
    [
        ([sys.executable, "-c", "import sys; print('grader says no'); sys.exit(3)"], "exited with status 3"),
        (["/nonexistent/course-grade"], "could not start"),
        ([sys.executable, "-c", "print('  s1: failed (sandbox unavailable), 0 points')"], "could not grade s1"),
    ],
)
def test_a_failing_grade_command_is_a_clear_error(tmp_path, command, error):
    import asyncio

    from course_utils.instructor.formgrader import CourseFormgrader, run_grader

    settings = {"course_formgrader": CourseFormgrader(course_root=str(tmp_path), grade_command=command)}
    answer = asyncio.run(run_grader(settings, "ps1", "s1"))
    assert answer["success"] is False and error in answer["error"], answer
