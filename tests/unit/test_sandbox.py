"""Tests of course_utils.grading.sandbox: real attacks run in the real sandbox.

Each attack runs as student code inside ``sandbox_command``; the test asserts that the attack
failed AND that the sandbox came back normally (exit 0 after the code caught its failure, or
killed within the time the test allows). Needs root and bubblewrap; skipped otherwise.
"""

import errno
import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from course_utils.grading import sandbox
from course_utils.grading.sandbox import Limits, SandboxUnavailable, sandbox_command, unavailable_reason

SLOT = sandbox.MAX_SLOTS - 6  # far from the engine's slots 0..63
UID = sandbox.UID_BASE + SLOT
ENV = {"PATH": "/usr/bin:/bin", "HOME": "/tmp/home", "LANG": "C.UTF-8", "PYTHONDONTWRITEBYTECODE": "1"}
REPO = Path(sandbox.__file__).resolve().parents[2]

REASON = unavailable_reason()
needs_sandbox = pytest.mark.skipif(REASON is not None, reason=f"sandbox unavailable: {REASON}")

# Student code starts with this: attempt() records what each attack got, print_results() reports.
PRELUDE = """\
import json, os, sys
results = {}
def attempt(name, fn):
    try:
        value = fn()
    except BaseException as exc:
        results[name] = type(exc).__name__ + ": " + str(exc)[:100]
    else:
        results[name] = "ok: " + repr(value)[:200]
def print_results():
    print(json.dumps(results), flush=True)
"""


def student(code, private, limits=Limits(), readable=(), env=ENV, timeout=30, **run):
    """Run PRELUDE + code in the sandbox; the CompletedProcess (text)."""
    argv = [sys.executable, "-c", PRELUDE + textwrap.dedent(code)]
    cmd = sandbox_command(argv, private, env, limits=limits, readable=readable, slot=SLOT)
    return subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=timeout, **run)


def results(done):
    assert done.returncode == 0, f"exit {done.returncode}\nstdout: {done.stdout}\nstderr: {done.stderr}"
    return json.loads(done.stdout.strip().splitlines()[-1])


def failed(outcome):
    return not outcome.startswith("ok")


def processes_of(uid):
    """Host pids whose real uid is uid."""
    pids = []
    for entry in os.listdir("/proc"):
        try:
            status = Path(f"/proc/{entry}/status").read_text()
        except (OSError, ValueError):
            continue
        uid_line = next((line for line in status.splitlines() if line.startswith("Uid:")), "")
        if entry.isdigit() and uid_line.split()[1:2] == [str(uid)]:
            pids.append(int(entry))
    return pids


def wait_until_gone(uid, seconds=5.0):
    deadline = time.monotonic() + seconds
    while processes_of(uid) and time.monotonic() < deadline:
        time.sleep(0.05)
    return processes_of(uid)


@pytest.fixture
def course(tmp_path):
    """A stand-in course next to a private dir, both outside the sandbox."""
    root = tmp_path / "course"
    for folder in ("source/ps1", "submitted/other/ps1", "autograded/other/ps1", "data"):
        (root / folder).mkdir(parents=True)
    (root / "source/ps1/ps1.ipynb").write_text('{"solution": "secret"}')
    (root / "submitted/other/ps1/ps1.ipynb").write_text('{"answer": "theirs"}')
    (root / "gradebook.db").write_bytes(b"SQLite format 3\0" + bytes(range(256)))
    (root / ".grading_secret").write_text("s3cret\n")
    (root / "data/train.txt").write_text("public data\n")
    (tmp_path / "private").mkdir()
    return root


