"""LTI 1.3 against a real platform on loopback (tests/lms/lti_platform.py): launches into the course
hub (user name, group, refused tokens), `course publish` through AGS (scores equal to the
gradebook's, pending not final, reposts, a student the LMS does not know, failures retried), and
the Canvas and Moodle gradebook files. Expected scores are read from the gradebook with nbgrader's
own API, never written here."""

import csv
import re

import pytest
import requests
from lms_course import ASSIGNMENT, COURSE, MEMBERS, STUDENTS, set_manual

from course_utils.grading.cli import main

pytestmark = pytest.mark.lms


# -- launch ----------------------------------------------------------------------------------------


def launch(hub, user, spoil=None):
    """A browser's LTI 1.3 launch: initiation -> the platform's auth form -> the hub's callback.

    Returns the hub's answer to the form post (not followed: a login redirects, a refusal is 4xx).
    """
    browser = requests.Session()
    start = hub["platform"].launch(user, target_link_uri=hub["url"] + "/", spoil=spoil)
    to_platform = browser.post(hub["url"] + "/lti13/oauth_login", data=start, allow_redirects=False)
    assert to_platform.status_code == 302, to_platform.text[:500]
    form = browser.get(to_platform.headers["Location"])
    assert form.status_code == 200, form.text
    action = re.search(r'action="([^"]+)"', form.text)[1]
    fields = dict(re.findall(r'name="(\w+)" value="([^"]*)"', form.text))
    return browser.post(action.replace("&amp;", "&"), data=fields, allow_redirects=False)


def hub_user(hub, name):
    """The hub's record of ``name`` through its REST API (a service token), or None."""
    answer = requests.get(f"{hub['url']}/api/users/{name}", headers={"Authorization": f"token {hub['token']}"})
    return answer.json() if answer.status_code == 200 else None


@pytest.mark.parametrize(("user", "group"), [("stu-ada", f"nbgrader-{COURSE}"), ("ins-eve", f"formgrade-{COURSE}")])
def test_launch_logs_in_with_the_lti_subject_and_the_course_group(hub, user, group):
    answer = launch(hub, user)
    assert answer.status_code == 302, answer.text[:500]
    assert any(name.startswith("jupyterhub") for name in answer.cookies.keys())  # logged in
    model = hub_user(hub, user)
    assert model is not None and model["name"] == user
    assert model["groups"] == [group]
    assert f"LTI launch: {user} as " in hub["log"].read_text()  # one log line per launch


@pytest.mark.parametrize(
    ("spoil", "status", "reason"),
    [
        ("tampered", 400, "Signature verification failed"),  # roles rewritten, the platform's signature kept
        ("expired", 400, "Signature has expired"),
        ("wrong_audience", 401, "Audience doesn&#39;t match"),  # issued for another tool
    ],
)
def test_spoiled_id_tokens_are_refused(hub, spoil, status, reason):
    user = "stu-bob"  # never launched successfully in this module
    answer = launch(hub, user, spoil=spoil)
    assert (answer.status_code, reason in answer.text) == (status, True), answer.text[:300]
    assert hub_user(hub, user) is None


def test_a_role_that_is_neither_student_nor_staff_is_refused(hub):
    answer = launch(hub, "men-max")
    assert answer.status_code == 400 and "give no access" in answer.text
    assert hub_user(hub, "men-max") is None


# -- publish ---------------------------------------------------------------------------------------


def gradebook_truth(root):
    """{student: (score after late penalty, max, pending)} of ps1 through nbgrader's API."""
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{root / 'gradebook.db'}", course_id=COURSE) as gradebook:
        return {
            s.student.id: (max(0.0, s.score - s.late_submission_penalty), s.max_score, s.needs_manual_grade)
            for s in gradebook.assignment_submissions(ASSIGNMENT)
        }


def published(platform):
    """{userId: score} of the one ps1 line item (asserting there is exactly one)."""
    items = [item for item in platform.line_items.values() if item["resourceId"] == ASSIGNMENT]
    assert len(items) == 1, items
    return platform.scores[items[0]["id"]]


