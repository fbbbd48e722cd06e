"""Command lines that run untrusted student code in a sandbox (bubblewrap + a dedicated uid).

    cmd = sandbox_command(argv, private_dir, env, limits=Limits(), readable=(), slot=0)
    subprocess.Popen(cmd, pass_fds=..., start_new_session=True)

    python -m course_utils.grading.sandbox --check   # does it work here, and what does it cost

The code inside sees only ``/usr``, a few ``/etc`` files, the Python install, this package and
the ``readable`` paths (read-only), ``private_dir`` at ``/submission`` and private tmpfs
mounts (writable); it has no network, its own PID namespace, a uid of its own per slot
(``UID_BASE + slot``), no capabilities and the hard ``Limits``. The threat model, why the
grader must be root, exit statuses and what is not enforced: ``docs/sandbox.md``.
"""

import contextlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field, fields

BWRAP = "/usr/bin/bwrap"
SETPRIV = "/usr/bin/setpriv"
PRLIMIT = "/usr/bin/prlimit"
ENV = "/usr/bin/env"
SH = "/bin/sh"
MOUNT, UMOUNT = "/usr/bin/mount", "/usr/bin/umount"
CGROUP_NAME = "course-grader"  # /sys/fs/cgroup/memory/course-grader/slot-N (v1) or its v2 equivalent

UID_BASE = 61000  # slot s runs as uid = gid = UID_BASE + s
MAX_SLOTS = 256
_PROBE_UID = UID_BASE + MAX_SLOTS

INSIDE = "/submission"  # where private_dir appears; the working directory
HOME = "/tmp/home"  # created writable inside, for HOME=/tmp/home
CPU_GRACE = 5  # seconds between SIGXCPU (soft limit) and SIGKILL (hard limit)

SYSTEM_TREES = ("/usr",)
MERGED_USR = ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
ETC_FILES = (
    "passwd",
    "group",
    "nsswitch.conf",
    "hosts",
    "host.conf",
    "localtime",
    "timezone",
    "ld.so.cache",
    "ld.so.conf",
    "ld.so.conf.d",
    "alternatives",
    "mime.types",
    "fonts",
    "os-release",
    "matplotlibrc",
)


def _limit(default, help):
    return field(default=default, metadata={"help": help})


@dataclass(frozen=True)
class Limits:
    """Limits of each sandboxed process (hard limits the code cannot raise)."""

    memory_bytes: int = _limit(3 * 2**30, "address space of each process in bytes (RLIMIT_AS)")
    cpu_seconds: int = _limit(600, "CPU seconds of each process (RLIMIT_CPU)")
    processes: int = _limit(64, "processes and threads of one sandbox (RLIMIT_NPROC)")
    file_bytes: int = _limit(64 * 2**20, "largest file a process may write (RLIMIT_FSIZE)")
    open_files: int = _limit(256, "open file descriptors per process (RLIMIT_NOFILE)")
    tmp_bytes: int = _limit(256 * 2**20, "size of each private tmpfs (/tmp and /dev/shm) in bytes")
    disk_bytes: int = _limit(256 * 2**20, "bytes the run may store in its private folder (a tmpfs of this size)")
    disk_inodes: int = _limit(20_000, "files and folders the run may create in its private folder")
    total_memory_bytes: int = _limit(
        6 * 2**30, "memory of all the sandbox's processes together (a memory cgroup, where the host allows one)"
    )

    def __post_init__(self):
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
                raise ValueError(f"Limits.{f.name} must be a positive int, not {value!r}")

    def rlimits(self, processes=True):
        """{resource.RLIMIT_* name: (soft, hard)}: what each sandboxed process gets."""
        limits = {
            "RLIMIT_AS": (self.memory_bytes,) * 2,
            "RLIMIT_CPU": (self.cpu_seconds, self.cpu_seconds + CPU_GRACE),
            "RLIMIT_FSIZE": (self.file_bytes,) * 2,
            "RLIMIT_NOFILE": (self.open_files,) * 2,
            "RLIMIT_CORE": (0, 0),
        }
        return limits | ({"RLIMIT_NPROC": (self.processes,) * 2} if processes else {})

    def prlimit_args(self, processes=True):
        """The same limits as options of prlimit(1)."""
        return [f"--{name[7:].lower()}={soft}:{hard}" for name, (soft, hard) in self.rlimits(processes).items()]


class SandboxUnavailable(RuntimeError):
    """The sandbox cannot be set up on this machine; the message says why."""


