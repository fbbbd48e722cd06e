"""Shared fixtures: a JupyterLab server for a scratch course, started as `make lab` starts it."""

import os
import subprocess
import sys

import pytest
from servers import free_port, wait_until_answers


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
        wait_until_answers(f"{base}/api/status?token={token}", server, server.stdout.read, seconds=120)
        return base

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


# --- make test's schedule ------------------------------------------------------------------------
#
# `pytest -n 2 --dist loadscope` hands each worker a whole scope (a module, a test class, a
# notebook) at a time, in the order of the collection (xdist's own reordering, by number of tests,
# is switched off in pytest_configure: it put the five stock-nbgrader demos, 12 tests each, after
# the unit modules, so they ran last and one worker waited for the other). Here the collection is
# ordered longest scope first, so the short unit modules fill the end on both workers.
# Seconds of one worker with the other one busy (`--durations`, this 2-core machine); a scope not
# listed is short and keeps its place after these.
SCOPE_SECONDS = {  # measured with --durations=0 on 2 cores (2026-12-03 14:00, 14 examples in the stock round trip)
    "tests/grading/test_adversarial.py": 141,  # one `course grade` of 67 attacks and 13 honest variants
    "tests/test_pipeline.py::TestPipeline_ps2": 125,  # one `make demo` per assignment
    "tests/grading/test_grader_service.py": 79,
    "tests/test_pipeline.py::TestPipeline_ps3": 61,
    "tests/test_pipeline.py::TestPipeline_ps5": 52,
    "tests/test_pipeline.py::TestPipeline_ps4": 52,
    "tests/test_pipeline.py::TestPipeline_ps1": 40,
    "tests/grading/test_real_assignments.py": 35,
    "tests/test_formgrader.py": 24,
    "tests/unit/test_term.py": 21,
    "tests/grading/test_plain_notebooks.py": 19,
    "tests/unit/test_zygote.py": 18,
    "tests/lms/test_lti.py": 13,  # a JupyterHub and an LTI platform on loopback
    "tests/unit/test_store.py": 11,
    "tests/test_lab.py": 10,
    "source/ps4/dl_assignment_3.ipynb": 9,  # nbval at the grading budget
    "source/ps3/fashion_mnist.ipynb": 8,
    "source/ps5/short_problems.ipynb": 7,
    "source/ps2/vae.ipynb": 7,
}
SHORT_SCOPE = 1  # seconds: any other scope


def scope_of(item):
    """xdist's loadscope unit: the node id up to its last '::' (a module, a class or a notebook)."""
    return item.nodeid.rsplit("::", 1)[0]


def pytest_collection_modifyitems(config, items):
    """Without --full, tests marked `full` are deselected; then longest scopes first (items of a scope
    stay together and in their order: a stable sort)."""
    if not config.getoption("full"):
        repeats = [item for item in items if item.get_closest_marker("full")]
        if repeats:
            config.hook.pytest_deselected(items=repeats)
            items[:] = [item for item in items if not item.get_closest_marker("full")]
    seconds = SCOPE_SECONDS
    first_seen = {}
    for index, item in enumerate(items):
        first_seen.setdefault(scope_of(item), index)
    items.sort(key=lambda item: (-seconds.get(scope_of(item), SHORT_SCOPE), first_seen[scope_of(item)]))


# --- nbval's training budget ---------------------------------------------------------------------
#
# nbval runs every source notebook as a student runs it. In `make test` they run the grading
# budget (NBGRADER_EXECUTION=validate, as nbgrader's Validate: the same cells and functions, fewer
# epochs and examples): at the full budget the training cells alone (ps2's VAE ~55 s, ps3's
# Fashion-MNIST and Ames models ~100 s, ps1's network, ps5's attack sweep) would be a third of the
# suite on 2 cores. `make test-full` passes --full and runs them at full size as well;
# training.budget's full branch is tested in tests/unit/test_training.py either way, and
# `make bench-notebooks` times the full runs.


def is_source_notebook(item):
    """An nbval item of a course notebook (source/<assignment>/*.ipynb)."""
    return scope_of(item).startswith("source/") and scope_of(item).endswith(".ipynb")


def pytest_addoption(parser):
    parser.addoption(
        "--full",
        action="store_true",
        help="the full suite (make test-full): also the tests marked `full` (slow repeats), every example "
        "submission in the stock nbgrader round trip, and every source notebook under nbval at its full "
        "training budget; without it (make test) those are deselected and nbval runs the grading budget",
    )


class GradingBudget:
    """A plugin, not a conftest hook: pytest calls a conftest's item hooks only for items under its folder."""

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_setup(self, item):
        """nbval starts a notebook's kernel while setting up its first cell: give it the grading budget."""
        if item.config.getoption("full") or not is_source_notebook(item):
            return (yield)
        before = os.environ.get("NBGRADER_EXECUTION")
        os.environ["NBGRADER_EXECUTION"] = "validate"
        try:
            return (yield)
        finally:
            if before is None:
                del os.environ["NBGRADER_EXECUTION"]
            else:
                os.environ["NBGRADER_EXECUTION"] = before


def pytest_configure(config):
    if hasattr(config.option, "loadscopereorder"):
        config.option.loadscopereorder = False  # keep the order pytest_collection_modifyitems gives
    config.pluginmanager.register(GradingBudget(), "course-grading-budget")