def record(root):
    with open(root / "lms-scores.csv", newline="") as handle:
        return list(csv.DictReader(handle))


def check_matches_gradebook(root, platform):
    """The platform's line item holds the gradebook's scores: final as FullyGraded, pending without a score."""
    scores, truth = published(platform), gradebook_truth(root)
    for student, (score, top, pending) in truth.items():
        if student not in MEMBERS:
            assert student not in scores
            continue
        sent = scores[student]
        if pending:
            assert sent["gradingProgress"] == "PendingManual" and "scoreGiven" not in sent
        else:
            assert sent["gradingProgress"] == "FullyGraded"
            assert (sent["scoreGiven"], sent["scoreMaximum"]) == (pytest.approx(score), top)
    assert set(scores) == {s for s in truth if s in MEMBERS}  # nobody without a submission got a score


def test_publish_sends_the_gradebooks_scores(course, platform, capsys):
    assert main(["publish", ASSIGNMENT]) == 1  # 1: a student was refused by the LMS
    out = capsys.readouterr().out
    check_matches_gradebook(course, platform)
    truth = gradebook_truth(course)
    assert truth["stu-bob"][0] < 2.0 + 1.5 + 4.0  # the late penalty was applied (stu-bob is late)
    assert "stu-dee" not in truth and "stu-dee: missing, nothing to send" in out
    assert "refused by the LMS: stu-zed" in out
    rows = {row["student"]: row for row in record(course)}
    assert rows["stu-zed"]["outcome"] == "rejected" and "422" in rows["stu-zed"]["detail"]
    assert {rows[s]["outcome"] for s in ("stu-ada", "stu-bob", "stu-cy")} == {"posted"}
    assert platform.line_items[next(iter(platform.line_items))]["scoreMaximum"] == truth["stu-ada"][1]


def test_reposting_sends_nothing_new_and_force_duplicates_nothing(course, platform, capsys):
    main(["publish", ASSIGNMENT])
    first = len(platform.received)
    main(["publish", ASSIGNMENT])
    assert len(platform.received) == first, "an unchanged score was sent again"
    assert "3 unchanged" in capsys.readouterr().out
    main(["publish", ASSIGNMENT, "--force"])
    assert len(platform.received) == 2 * first
    check_matches_gradebook(course, platform)  # one line item, one score per student


def test_a_manual_grade_turns_pending_into_final(course, platform):
    main(["publish", ASSIGNMENT])
    assert published(platform)["stu-cy"]["gradingProgress"] == "PendingManual"
    set_manual(course, "stu-cy", 2.5)
    main(["publish", ASSIGNMENT])
    assert published(platform)["stu-cy"]["gradingProgress"] == "FullyGraded"
    check_matches_gradebook(course, platform)


def test_platform_failures_are_retried(course, platform, capsys):
    platform.fail("token", times=1, status=503)
    platform.fail("scores", times=2, status=500)
    main(["publish", ASSIGNMENT])
    assert "try 2 of 4" in capsys.readouterr().out
    check_matches_gradebook(course, platform)
    assert ("POST", "scores", 500) in platform.requests and ("POST", "token", 503) in platform.requests


def test_a_lasting_failure_loses_no_score(course, platform, capsys):
    platform.fail("scores", times=100, status=502)
    assert main(["publish", ASSIGNMENT]) == 1
    assert "failed: stu-ada, stu-bob, stu-cy, stu-zed" in capsys.readouterr().out
    assert {row["outcome"] for row in record(course)} == {"failed"}  # stu-zed too: no answer, no verdict
    platform.fail("scores", times=0)
    main(["publish", ASSIGNMENT])  # the next run sends what did not go through
    check_matches_gradebook(course, platform)


def test_a_bad_client_assertion_is_refused_by_the_platform(course, platform, tool_key, capsys):
    from course_utils.instructor.ags import make_tool_key

    (course / "lti-tool-key.pem").unlink()
    make_tool_key(course / "lti-tool-key.pem", "course-tool-1")  # a key the platform does not know
    assert main(["publish", ASSIGNMENT]) == 2
    assert "invalid_client" in capsys.readouterr().err and not platform.line_items