def sandbox_command(argv, private_dir, env, limits=Limits(), readable=(), slot=0, unsandboxed=False):
    """The command line that runs argv inside the sandbox.

    private_dir: host directory, the ONLY writable place, mounted at /submission (cwd inside);
    handed over to the slot's uid (see the module docstring).
    env: the complete environment inside (nothing else is inherited), e.g. with HOME=/tmp/home.
    readable: extra host paths made readable (read-only, at their real path inside).
    slot: 0 <= slot < MAX_SLOTS, unique among the sandboxes running at the same time.
    unsandboxed=True: a plain command (same env, cwd private_dir, the limits but RLIMIT_NPROC).
    Raises SandboxUnavailable(reason) when the sandbox cannot be set up and unsandboxed is False.
    """
    argv = [os.fspath(a) for a in argv]
    if not argv:
        raise ValueError("argv is empty")
    assignments = _assignments(env)
    private_dir = os.path.realpath(private_dir)
    if not os.path.isdir(private_dir):
        raise ValueError(f"private_dir {private_dir} is not a directory")
    uid = slot_uid(slot)
    readable = [os.path.realpath(p) for p in map(os.fspath, readable)]
    for path in [*_interpreter_paths(), *readable]:
        if _under(path, private_dir):
            raise ValueError(
                f"private_dir {private_dir} contains {path}, which must stay read-only "
                "(and would be handed over to the sandbox's uid)"
            )
    if unsandboxed:
        return [
            ENV,
            "-i",
            f"--chdir={private_dir}",
            "--",
            *assignments,
            PRLIMIT,
            *limits.prlimit_args(processes=False),
            "--",
            *argv,
        ]
    reason = unavailable_reason()
    if reason is not None:
        raise SandboxUnavailable(reason)
    _hand_over(private_dir, uid)
    command = _sandboxed(argv, private_dir, assignments, limits, readable, uid)
    procs = memory_cgroup(slot, limits.total_memory_bytes)
    return [SH, "-c", 'echo $$ > "$0" && exec "$@"', procs, *command] if procs else command


def slot_uid(slot):
    """The uid (and gid) of ``slot``'s sandboxes."""
    if isinstance(slot, bool) or not isinstance(slot, int) or not 0 <= slot < MAX_SLOTS:
        raise ValueError(f"slot must be an int in 0..{MAX_SLOTS - 1}, not {slot!r}")
    return UID_BASE + slot


def _assignments(env):
    out = []
    for key, value in env.items():
        if not isinstance(key, str) or not isinstance(value, str):
            raise TypeError(f"env must map str to str: {key!r}={value!r}")
        if not key or "=" in key or "\0" in key or "\0" in value:
            raise ValueError(f"invalid environment entry {key!r}={value!r}")
        out.append(f"{key}={value}")
    return out


def memory_cgroup(slot, limit):
    """The ``cgroup.procs`` file of ``slot``'s memory cgroup, capped at ``limit`` bytes (no swap).

    None where the host offers no writable memory cgroup (then only the per-process limits hold).
    """
    for base, files in (
        (
            "/sys/fs/cgroup/memory",
            ("memory.memsw.limit_in_bytes", "memory.limit_in_bytes", "memory.memsw.limit_in_bytes"),
        ),
        ("/sys/fs/cgroup", ("memory.max", "memory.swap.max")),
    ):
        if not os.path.exists(os.path.join(base, "cgroup.procs")) or (
            base == "/sys/fs/cgroup" and not os.path.exists(os.path.join(base, "cgroup.controllers"))
        ):
            continue
        folder = os.path.join(base, CGROUP_NAME, f"slot-{slot}")
        try:
            os.makedirs(folder, exist_ok=True)
            for name in files:  # memsw >= limit: written around the limit so either order of change works
                value = "0" if name == "memory.swap.max" else str(limit)
                with contextlib.suppress(OSError):
                    with open(os.path.join(folder, name), "w") as f:
                        f.write(value)
            limit_file = "memory.max" if base == "/sys/fs/cgroup" else "memory.limit_in_bytes"
            with open(os.path.join(folder, limit_file)) as f:
                if int(f.read().strip()) > limit:
                    return None
        except (OSError, ValueError):
            return None
        return os.path.join(folder, "cgroup.procs")
    return None


@contextlib.contextmanager
def private_folder(limits, unsandboxed=False, prefix="grade-"):
    """A fresh empty folder for one run; sandboxed, a tmpfs of ``disk_bytes`` and ``disk_inodes``.

    Its name carries this process's id (``<prefix><pid>-...``), so that ``sweep_orphaned_folders``
    can tell a folder whose grader was killed before it could unmount it.
    """
    with tempfile.TemporaryDirectory(prefix=f"{prefix}{os.getpid()}-") as path:
        if unsandboxed or os.geteuid() != 0:
            yield path
            return
        options = f"size={limits.disk_bytes},nr_inodes={limits.disk_inodes},mode=0700"
        subprocess.run([MOUNT, "-t", "tmpfs", "-o", options, "tmpfs", path], check=True, capture_output=True)
        try:
            yield path
        finally:
            subprocess.run([UMOUNT, "-l", path], capture_output=True)