@needs_sandbox
def test_course_files_are_invisible(course):
    private = course.parent / "private"
    code = f"""
    course, repo = {str(course)!r}, {str(REPO)!r}
    attempt("source", lambda: open(course + "/source/ps1/ps1.ipynb").read())
    attempt("submitted", lambda: open(course + "/submitted/other/ps1/ps1.ipynb").read())
    attempt("secret", lambda: open(course + "/.grading_secret").read())
    attempt("listing", lambda: sorted(os.listdir(course)))
    attempt("data", lambda: open(course + "/data/train.txt").read())
    for name in ("source", "submitted", "autograded", "gradebook.db", ".grading_secret"):
        attempt("repo " + name, lambda: os.listdir(repo + "/" + name) if name[0] != "." and "." not in name
                else open(repo + "/" + name, "rb").read(10))
    attempt("repo listing", lambda: sorted(os.listdir(repo)))
    print_results()
    """
    out = results(student(code, private, readable=[course / "data"]))
    for name in ("source", "submitted", "secret"):
        assert out[name].startswith("FileNotFoundError"), out[name]
    assert out["listing"] == "ok: ['data']"  # the readable folder, nothing beside it
    assert out["data"] == "ok: 'public data\\n'"
    for name in ("source", "submitted", "autograded", "gradebook.db", ".grading_secret"):
        assert out[f"repo {name}"].startswith("FileNotFoundError"), out[f"repo {name}"]
    assert set(eval(out["repo listing"][4:])) <= {".venv", "course_utils"}


@needs_sandbox
@pytest.mark.parametrize("expose", [False, True], ids=["hidden", "exposed-read-only"])
def test_gradebook_cannot_be_written(course, expose):
    private, gradebook = course.parent / "private", course / "gradebook.db"
    before = gradebook.read_bytes()
    code = f"""
    gradebook, course = {str(gradebook)!r}, {str(course)!r}
    def overwrite():
        with open(gradebook, "r+b") as f:
            f.write(b"0wned")
    attempt("overwrite", overwrite)
    attempt("truncate", lambda: open(gradebook, "wb").close())
    attempt("remove", lambda: os.remove(gradebook))
    attempt("rename", lambda: os.rename(gradebook, course + "/moved.db"))
    attempt("chmod", lambda: os.chmod(gradebook, 0o777))
    attempt("create", lambda: open(course + "/new.db", "w").close())
    attempt("source", lambda: open(course + "/source/ps1/ps1.ipynb", "w").write("{{}}"))
    print_results()
    """
    out = results(student(code, private, readable=[course] if expose else []))
    assert all(failed(v) for v in out.values()), out  # not found, or read-only and not its own
    assert gradebook.read_bytes() == before
    assert sorted(p.name for p in course.iterdir()) == [
        ".grading_secret",
        "autograded",
        "data",
        "gradebook.db",
        "source",
        "submitted",
    ]
    assert (course / "source/ps1/ps1.ipynb").read_text() == '{"solution": "secret"}'


@needs_sandbox
def test_root_home_and_secrets_are_invisible(tmp_path):
    (tmp_path / "private").mkdir()
    host_entries = sorted(set(os.listdir("/root")) - {".pyenv"})[:20]
    code = f"""
    for name in {host_entries!r}:
        attempt("/root/" + name, lambda: os.stat("/root/" + name))
    attempt("root listing", lambda: sorted(os.listdir("/root")))
    attempt("pyenv versions", lambda: sorted(os.listdir(os.path.dirname(sys.base_prefix))))
    attempt("shadow", lambda: open("/etc/shadow").read())
    attempt("gshadow", lambda: open("/etc/gshadow").read())
    attempt("ssh keys", lambda: os.listdir("/etc/ssh"))
    print_results()
    """
    out = results(student(code, tmp_path / "private"))
    for name in host_entries:
        assert out[f"/root/{name}"].startswith("FileNotFoundError"), out
    assert out["root listing"] == "ok: ['.pyenv']"
    assert out["pyenv versions"] == f"ok: [{os.path.basename(sys.base_prefix)!r}]"
    for name in ("shadow", "gshadow", "ssh keys"):
        assert out[name].startswith("FileNotFoundError"), out


