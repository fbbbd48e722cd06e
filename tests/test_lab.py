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
    return {"base": start_lab(course, token), "token": token}


def test_formgrader_page_is_served(lab):
    status, body = get(f"{lab['base']}/formgrader?token={lab['token']}")
    assert status == 200 and "formgrader" in body.lower()


def test_assignment_list_offers_the_released_assignments(lab):
    _, body = get(f"{lab['base']}/assignments?course_id=dl-workbook&token={lab['token']}", timeout=60)
    listed = {entry["assignment_id"] for entry in json.loads(body)["value"]}
    assert listed == {p.name for p in (REPO / "release").iterdir() if p.is_dir()}


def test_lab_page_is_served(lab):
    status, body = get(f"{lab['base']}/lab?token={lab['token']}")
    assert status == 200 and "JupyterLab" in body
