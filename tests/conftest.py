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
    """start_lab(course_dir, token) -> base URL of `python -m course_utils.instructor.lab` serving that course."""
    servers = []

    def start(course, token):
        port = free_port()
        server = subprocess.Popen(
            [sys.executable, "-m", "course_utils.instructor.lab", str(port)],
            cwd=course,
            env=dict(os.environ, COURSE_LAB_TOKEN=token),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
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


def _postgres_bin():
    """The newest PostgreSQL server's bin directory from Debian's packages, or None."""
    import glob

    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"),
        key=lambda path: int(path.split("/")[4]) if path.split("/")[4].isdigit() else 0,
    )
    return os.path.dirname(found[-1]) if found else None


@pytest.fixture(scope="session")
def postgres_url():
    """URL of a database on a real, throwaway PostgreSQL server (127.0.0.1 only, trust auth).

    initdb runs in a temporary directory owned by `postgres` (initdb refuses root); the
    server listens on a free port with its unix socket in that directory, and is stopped
    and deleted when the session ends.
    """
    import pwd
    import shutil
    import tempfile

    bindir = _postgres_bin()
    if bindir is None:
        pytest.fail(
            "PostgreSQL server binaries not found in /usr/lib/postgresql/*/bin: run `apt-get install -y postgresql`"
        )
    as_postgres = []
    base = tempfile.mkdtemp(prefix="course-pg-")
    if os.geteuid() == 0:
        as_postgres = ["runuser", "-u", "postgres", "--"]
        account = pwd.getpwnam("postgres")
        os.chown(base, account.pw_uid, account.pw_gid)
    data, log = os.path.join(base, "data"), os.path.join(base, "server.log")
    port = free_port()

    def run(*command):
        done = subprocess.run(
            as_postgres + [os.path.join(bindir, command[0]), *command[1:]],
            cwd=base,
            capture_output=True,
            text=True,
            timeout=120,
        )
        if done.returncode:
            server_log = open(log).read()[-3000:] if os.path.exists(log) else ""
            pytest.fail(f"{' '.join(command)} failed:\n{done.stdout}{done.stderr}{server_log}")

    started = False
    try:
        run("initdb", "-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync")
        options = (
            f"-c listen_addresses=127.0.0.1 -p {port} -c unix_socket_directories={base} "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        )
        run("pg_ctl", "-D", data, "-l", log, "-o", options, "-w", "-t", "60", "start")
        started = True
        run("createdb", "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", "course_test")
        yield f"postgresql://postgres@127.0.0.1:{port}/course_test"
    finally:
        if started:
            subprocess.run(
                as_postgres + [os.path.join(bindir, "pg_ctl"), "-D", data, "-m", "fast", "-w", "stop"],
                cwd=base,
                capture_output=True,
                timeout=120,
            )
        shutil.rmtree(base, ignore_errors=True)