@needs_sandbox
def test_no_network_not_even_host_loopback(tmp_path):
    (tmp_path / "private").mkdir()
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(0)
    abstract = socket.socket(socket.AF_UNIX)
    abstract.bind(f"\0course-sandbox-test-{os.getpid()}")
    abstract.listen()
    abstract.settimeout(0)
    port = server.getsockname()[1]
    code = f"""
    import socket
    attempt("host loopback", lambda: socket.create_connection(("127.0.0.1", {port}), timeout=3))
    attempt("outside", lambda: socket.create_connection(("1.1.1.1", 53), timeout=3))
    def unix():
        s = socket.socket(socket.AF_UNIX)
        s.connect("\\0course-sandbox-test-{os.getpid()}")
    attempt("abstract unix socket", unix)
    attempt("interfaces", lambda: [n for _, n in socket.if_nameindex()])
    print_results()
    """
    try:
        out = results(student(code, tmp_path / "private"))
        for listener in (server, abstract):
            with pytest.raises(BlockingIOError):
                listener.accept()  # nobody got through
    finally:
        server.close()
        abstract.close()
    assert out["host loopback"].startswith("ConnectionRefusedError"), out
    assert failed(out["outside"]) and failed(out["abstract unix socket"]), out
    assert out["interfaces"] == "ok: ['lo']"


@needs_sandbox
def test_fork_bomb_hits_the_process_limit(tmp_path):
    (tmp_path / "private").mkdir()
    code = """
    import time
    forked = 0
    try:
        for _ in range(10000):
            if os.fork() == 0:
                time.sleep(120)
                os._exit(0)
            forked += 1
    except OSError as exc:
        results["stopped"] = [forked, exc.errno]
    print_results()
    """
    start = time.monotonic()
    out = results(student(code, tmp_path / "private", limits=Limits(processes=16)))
    forked, code_ = out["stopped"]
    assert forked < 16 and code_ == errno.EAGAIN
    assert time.monotonic() - start < 20
    assert wait_until_gone(UID) == []  # the sleeping children died with the sandbox


