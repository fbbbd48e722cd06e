"""`make lab` serves JupyterLab with nbgrader's student and instructor extensions working."""

import json
import shutil
import urllib.request
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.pipeline


def get(url, timeout=5):
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return response.status, response.read().decode()


@pytest.fixture(scope="module")
def lab(tmp_path_factory, start_lab):
    course = tmp_path_factory.mktemp("lab-course")
    for name in ("source", "release"):
        shutil.copytree(REPO / name, course / name)
    shutil.copy(REPO / "nbgrader_config.py", course)
    token = "test-token"
    return {"base": start_lab(course, token), "token": token, "course": course}


def test_formgrader_page_is_served(lab):
    status, body = get(f"{lab['base']}/formgrader?token={lab['token']}")
    assert status == 200 and "formgrader" in body.lower()


def test_assignment_list_offers_the_released_assignments(lab):
    _, body = get(f"{lab['base']}/assignments?course_id=dl-workbook&token={lab['token']}", timeout=60)
    listed = {entry["assignment_id"] for entry in json.loads(body)["value"]}
    assert listed == {p.name for p in (REPO / "release").iterdir() if p.is_dir()}


def test_assignment_list_fetches_into_student_work_not_the_course_root(lab):
    request = urllib.request.Request(
        f"{lab['base']}/assignments/fetch?course_id=dl-workbook&assignment_id=ps1",
        method="POST",
        headers={"Authorization": f"token {lab['token']}"},
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        listed = json.loads(response.read())
    assert any(entry["assignment_id"] == "ps1" and entry["status"] == "fetched" for entry in listed["value"])
    assert list((lab["course"] / "student-work" / "dl-workbook" / "ps1").glob("*.ipynb"))
    assert not (lab["course"] / "dl-workbook").exists()


def test_lab_page_is_served(lab):
    status, body = get(f"{lab['base']}/lab?token={lab['token']}")
    assert status == 200 and "JupyterLab" in body


def test_a_busy_port_is_replaced_by_a_free_one():
    import socket

    from course_utils.instructor.lab import free_port

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        taken = busy.getsockname()[1]
        assert free_port(taken) != taken
    assert free_port(taken) == taken  # free again


def test_only_changed_assignments_are_released_again(tmp_path, monkeypatch):
    from course_utils.instructor import lab

    calls = []

    def release(root, command, assignment, *args):
        calls.append(assignment)
        (root / ".exchange" / "course" / "outbound" / assignment).mkdir(parents=True, exist_ok=True)

    monkeypatch.setattr(lab, "nbgrader", release)
    for name in ("ps1", "ps2"):
        (tmp_path / "release" / name).mkdir(parents=True)
        (tmp_path / "release" / name / "nb.ipynb").write_text(name)
    lab.release_changed(tmp_path)
    lab.release_changed(tmp_path)
    assert calls == ["ps1", "ps2"]
    (tmp_path / "release" / "ps2" / "nb.ipynb").write_text("changed")
    lab.release_changed(tmp_path)
    assert calls == ["ps1", "ps2", "ps2"]
