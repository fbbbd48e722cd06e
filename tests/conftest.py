"""Shared fixtures: a JupyterLab server for a scratch course, started as `make lab` starts it."""
import os
import socket
import subprocess
import sys
import time
import urllib.request

import pytest


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def start_lab():
    """start_lab(course_dir, token) -> base URL of `python -m course_utils.lab` serving that course."""
    servers = []

    def start(course, token):
        port = free_port()
        server = subprocess.Popen([sys.executable, "-m", "course_utils.lab", str(port)], cwd=course,
                                  env=dict(os.environ, COURSE_LAB_TOKEN=token),
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        servers.append(server)
        base = f"http://127.0.0.1:{port}"
        deadline = time.time() + 120
        while time.time() < deadline:
            try:
                urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2)
                return base
            except OSError:
                if server.poll() is not None:
                    pytest.fail(f"make lab's server exited:\n{server.stdout.read()[-3000:]}")
                time.sleep(0.5)
        pytest.fail("JupyterLab did not answer within 120 s")

    yield start
    for server in servers:
        server.terminate()
        server.wait(timeout=30)