@needs_sandbox
def test_endless_fork_bomb_is_contained_and_killed(tmp_path):
    (tmp_path / "private").mkdir()
    code = """
    import os
    while True:
        try:
            os.fork()
        except OSError:
            pass
    """
    limits = Limits(processes=8)
    argv = [sys.executable, "-c", textwrap.dedent(code)]
    cmd = sandbox_command(argv, tmp_path / "private", ENV, limits, slot=SLOT)
    bomb = subprocess.Popen(
        cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    try:
        time.sleep(1.5)
        assert bomb.poll() is None
        assert 1 <= len(processes_of(UID)) <= limits.processes + 1  # + the inner bwrap
        assert subprocess.run(["true"], timeout=10).returncode == 0  # the host still forks
    finally:
        os.killpg(bomb.pid, signal.SIGKILL)  # what grading.execute does
        bomb.wait(timeout=10)
    assert wait_until_gone(UID) == []


@needs_sandbox
def test_memory_bomb_gets_memory_error(tmp_path):
    (tmp_path / "private").mkdir()
    code = """
    attempt("10 GB", lambda: len(bytearray(10 * 2**30)))
    def grow():
        keep = []
        while True:
            block = bytearray(32 * 2**20)
            block[::4096] = b"x" * len(range(0, len(block), 4096))    # touch every page
            keep.append(block)
            results["reached MB"] = 32 * len(keep)
    attempt("grow", grow)
    print_results()
    """
    out = results(student(code, tmp_path / "private", limits=Limits(memory_bytes=512 * 2**20)))
    assert out["10 GB"].startswith("MemoryError"), out
    assert out["grow"].startswith("MemoryError"), out
    assert 0 < out["reached MB"] < 512


@needs_sandbox
def test_huge_files_are_cut_at_the_limits(tmp_path):
    private = tmp_path / "private"
    private.mkdir()
    code = """
    def fill(path, megabytes=100):
        with open(path, "wb") as f:
            for _ in range(megabytes):
                f.write(b"x" * 2**20)
                f.flush()
    attempt("private", lambda: fill("/submission/big.bin"))
    attempt("tmp", lambda: fill("/tmp/big.bin"))
    attempt("shm", lambda: fill("/dev/shm/big.bin"))
    results["sizes"] = [os.path.getsize(p) for p in ("/submission/big.bin", "/tmp/big.bin", "/dev/shm/big.bin")]
    print_results()
    """
    out = results(student(code, private, limits=Limits(tmp_bytes=16 * 2**20)))
    assert "File too large" in out["private"], out
    assert "No space left" in out["tmp"] and "No space left" in out["shm"], out
    assert out["sizes"][0] == Limits().file_bytes == (private / "big.bin").stat().st_size
    assert out["sizes"][1] <= 16 * 2**20 and out["sizes"][2] <= 16 * 2**20


@needs_sandbox
def test_cpu_time_is_limited(tmp_path):
    (tmp_path / "private").mkdir()
    start = time.monotonic()
    done = student("while True: pass", tmp_path / "private", limits=Limits(cpu_seconds=1), timeout=20)
    assert done.returncode == 128 + signal.SIGXCPU
    assert time.monotonic() - start < 10


@needs_sandbox
def test_submission_is_writable_and_shows_up_on_the_host(tmp_path):
    private = tmp_path / "private"
    private.mkdir()
    (private / "plan.json").write_text("{}")  # put there by the grader, before the run
    code = """
    results["cwd"] = os.getcwd()
    attempt("read plan", lambda: open("plan.json").read())
    attempt("rewrite plan", lambda: open("plan.json", "w").write('{"x": 1}'))
    os.makedirs("out/figures")
    with open("out/figures/result.txt", "w") as f:
        f.write("written inside")
    attempt("home", lambda: open(os.environ["HOME"] + "/.config", "w").write("ok"))
    attempt("matplotlib-style cache", lambda: os.makedirs("/tmp/matplotlib"))
    attempt("outside /submission", lambda: open("/usr/evil", "w"))
    attempt("root of the sandbox", lambda: open("/evil", "w"))
    print_results()
    """
    out = results(student(code, private))
    assert out["cwd"] == sandbox.INSIDE
    assert out["read plan"] == "ok: '{}'" and out["rewrite plan"] == "ok: 8"
    assert out["home"] == "ok: 2" and out["matplotlib-style cache"] == "ok: None"
    assert failed(out["outside /submission"]) and failed(out["root of the sandbox"])
    assert (private / "out/figures/result.txt").read_text() == "written inside"
    assert (private / "plan.json").read_text() == '{"x": 1}'
    assert (private / "out/figures/result.txt").stat().st_uid == UID
    assert private.stat().st_uid == UID and private.stat().st_mode & 0o777 == 0o700


@needs_sandbox
def test_environment_is_exactly_the_given_one(tmp_path, monkeypatch):
    (tmp_path / "private").mkdir()
    monkeypatch.setenv("GRADER_SECRET_TOKEN", "do-not-leak")
    env = {"PATH": "/usr/bin:/bin", "ODD": "a=b c\nd", "-dash": "x", "EMPTY": "", "HOME": "/tmp/home"}
    cmd = sandbox_command(["/usr/bin/env", "-0"], tmp_path / "private", env, slot=SLOT)
    done = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, timeout=30)
    assert done.returncode == 0, done.stderr
    inside = dict(item.split("=", 1) for item in done.stdout.decode().split("\0") if item)
    assert inside == env