ORPHAN = re.compile(r"grade-(?:[a-z]+-)?(\d+)-[^/]*$")  # a private folder's name: its grader's pid


def sweep_orphaned_folders(mounts="/proc/self/mounts"):
    """Unmount and remove the private folders of graders that died without cleaning up (SIGKILL).

    Only tmpfs mounts directly in the temporary folder whose name carries the pid of a process
    that no longer exists; returns their paths.
    """
    swept = []
    with open(mounts) as table:
        points = [line.split()[1] for line in table if line.split()[0] == "tmpfs"]
    for point in points:
        found = ORPHAN.match(os.path.basename(point))
        if os.path.dirname(point) != tempfile.gettempdir() or not found or _alive(int(found.group(1))):
            continue
        subprocess.run([UMOUNT, "-l", point], capture_output=True)
        if not os.path.ismount(point):
            shutil.rmtree(point, ignore_errors=True)
            swept.append(point)
    return swept


def _alive(pid):
    """Does process ``pid`` exist and run (a zombie, dead but not yet reaped, does not)?"""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False


def disk_use(path):
    """(bytes, files) stored under ``path`` (its own file system when it is a private tmpfs)."""
    if os.path.ismount(path):
        stats = os.statvfs(path)
        return (stats.f_blocks - stats.f_bfree) * stats.f_frsize, stats.f_files - stats.f_ffree
    sizes = [os.lstat(os.path.join(root, name)).st_size for root, dirs, files in os.walk(path) for name in files]
    return sum(sizes), len(sizes)


def _hand_over(private_dir, uid):
    """Make private_dir (and all in it) owned by uid, the directory itself mode 0700."""
    for root, dirs, files in os.walk(private_dir):  # does not follow symlinks
        for name in dirs + files:
            os.lchown(os.path.join(root, name), uid, uid)
    os.lchown(private_dir, uid, uid)
    os.chmod(private_dir, 0o700)


def _under(path, tree):
    return path == tree or path.startswith(tree.rstrip("/") + "/")


def _interpreter_paths():
    """Host paths the grader's Python and course_utils need: prefixes, package, tools."""
    package = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    paths = [
        sys.prefix,
        sys.exec_prefix,
        sys.base_prefix,
        sys.base_exec_prefix,
        package,
        os.path.dirname(os.path.realpath(sys.executable)),
        BWRAP,
        SETPRIV,
        PRLIMIT,
        ENV,
    ]
    return [os.path.realpath(p) for p in paths]


def _bind_args(paths):
    """--ro-bind each path at its real path, with the missing parents created mode 0755."""
    mounted = list(SYSTEM_TREES)  # a path inside one of these is visible already
    made = {"/", "/tmp", "/etc", "/dev", "/proc", HOME}
    args = []
    for path in sorted({os.path.realpath(os.fspath(p)) for p in paths}):
        if path == "/" or not os.path.exists(path) or any(_under(path, m) for m in mounted):
            continue
        parts = path.strip("/").split("/")
        for depth in range(1, len(parts)):
            parent = "/" + "/".join(parts[:depth])
            if parent not in made:
                args += ["--perms", "0755", "--dir", parent]
                made.add(parent)
        args += ["--ro-bind", path, path]
        mounted.append(path)
    return args


def _system_args():
    args = []
    for tree in SYSTEM_TREES:
        args += ["--ro-bind", tree, tree]
    for path in MERGED_USR:
        if os.path.islink(path):
            args += ["--symlink", os.readlink(path), path]
        elif os.path.isdir(path):
            args += ["--ro-bind", path, path]
    args += ["--perms", "0755", "--dir", "/etc"]
    for name in ETC_FILES:
        args += ["--ro-bind-try", f"/etc/{name}", f"/etc/{name}"]
    return args


def _sandboxed(argv, private_dir, assignments, limits, readable, uid):
    return [
        BWRAP,
        "--unshare-pid",
        "--unshare-net",
        "--unshare-ipc",
        "--unshare-uts",
        "--unshare-cgroup-try",
        "--hostname",
        "sandbox",
        "--die-with-parent",
        "--new-session",
        "--clearenv",
        "--cap-drop",
        "ALL",
        "--cap-add",
        "CAP_SETUID",
        "--cap-add",
        "CAP_SETGID",
        "--cap-add",
        "CAP_SETPCAP",
        *_system_args(),
        "--proc",
        "/proc",
        "--dev",
        "/dev",
        "--perms",
        "1777",
        "--size",
        str(limits.tmp_bytes),
        "--tmpfs",
        "/tmp",
        "--perms",
        "1777",
        "--size",
        str(limits.tmp_bytes),
        "--tmpfs",
        "/dev/shm",
        "--perms",
        "0777",
        "--dir",
        HOME,
        *_bind_args([*_interpreter_paths(), *readable]),
        "--bind",
        private_dir,
        INSIDE,
        "--chdir",
        "/",
        "--",
        SETPRIV,
        f"--reuid={uid}",
        f"--regid={uid}",
        "--clear-groups",
        "--inh-caps=-all",
        "--bounding-set=-all",
        "--no-new-privs",
        "--",
        BWRAP,
        "--unshare-user",
        "--disable-userns",
        "--uid",
        str(uid),
        "--gid",
        str(uid),
        "--dev-bind",
        "/",
        "/",
        "--die-with-parent",
        "--chdir",
        "/",
        "--",
        ENV,
        "-i",
        f"--chdir={INSIDE}",
        "--",
        *assignments,
        PRLIMIT,
        *limits.prlimit_args(),
        "--",
        *argv,
    ]


