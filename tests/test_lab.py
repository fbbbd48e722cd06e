"""`make lab` serves JupyterLab with nbgrader's student and instructor extensions working."""
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.pipeline


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(url, timeout=5):
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return response.status, response.read().decode()


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    course = tmp_path_factory.mktemp("lab-course")
    for name in ("source", "release"):
        shutil.copytree(REPO / name, course / name)
    shutil.copy(REPO / "nbgrader_config.py", course)
    port, token = free_port(), "test-token"
    server = subprocess.Popen([sys.executable, "-m", "course_utils.lab", str(port)], cwd=course,
                              env=dict(os.environ, COURSE_LAB_TOKEN=token),
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    base = f"http://127.0.0.1:{port}"
    deadline = time.time() + 90
    while time.time() < deadline:
        try:
            get(f"{base}/api/status?token={token}")
            break
        except OSError:
            assert server.poll() is None, server.stdout.read()
            time.sleep(0.5)
    else:
        server.kill()
        pytest.fail("JupyterLab did not answer within 90 s")
    yield {"base": base, "token": token}
    server.terminate()
    server.wait(timeout=20)


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