@needs_sandbox
def test_runs_as_an_unprivileged_uid_without_capabilities(tmp_path):
    (tmp_path / "private").mkdir()
    code = """
    import subprocess
    status = dict(line.split(":", 1) for line in open("/proc/self/status").read().splitlines())
    results["ids"] = [os.getuid(), os.geteuid(), os.getgid(), os.getgroups()]
    results["caps"] = {k: int(v, 16) for k, v in status.items() if k.startswith("Cap")}
    results["no_new_privs"] = int(status["NoNewPrivs"])
    attempt("setuid 0", lambda: os.setuid(0))
    attempt("user namespace", lambda: subprocess.run(["unshare", "-Ur", "true"], capture_output=True,
                                                      check=True))
    attempt("chown to root", lambda: os.chown("/submission", 0, 0))
    attempt("mount", lambda: subprocess.run(["mount", "-t", "tmpfs", "x", "/tmp"], capture_output=True,
                                            check=True))
    print_results()
    """
    out = results(student(code, tmp_path / "private"))
    assert out["ids"] == [UID, UID, UID, []] and UID != 0
    assert set(out["caps"].values()) == {0}, out["caps"]
    assert out["no_new_privs"] == 1
    for name in ("setuid 0", "user namespace", "chown to root", "mount"):
        assert failed(out[name]), out


@needs_sandbox
def test_signals_reach_only_the_sandbox(tmp_path):
    (tmp_path / "private").mkdir()
    bystander = subprocess.Popen(["sleep", "60"])
    code = f"""
    import signal
    results["pids"] = sorted(int(p) for p in os.listdir("/proc") if p.isdigit())
    attempt("kill host pid", lambda: os.kill({bystander.pid}, signal.SIGKILL))
    attempt("kill sandbox init", lambda: os.kill(1, signal.SIGKILL))
    print_results()
    os.kill(-1, signal.SIGKILL)       # everything it may signal: only its own sandbox
    """
    try:
        done = student(code, tmp_path / "private", timeout=20)
        out = json.loads(done.stdout.strip().splitlines()[0])
        assert bystander.poll() is None
    finally:
        bystander.kill()
        bystander.wait()
    assert max(out["pids"]) < 10  # its own PID namespace
    assert failed(out["kill host pid"]) and failed(out["kill sandbox init"]), out
    assert wait_until_gone(UID) == []


@needs_sandbox
def test_grader_stack_works_inside(tmp_path):
    """The runner's needs: passed fds, numpy, headless matplotlib, course_utils, the dataset."""
    private = tmp_path / "private"
    private.mkdir()
    read_fd, write_fd = os.pipe()
    env = dict(ENV, MPLBACKEND="Agg", MPLCONFIGDIR="/tmp/matplotlib", RESULT_FD=str(write_fd))
    code = """
    import numpy, matplotlib.pyplot as plt, course_utils
    from pathlib import Path
    os.write(int(os.environ["RESULT_FD"]), b"through the pipe")
    plt.plot(numpy.arange(5) ** 2)
    plt.savefig("plot.png")
    results["backend"] = plt.get_backend()
    fmnist = Path("/usr/share/datasets/fashion-mnist")
    results["dataset"] = sorted(p.name for p in fmnist.iterdir()) if fmnist.exists() else None
    attempt("patch numpy", lambda: open(numpy.__file__, "a").write("#"))
    attempt("patch course_utils", lambda: open(course_utils.__file__, "a").write("#"))
    attempt("new module in site-packages", lambda: open(os.path.dirname(numpy.__path__[0]) + "/x.py", "w"))
    print_results()
    """
    try:
        done = student(code, private, env=env, pass_fds=(write_fd,))
    finally:
        os.close(write_fd)
    with os.fdopen(read_fd, "rb") as pipe:
        assert pipe.read() == b"through the pipe"
    out = results(done)
    assert out["backend"].lower() == "agg"
    assert (private / "plot.png").read_bytes()[:4] == b"\x89PNG"
    if Path("/usr/share/datasets/fashion-mnist").exists():
        assert "train-images-idx3-ubyte.gz" in out["dataset"]
    for name in ("patch numpy", "patch course_utils", "new module in site-packages"):
        assert failed(out[name]), out