# -- gradebook files -------------------------------------------------------------------------------


def read_rows(path):
    with open(path, newline="") as handle:
        return list(csv.reader(handle))


def test_canvas_export_has_its_import_columns_and_leaves_missing_and_pending_empty(course):
    assert main(["export", "--format", "canvas"]) == 0
    header, points, *rows = read_rows(course / "grades-canvas.csv")
    assert header == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", ASSIGNMENT]
    truth = gradebook_truth(course)
    assert points[0] == "Points Possible" and float(points[5]) == truth["stu-ada"][1]
    cells = {row[2]: row[5] for row in rows}
    assert set(cells) == set(STUDENTS)
    for student, cell in cells.items():
        if student not in truth or truth[student][2]:  # missing, or manual points pending
            assert cell == ""
        else:
            assert float(cell) == pytest.approx(truth[student][0])


def test_moodle_export_has_a_grade_and_a_feedback_column(course):
    assert main(["export", "--format", "moodle", "-o", "moodle.csv"]) == 0
    header, *rows = read_rows(course / "moodle.csv")
    assert header == ["ID number", "Email address", "First name", "Last name", ASSIGNMENT, f"{ASSIGNMENT} feedback"]
    by_id, truth = {row[0]: row for row in rows}, gradebook_truth(course)
    assert by_id["stu-dee"][4:] == ["", "missing"]
    assert by_id["stu-cy"][4] == "" and by_id["stu-cy"][5].startswith("pending: 5 points")
    assert float(by_id["stu-ada"][4]) == pytest.approx(truth["stu-ada"][0])
    assert "late penalty" in by_id["stu-bob"][5]


def test_default_export_is_unchanged(course):
    assert main(["export"]) == 0
    assert read_rows(course / "grades_status.csv")[0][:2] == ["assignment", "student"]


def test_lms_key_makes_a_key_the_platform_accepts(course, platform, capsys):
    import json

    (course / "lti-tool-key.pem").unlink()
    assert main(["lms-key"]) == 0
    platform.tool_jwks = json.loads((course / "lti-tool-jwks.json").read_text())  # what the LMS is given
    assert (course / "lti-tool-key.pem").stat().st_mode & 0o077 == 0
    assert (course / "lti-tool-public.pem").read_text().startswith("-----BEGIN PUBLIC KEY-----")
    assert main(["publish", ASSIGNMENT]) == 1  # posted (stu-zed refused as before)
    check_matches_gradebook(course, platform)
    assert main(["lms-key"]) == 2  # an existing key is never overwritten


def test_the_course_hub_config_loads_the_lti_section_only_when_asked(tmp_path, monkeypatch):
    import json
    from pathlib import Path

    from traitlets.config.loader import PyFileConfigLoader

    hub_dir = Path(__file__).resolve().parents[2] / "hub"
    monkeypatch.setenv("COURSE_HUB_ROSTER", str(hub_dir / "roster.csv"))
    monkeypatch.delenv("COURSE_LTI", raising=False)
    plain = PyFileConfigLoader("jupyterhub_config.py", path=str(hub_dir)).load_config()
    assert plain.JupyterHub.authenticator_class == "pam" and plain.JupyterHub.load_groups
    settings = {"issuer": "https://lms", "client_id": "1", "authorize_url": "https://lms/auth"}
    settings |= {"jwks_url": "https://lms/jwks", "courses": {"*": COURSE}}
    (tmp_path / "lti.json").write_text(json.dumps(settings))
    monkeypatch.setenv("COURSE_LTI", str(tmp_path / "lti.json"))
    lti = PyFileConfigLoader("jupyterhub_config.py", path=str(hub_dir)).load_config()
    assert lti.JupyterHub.authenticator_class.endswith("CourseLTIAuthenticator")
    assert lti.JupyterHub.load_groups == {} and lti.CourseLTIAuthenticator.courses == {"*": COURSE}
