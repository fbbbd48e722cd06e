"""Fixtures of the LMS tests: the tool's key, an LTI 1.3 platform (tests/lms/lti_platform.py), a course
gradebook graded like a term (final, late, pending, missing, a student the LMS does not know), and
a JupyterHub with the course's LTI section, all on loopback."""

import json
import os
import secrets
import shutil
import subprocess

import pytest
from lms_course import (
    BIN,
    CLIENT_ID,
    CONTEXT_ID,
    COURSE,
    DEPLOYMENT_ID,
    HERE,
    MEMBERS,
    build_gradebook,
    config_text,
)
from lti_platform import Platform
from servers import free_port, wait_until_answers

from course_utils.instructor.ags import make_tool_key


@pytest.fixture(scope="session")
def tool_key(tmp_path_factory):
    """(private key path, public JWKS) of the course tool, made by the code `course lms-key` runs."""
    path = tmp_path_factory.mktemp("tool") / "lti-tool-key.pem"
    return path, make_tool_key(path, "course-tool-1")


@pytest.fixture
def platform(tool_key):
    platform = Platform(CLIENT_ID, DEPLOYMENT_ID, CONTEXT_ID, tool_key[1], MEMBERS).start()
    yield platform
    platform.stop()


# -- the course ------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def graded_template(tmp_path_factory):
    """A graded course folder (built once: nbgrader's alembic costs seconds), copied per test."""
    root = tmp_path_factory.mktemp("course-template")
    (root / "nbgrader_config.py").write_text(config_text(root))
    os.environ["PATH"] = f"{BIN}{os.pathsep}{os.environ['PATH']}"  # nbgrader runs `alembic` for a new gradebook
    build_gradebook(root)
    return root


@pytest.fixture
def course(graded_template, platform, tool_key, tmp_path, monkeypatch):
    """A copy of the graded course, its nbgrader_config.py naming the platform; the cwd of `course`."""
    root = tmp_path / "course"
    shutil.copytree(graded_template, root)
    (root / "nbgrader_config.py").write_text(config_text(root, platform))
    shutil.copy(tool_key[0], root / "lti-tool-key.pem")
    monkeypatch.chdir(root)
    return root


# -- the hub ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def hub(tmp_path_factory, tool_key):
    """A running JupyterHub with the course's LTI section and the module's own platform."""
    platform = Platform(CLIENT_ID, DEPLOYMENT_ID, CONTEXT_ID, tool_key[1], MEMBERS).start()
    state = tmp_path_factory.mktemp("hub-state")
    settings = {
        "issuer": platform.issuer,
        "client_id": CLIENT_ID,
        "authorize_url": platform.url + "/auth",
        "jwks_url": platform.url + "/jwks",
        "courses": {CONTEXT_ID: COURSE},
    }
    (state / "lti.json").write_text(json.dumps(settings))
    port, token = free_port(), secrets.token_hex(16)
    env = dict(
        os.environ,
        COURSE_LTI=str(state / "lti.json"),
        LTI_TEST_STATE=str(state),
        LTI_TEST_PORT=str(port),
        LTI_TEST_PUBLIC_PORT=str(free_port()),
        LTI_TEST_TOKEN=token,
    )
    log = open(state / "hub.log", "w")
    process = subprocess.Popen(
        [str(BIN / "jupyterhub"), "-f", str(HERE / "hub_config.py")], cwd=state, env=env, stdout=log, stderr=log
    )
    url = f"http://127.0.0.1:{port}/hub"
    platform.redirect_uris.add(f"{url}/lti13/oauth_callback")
    try:
        wait_until_answers(url + "/api/", process, (state / "hub.log").read_text, seconds=30)
        yield {"url": url, "token": token, "platform": platform, "log": state / "hub.log"}
    finally:
        process.terminate()
        process.wait(timeout=15)
        log.close()
        platform.stop()
