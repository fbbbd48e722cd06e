"""Through the hub's login page in headless Chromium: one student and the instructor.

alice logs in with her Unix password, runs her notebook in her own JupyterLab and sees the
function of her variant: the same one the grader used and her feedback shows. ada logs in, finds
the course in Course List, opens bob's written answer in Formgrader with the rubric beside it and
grades it. Screenshots go to $COURSE_TEST_ARTIFACTS/hub (default /tmp/course-test-artifacts/hub).
"""

import re
from contextlib import contextmanager

import pytest
from people import ARTIFACTS, ASSIGNMENT, NOTEBOOK, printed_function

from course_utils.instructor.hub import LAYOUT

pytestmark = pytest.mark.hub
MANUAL_ANSWER = "overfitting_size_text"  # ps1's first manually graded answer (1 point)


@contextmanager
def page_of(chromium, name):
    """A new page; what it showed when a step failed is kept as <name>-failed.png."""
    page = chromium.new_page(viewport={"width": 1400, "height": 1000})
    try:
        yield page
    except Exception:
        page.screenshot(path=str(ARTIFACTS / f"{name}-failed.png"))
        raise
    finally:
        page.close()


def log_in(page, hub, name):
    """The hub's login page, as a person types into it; returns once their JupyterLab is up."""
    page.goto(f"{hub.url}/hub/login")
    page.fill("#username_input", name)
    page.fill("#password_input", hub.passwords[name])
    page.click("#login_submit")
    page.wait_for_url(re.compile(rf".*/user/{name}/lab.*"), timeout=120_000)
    page.locator(".lm-MenuBar-itemLabel", has_text="File").first.wait_for(timeout=120_000)


def test_student_sees_the_numbers_she_is_graded_and_given_feedback_on(term, hub, chromium):
    with page_of(chromium, "alice") as page:
        student_run(page, hub)


def student_run(page, hub):
    log_in(page, hub, "alice")
    page.goto(f"{hub.url}/user/alice/lab/tree/{LAYOUT.course}/{ASSIGNMENT}/{NOTEBOOK}.ipynb")
    page.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']").first.wait_for(timeout=120_000)
    # the kernel connected (Run All before that runs nothing)
    page.locator(".jp-StatusBar-Widget", has_text="Idle").first.wait_for(timeout=120_000)
    page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
    page.locator(".lm-Menu-itemLabel", has_text="Run All Cells").first.click()
    shown = page.locator(".jp-OutputArea-output", has_text="your function:").first
    shown.wait_for(state="attached", timeout=120_000)
    shown.scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / "alice-notebook.png"))
    seen = shown.inner_text().strip()
    assert seen == printed_function("alice"), f"alice sees {seen!r} while working"
    graded = (LAYOUT.course_dir / "autograded" / "alice" / ASSIGNMENT / f"{NOTEBOOK}.ipynb").read_text()
    assert seen.replace("*", "") in graded.replace("*", ""), "the grader ran alice's notebook with other numbers"


def test_instructor_grades_a_written_answer_with_the_rubric_in_view(term, hub, chromium):
    with page_of(chromium, "ada") as page:
        instructor_run(page, hub, term)


def instructor_run(page, hub, term):
    log_in(page, hub, "ada")
    page.locator(".lm-MenuBar-itemLabel", has_text="Nbgrader").first.click()
    page.locator(".lm-Menu-itemLabel", has_text="Course List").first.click()
    link = page.locator("a", has_text=LAYOUT.course).first
    link.wait_for(timeout=60_000)
    page.screenshot(path=str(ARTIFACTS / "ada-course-list.png"))

    ada, formgrader = term["instructor"], term["formgrader"]
    notebooks = ada.call("GET", f"{formgrader}/api/submitted_notebooks/{ASSIGNMENT}/{NOTEBOOK}").json()
    bob = next(n for n in notebooks if n["student"] == "bob")
    page.goto(f"{formgrader}/submissions/{bob['id']}/")
    page.locator("text=Graders only").first.wait_for(timeout=60_000)
    rubric = page.locator("text=Rubric (1 point)").first
    rubric.scroll_into_view_if_needed()
    score = page.locator(f"input.score#{MANUAL_ANSWER}")
    score.fill("0.5")
    score.press("Tab")  # Formgrader saves on change
    page.wait_for_timeout(1500)
    page.screenshot(path=str(ARTIFACTS / "ada-formgrader-rubric.png"))

    grades = ada.call("GET", f"{formgrader}/api/grades", params={"submission_id": bob["id"]}).json()
    manual = {g["name"]: g["manual_score"] for g in grades}
    assert manual[MANUAL_ANSWER] == 0.5, manual