def test_unsandboxed_runs_plainly_with_limits(tmp_path):
    private = tmp_path / "private"
    private.mkdir()
    owner = private.stat().st_uid
    code = (
        "import os, resource; print(os.getcwd(), os.getuid(), "
        "resource.getrlimit(resource.RLIMIT_AS)[0], resource.getrlimit(resource.RLIMIT_FSIZE)[0], "
        "sorted(os.environ))"
    )
    limits = Limits(memory_bytes=2**30, file_bytes=2**20)
    cmd = sandbox_command([sys.executable, "-c", code], private, ENV, limits, unsandboxed=True)
    assert cmd[0] != sandbox.BWRAP
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split(" ", 4) == [
        str(private.resolve()),
        str(os.getuid()),
        str(2**30),
        str(2**20),
        f"{sorted(ENV)}\n",
    ]
    assert private.stat().st_uid == owner  # not handed over


def test_missing_bwrap_is_reported_and_refused(tmp_path, monkeypatch):
    (tmp_path / "private").mkdir()
    missing = tmp_path / "no-such-bwrap"
    monkeypatch.setattr(sandbox, "BWRAP", str(missing))
    reason = unavailable_reason()
    assert reason and "bwrap" in reason and str(missing) in reason
    with pytest.raises(SandboxUnavailable, match="bwrap"):
        sandbox_command(["true"], tmp_path / "private", ENV)
    assert sandbox_command(["true"], tmp_path / "private", ENV, unsandboxed=True)[0] == sandbox.ENV


def test_non_root_grader_is_reported(tmp_path, monkeypatch):
    monkeypatch.setattr(sandbox.os, "geteuid", lambda: 1000)
    reason = unavailable_reason()
    assert reason is not None and "root" in reason


@needs_sandbox
def test_slots_and_arguments_are_checked(tmp_path):
    private = tmp_path / "private"
    private.mkdir()
    assert f"--reuid={sandbox.UID_BASE + 7}" in sandbox_command(["true"], private, ENV, slot=7)
    assert f"--reuid={sandbox.UID_BASE}" in sandbox_command(["true"], private, ENV)
    for slot in (-1, sandbox.MAX_SLOTS, True, "1"):
        with pytest.raises(ValueError):
            sandbox_command(["true"], private, ENV, slot=slot)
    with pytest.raises(ValueError):
        sandbox_command(["true"], private, {"A=B": "c"})
    with pytest.raises(ValueError):
        sandbox_command([], private, ENV)
    with pytest.raises(ValueError, match="contains"):  # would hand the package to the sandbox
        sandbox_command(["true"], REPO, ENV, unsandboxed=True)
    with pytest.raises(ValueError, match="contains"):
        sandbox_command(["true"], tmp_path, ENV, readable=[tmp_path / "data"])
    with pytest.raises(ValueError):
        Limits(memory_bytes=0)


def test_sweep_removes_the_folders_of_dead_graders_only(tmp_path, monkeypatch):
    import subprocess
    import tempfile

    from course_utils.grading import sandbox

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    dead = subprocess.Popen(["true"])
    dead.wait()
    orphan = tmp_path / f"grade-probe-{dead.pid}-abc"
    live = tmp_path / f"grade-zygote-{os.getpid()}-def"
    other = tmp_path / f"notes-{dead.pid}-x"
    for folder in (orphan, live, other):
        folder.mkdir()
    mounts = tmp_path / "mounts"
    mounts.write_text("".join(f"tmpfs {folder} tmpfs rw 0 0\n" for folder in (orphan, live, other)))
    assert sandbox.sweep_orphaned_folders(str(mounts)) == [str(orphan)]
    assert not orphan.exists() and live.exists() and other.exists()