_PROBE_CODE = (
    "import os, socket\n"
    "assert os.getuid() not in (0, -1), 'runs as root'\n"
    "assert [n for _, n in socket.if_nameindex()] == ['lo'], 'network is shared'\n"
    "print('ok')\n"
)
_reasons = {}
_reasons_lock = threading.Lock()


def unavailable_reason():
    """None when the sandbox can be set up here, else a sentence saying why.

    Runs one trivial sandboxed Python once (per tool paths and interpreter) and caches the answer.
    """
    key = (BWRAP, SETPRIV, PRLIMIT, ENV, sys.executable, os.geteuid())
    with _reasons_lock:
        if key not in _reasons:
            _reasons[key] = _probe()
        return _reasons[key]


def _probe():
    if not sys.platform.startswith("linux"):
        return f"the sandbox needs Linux namespaces, this is {sys.platform}"
    for name, path in (("bubblewrap (bwrap)", BWRAP), ("setpriv", SETPRIV), ("prlimit", PRLIMIT), ("env", ENV)):
        if not (os.path.isfile(path) and os.access(path, os.X_OK)):
            return f"{name} not found at {path} (Debian/Ubuntu: apt-get install bubblewrap util-linux coreutils)"
    if os.geteuid() != 0:
        return (
            "the sandbox runs student code under a dedicated uid per slot, which needs a "
            f"grader running as root; this one runs as uid {os.geteuid()}"
        )
    with tempfile.TemporaryDirectory(prefix="sandbox-probe-") as tmp:
        _hand_over(tmp, _PROBE_UID)
        cmd = _sandboxed(
            [sys.executable, "-I", "-c", _PROBE_CODE], tmp, ["PATH=/usr/bin:/bin"], Limits(), (), _PROBE_UID
        )
        try:
            done = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, timeout=60)
        except (OSError, subprocess.TimeoutExpired) as exc:
            return f"a trial sandboxed command could not run: {exc}"
    if done.returncode != 0 or done.stdout.strip() != b"ok":
        lines = done.stderr.decode("utf-8", "replace").strip().splitlines()
        return f"a trial sandboxed command failed (exit {done.returncode}): {lines[-1] if lines else 'no message'}"
    return None


def measure_overhead(runs=10):
    """Median seconds of ``python -c pass``: (plain, sandboxed)."""
    argv, env = [sys.executable, "-c", "pass"], {"PATH": "/usr/bin:/bin", "HOME": HOME}

    def median(cmd):
        times = []
        for _ in range(runs):
            start = time.perf_counter()
            subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, check=True)
            times.append(time.perf_counter() - start)
        return sorted(times)[len(times) // 2]

    with tempfile.TemporaryDirectory(prefix="sandbox-overhead-") as tmp:
        plain = median(argv)
        boxed = median(sandbox_command(argv, tmp, env, slot=MAX_SLOTS - 1))
    return plain, boxed


def main(args=None):
    args = sys.argv[1:] if args is None else args
    if args != ["--check"]:
        print("usage: python -m course_utils.grading.sandbox --check", file=sys.stderr)
        return 2
    reason = unavailable_reason()
    if reason is not None:
        print(f"sandbox unavailable: {reason}")
        return 1
    plain, boxed = measure_overhead()
    print(f"sandbox works (bwrap {BWRAP}, uids {UID_BASE}..{UID_BASE + MAX_SLOTS - 1})")
    total = (
        "a memory cgroup per slot"
        if memory_cgroup(MAX_SLOTS - 1, Limits().total_memory_bytes)
        else ("NOT enforced (no writable memory cgroup): only the per-process limits hold")
    )
    print(f"memory of all of a sandbox's processes together: {total}")
    print(
        f"python -c pass: {plain * 1000:.0f} ms plain, {boxed * 1000:.0f} ms sandboxed "
        f"(+{(boxed - plain) * 1000:.0f} ms per run)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
