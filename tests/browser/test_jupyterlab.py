"""A student and an instructor using the course in JupyterLab, in a real (headless) Chromium.

Run with `make test-browser`. Needs Debian's chromium (/usr/bin/chromium) and the Python
playwright package (no browser download). Screenshots go to $COURSE_SCREENSHOTS or
./browser-screenshots/, printed at the start of the run.
"""

import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import numpy as np
import pytest
from PIL import Image

playwright = pytest.importorskip("playwright.sync_api", reason="pip install playwright")

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
SHOTS = Path(os.environ.get("COURSE_SCREENSHOTS", REPO / "browser-screenshots"))
NOTEBOOK = "student/ps1/problem_set_1.ipynb"
pytestmark = pytest.mark.browser

# The student's answer to 1.1, typed into the answer cell (statements only: no indentation).
ANSWER_1_1 = (
    "grad_f = [sp.diff(f, x), sp.diff(f, y)]\n"
    "hessian_f = sp.hessian(f, (x, y))\n"
    "critical_points = [(s[x], s[y]) for s in sp.solve(grad_f, [x, y], dict=True)]\n"
    "classify = lambda p: 'saddle point' if hessian_f.subs({x: p[0], y: p[1]}).det() < 0 "
    "else 'local minimum'\n"
)


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """A graded demo course (for Formgrader) plus a student's copy of the ps1 release."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} not found: apt-get install -y chromium (make test-browser does)")
    root = tmp_path_factory.mktemp("browser-course")
    for name in ("source", "examples"):
        shutil.copytree(REPO / name / "ps1", root / name / "ps1")
    shutil.copy(REPO / "examples" / "roster.csv", root / "examples")  # make demo imports the class list
    shutil.copy(REPO / "nbgrader_config.py", root)
    subprocess.run(
        [sys.executable, "-m", "course_utils.instructor.demo", "all", "ps1"], cwd=root, check=True, capture_output=True
    )
    (root / "student").mkdir()
    shutil.copytree(root / "release" / "ps1", root / "student" / "ps1")
    SHOTS.mkdir(parents=True, exist_ok=True)
    print(f"\nscreenshots: {SHOTS}")
    return root


@pytest.fixture(scope="module")
def lab(course, start_lab):
    token = "browser-test"
    return {"base": start_lab(course, token), "token": token}


@pytest.fixture(scope="module")
def browser():
    with playwright.sync_playwright() as p:
        chromium = p.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(60_000)
    yield page
    context.close()


def pixels(png_bytes):
    return np.asarray(Image.open(io.BytesIO(png_bytes)).convert("RGB"), dtype=np.int16)


def menu(page, *path):
    """Click through JupyterLab's menu bar, e.g. menu(page, 'Run', 'Run All Cells')."""
    page.locator(".lm-MenuBar-itemLabel", has_text=path[0]).first.click()
    for label in path[1:]:
        page.locator(".lm-Menu-itemLabel", has_text=label).first.click()


def open_student_notebook(page, lab):
    page.goto(f"{lab['base']}/lab/tree/{NOTEBOOK}?token={lab['token']}")
    page.locator(".jp-Notebook .jp-Cell").first.wait_for()
    page.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']").first.wait_for(timeout=90_000)


def answer_cell(page, grade_id_text):
    """The code cell whose editor contains ``grade_id_text`` (stub answer cells all look alike)."""
    return page.locator(".jp-CodeCell").filter(has_text=grade_id_text).first


def test_student_runs_the_notebook_moves_a_slider_and_validates(page, lab):
    open_student_notebook(page, lab)
    # The first answer cell is the one after "f_definition"; fill it with a correct answer.
    cell = page.locator(".jp-CodeCell").filter(has_text="raise NotImplementedError").first
    cell.locator(".cm-content").click()
    page.keyboard.press("Control+A")
    page.keyboard.insert_text(ANSWER_1_1)
    menu(page, "Run", "Run All Cells")
    check = page.locator(".jp-OutputArea-output", has_text="1.1 classification").first
    check.wait_for(state="attached", timeout=120_000)  # cells off screen are not "visible"
    check.scroll_into_view_if_needed()
    page.screenshot(path=str(SHOTS / "visible-check.png"))
    assert "visible check" in check.text_content() and "passed" in check.text_content()
    assert "hidden test" in check.text_content() and "will run at grading" in check.text_content()

    # The f explorer: its image changes when the scale slider moves.
    explorer = page.locator(".widget-vbox").filter(has=page.locator("img")).first
    image = explorer.locator("img").first
    image.scroll_into_view_if_needed()
    image.wait_for()
    page.wait_for_timeout(500)
    before = image.screenshot(path=str(SHOTS / "slider-before.png"))
    handle = explorer.locator(".widget-slider .noUi-handle").first
    handle.click()  # a click on the handle focuses it; arrow keys then move it one step each
    for _ in range(25):
        page.keyboard.press("ArrowLeft")
    page.wait_for_timeout(1500)
    after = image.screenshot(path=str(SHOTS / "slider-after.png"))
    a, b = pixels(before), pixels(after)
    rows, cols = min(a.shape[0], b.shape[0]), min(a.shape[1], b.shape[1])  # the plot may resize
    changed = np.mean(np.any(np.abs(a[:rows, :cols] - b[:rows, :cols]) > 16, axis=-1))
    assert changed > 0.05, f"only {changed:.1%} of the explorer's pixels changed after the slider move"

    # Save, then nbgrader's Validate button: a dialog reports the result.
    page.keyboard.press("Control+S")
    page.wait_for_timeout(1000)
    page.locator("button, .jp-ToolbarButtonComponent", has_text="Validate").first.click()
    dialog = page.locator(".jp-Dialog-content")
    dialog.wait_for(timeout=180_000)
    page.wait_for_timeout(500)
    page.screenshot(path=str(SHOTS / "validate-result.png"))
    text = dialog.inner_text()
    assert "NotImplementedError" in text or "failed" in text.lower(), text[:500]
    assert "1.1 classification" not in text  # the answered question passes validation


def expected_formgrader_scores():
    """Score column text per example student, from the source points and expected.json."""
    cells = [
        c
        for c in nbformat.read(REPO / "source" / "ps1" / "problem_set_1.ipynb", 4).cells
        if c.metadata.get("nbgrader", {}).get("grade")
    ]
    points = {c.metadata.nbgrader.grade_id: c.metadata.nbgrader.points for c in cells}
    auto = {gid: p for c, (gid, p) in zip(cells, points.items()) if c.cell_type == "code"}
    scores = {}
    for example in (REPO / "examples" / "ps1").iterdir():
        fail = json.loads((example / "expected.json").read_text())["fail"]
        fail = auto if fail == "all" else fail
        scores[example.name] = f"{sum(auto.values()) - sum(auto[g] for g in fail):g} / {sum(points.values()):g}"
    return scores


def test_instructor_sees_autograded_submissions_in_formgrader(page, lab):
    page.goto(f"{lab['base']}/lab?token={lab['token']}")  # logs in: formgrader's API uses the cookie
    page.locator(".lm-MenuBar-itemLabel", has_text="Nbgrader").first.wait_for()
    page.goto(f"{lab['base']}/formgrader/manage_submissions/ps1")
    rows = page.locator("table tr")
    rows.filter(has_text="partly-wrong").first.wait_for(timeout=60_000)
    page.screenshot(path=str(SHOTS / "formgrader-submissions.png"), full_page=True)
    for student, score in expected_formgrader_scores().items():
        assert score in rows.filter(has_text=student).first.inner_text(), student
