"""A warm interpreter that forks each notebook run straight into a fresh sandbox of its own.

Each run of a notebook (a student's or the reference's) still gets a sandbox nobody else used:
``sandbox_command`` starts a new bubblewrap with the run's slot uid, private folder, limits and
namespaces, in which only a placeholder (``sleep``) waits. What it does not pay is a new
interpreter and its imports (~1 s of IPython, NumPy, SymPy, matplotlib): the zygote, a root
process that imported them once and never runs a notebook's code, forks a child that enters the
placeholder's namespaces (``setns`` on its pidfd: mounts, PID, network, IPC, UTS, cgroup and its
user namespace, which allows no further ones), takes the slot's uid and gid, drops every
capability, sets ``no_new_privs``, the run's limits and its memory cgroup, and forks once more so
that the process which runs ``runner.main`` is inside the sandbox's PID namespace. That process
checks its own credentials before anything of the run executes, and dies with the sandbox: the
grader kills the placeholder's bwrap. Forked processes share the zygote's address layout, stack
canary and string-hash seed; so the judge, which reads student-written data, is never forked.

    zygote = Zygote(env)                                # grader side, one per worker
    process, stdout = start("runner", ["plan.json"], workdir, env, sandbox, zygote, channel_fd)
    zygote.close()

    python -m course_utils.grading.zygote     # the zygote; $COURSE_ZYGOTE_FD: its control socket

Protocol on the control socket (SOCK_SEQPACKET, one JSON message each way per request):
``{"spawn": {...}}`` with fds (stdout, stderr, channel, and the placeholder's pidfd when sandboxed)
-> ``{"pid": n}``;
``{"kill": pid}`` -> ``{}``; ``{"status": pid}`` -> ``{"code": exit status or null}``.
"""

import contextlib
import ctypes
import json
import os
import random
import resource
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

CONTROL_VARIABLE = "COURSE_ZYGOTE_FD"  # the control socket's fd number in the zygote
READY_TIMEOUT = 120.0  # seconds for the zygote's interpreter and imports
PLACEHOLDER_TIMEOUT = 30.0  # seconds for a new sandbox's placeholder to be up
REPLY_TIMEOUT = 10.0
MAINS = {"runner"}  # grading modules whose main() a spawned process may run
CHANNEL_FD = 3  # where the spawned process finds its result channel
PLACEHOLDER = ["/bin/sh", "-c", "echo ready && exec sleep 86400"]

# <linux/sched.h>, <linux/prctl.h>, <linux/capability.h>
NAMESPACES = 0x00020000 | 0x02000000 | 0x04000000 | 0x08000000 | 0x10000000 | 0x20000000 | 0x40000000
PR_SET_DUMPABLE, PR_CAPBSET_DROP, PR_SET_NO_NEW_PRIVS, PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL = 4, 24, 38, 47, 4
CAPABILITY_VERSION_3 = 0x20080522


class ZygoteError(RuntimeError):
    """The zygote is gone or answered nonsense: the caller starts a fresh process instead."""


# ---------------------------------------------------------------- in the zygote's children


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32), ("inheritable", ctypes.c_uint32)]


def _libc(name, *args):
    """Call libc's ``name``; OSError when it fails."""
    libc = ctypes.CDLL(None, use_errno=True)
    if getattr(libc, name)(*args) != 0:
        raise OSError(ctypes.get_errno(), f"{name}: {os.strerror(ctypes.get_errno())}")


def _enter_sandbox(spawn, pidfd):
    """Become the slot's unprivileged process inside the placeholder's namespaces (see docstring)."""
    if spawn["cgroup"]:
        with open(spawn["cgroup"], "w") as f:  # the slot's memory cgroup, as the placeholder
            f.write("0")
    uid = spawn["uid"]
    os.setgroups([])
    os.setresgid(uid, uid, uid)
    _libc("setns", pidfd, NAMESPACES)  # all at once: the kernel orders them (user namespace last)
    os.close(pidfd)
    for cap in range(int(Path("/proc/sys/kernel/cap_last_cap").read_text()) + 1):
        _libc("prctl", PR_CAPBSET_DROP, cap, 0, 0, 0)
    os.setresuid(uid, uid, uid)  # kept capabilities in the sandbox's user namespace: dropped next
    _libc("capset", ctypes.byref(_CapHeader(CAPABILITY_VERSION_3, 0)), (_CapData * 2)())
    _libc("prctl", PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0)
    _libc("prctl", PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)


def _set_limits(spawn):
    for name, (soft, hard) in spawn["limits"].items():
        resource.setrlimit(getattr(resource, name), (soft, hard))


CREDENTIALS = ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb")


def _check_credentials(uid):
    """Refuse to go on (exit 71) unless this process is the slot's uid without any privilege."""
    status = dict(line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines() if ":" in line)
    wrong = [k for k in CREDENTIALS if int(status[k], 16)]
    wrong += [k for k in ("Uid", "Gid") if set(status[k].split()) != {str(uid)}]
    wrong += ["Groups"] * bool(status["Groups"].split()) + ["NoNewPrivs"] * (status["NoNewPrivs"].strip() != "1")
    if wrong:
        os.write(2, f"zygote: refusing to run with {', '.join(wrong)} set\n".encode())
        os._exit(71)


def _become(spawn, fds):
    """The spawned process: the run's folder, environment, streams and module; never returns."""
    os.setsid()
    for fd, number in zip(fds, (1, 2, CHANNEL_FD)):
        os.dup2(fd, number)
    os.closerange(CHANNEL_FD + 1, 1 << 16)
    if spawn["uid"] is not None:
        _check_credentials(spawn["uid"])  # its refusal is in the run's raw output
    _libc("prctl", PR_SET_DUMPABLE, 1, 0, 0, 0)  # /proc/self as after an exec (a uid change cleared it)
    os.chdir(spawn["folder"])
    os.environ.clear()
    os.environ.update(_SET_BY_IMPORTS | spawn["env"])
    from importlib import import_module

    module = import_module(f"course_utils.grading.{spawn['main']}")
    sys.path[0], sys.argv = os.getcwd(), [module.__file__, *spawn["argv"]]  # as `python -m` here would have
    _reseed()
    module.main(spawn["argv"])


def _reseed():
    """Seed the global generators anew, as a new interpreter's would be (the fork copied the zygote's)."""
    import numpy
    import sympy.core.random

    random.seed()
    numpy.random.seed()
    sympy.core.random.seed()


def _child(spawn, fds):
    """The forked child: enter the sandbox, fork the spawned process, exit with its status."""
    try:
        _set_limits(spawn)
        if spawn["uid"] is not None:
            _enter_sandbox(spawn, fds.pop())
            pid = os.fork()  # the PID namespace applies to children: this one is inside
            if pid:
                os.closerange(0, 1 << 16)
                _, status = os.waitpid(pid, 0)
                os._exit(_exit_status(status))
        _become(spawn, fds)
        os._exit(0)
    except BaseException as exc:  # noqa: BLE001 (a child never returns into the zygote's loop)
        with contextlib.suppress(OSError):
            os.write(2, f"zygote child: {type(exc).__name__}: {exc}\n".encode())
    finally:
        os._exit(70)


def _exit_status(status):
    """waitpid status -> the code bwrap would report (N, or 128 + signal)."""
    return os.WEXITSTATUS(status) if os.WIFEXITED(status) else 128 + os.WTERMSIG(status)


def _valid(spawn, fds):
    return (
        isinstance(spawn, dict)
        and spawn.get("main") in MAINS
        and len(fds) == 3 + (spawn.get("uid") is not None)
        and isinstance(spawn.get("env"), dict)
    )


def _serve(control):
    """Answer requests until the grader closes the socket."""
    children, statuses = {}, {}  # pid -> pidfd of each child until it is killed; pid -> exit status

    def reap(*_):
        with contextlib.suppress(ChildProcessError):
            while (found := os.waitpid(-1, os.WNOHANG))[0]:
                statuses[found[0]] = _exit_status(found[1])

    signal.signal(signal.SIGCHLD, reap)
    while True:
        message, fds, _, _ = socket.recv_fds(control, 1 << 16, 4)
        if not message:
            return
        request, reply = json.loads(message), {}
        if "spawn" in request and _valid(request["spawn"], fds):
            signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGCHLD})  # not reaped before its pidfd
            pid = os.fork()
            if pid == 0:
                control.close()
                for fd in children.values():
                    os.close(fd)
                children.clear()  # nothing of other runs stays in reach (sys._current_frames)
                statuses.clear()
                signal.signal(signal.SIGCHLD, signal.SIG_DFL)
                signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGCHLD})
                _child(request.pop("spawn"), fds)
            children[pid] = os.pidfd_open(pid)
            signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGCHLD})
            reply = {"pid": pid}
        elif "kill" in request and int(request["kill"]) in children:  # a spawn's last request
            pidfd = children.pop(int(request["kill"]))
            _kill(int(request["kill"]), pidfd)
            os.close(pidfd)
        elif "status" in request:
            reap()
            reply = {"code": statuses.pop(int(request["status"]), None)}
        for fd in fds:
            os.close(fd)
        control.send(json.dumps(reply).encode())


def _kill(pid, pidfd):
    """SIGKILL to a child and its process group (its session, unsandboxed: what it started)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        signal.pidfd_send_signal(pidfd, signal.SIGKILL)  # the child itself, even if its pid was reused
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)


_SET_BY_IMPORTS = {}  # environment variables the zygote's imports set, as they would in a new interpreter


def main():
    """Import what the runner imports, say ``ready`` on stdout, then serve."""
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    before = dict(os.environ)
    from course_utils import explorer, numerics, training, variants  # noqa: F401 (what notebooks import)

    from . import runner

    runner.preload()

    _SET_BY_IMPORTS.update({k: v for k, v in os.environ.items() if k not in before})
    control = socket.socket(fileno=int(os.environ.pop(CONTROL_VARIABLE)))
    print("ready", flush=True)
    _serve(control)
    os._exit(0)


# ---------------------------------------------------------------- the grader's side


class Spawned:
    """A process spawned by the zygote, with what ``execute`` needs of a Popen."""

    def __init__(self, zygote, pid, sandbox):
        self.zygote, self.pid, self.sandbox, self.returncode = zygote, pid, sandbox, None

    def poll(self):
        if self.returncode is None:
            self.returncode = self.zygote.ask({"status": self.pid}).get("code")
        return self.returncode

    def wait(self, timeout=None):
        deadline = time.monotonic() + (timeout if timeout is not None else 1e9)
        while self.poll() is None:
            if time.monotonic() > deadline:
                raise subprocess.TimeoutExpired(f"zygote child {self.pid}", timeout)
            time.sleep(0.005)  # each poll is one request to the zygote
        return self.returncode

    def stop(self):
        """Kill the process with its sandbox (every process in it), then collect its status."""
        from .execute import kill_group

        if self.sandbox is not None:
            kill_group(self.sandbox)
        with contextlib.suppress(ZygoteError, subprocess.TimeoutExpired):
            self.zygote.ask({"kill": self.pid})  # also when it has ended: what it started may still run
            self.wait(5.0)


def _descendant_leaf(pid):
    """The process at the end of ``pid``'s chain of (only) children: the sandbox's placeholder."""
    for _ in range(16):
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        if not children:
            return pid
        pid = int(children[0])
    raise ZygoteError("no placeholder in the new sandbox")


def _read_line(stream, timeout):
    lines = []
    reader = threading.Thread(target=lambda: lines.append(stream.readline(200)), daemon=True)
    reader.start()
    reader.join(timeout)
    return lines[0] if lines else b""


def _placeholder(folder, sandbox):
    """(bwrap process, pidfd of the waiting placeholder) of a new sandbox for ``folder``."""
    from .execute import kill_group
    from .sandbox import sandbox_command

    process = subprocess.Popen(
        sandbox_command(PLACEHOLDER, folder, {"PATH": "/usr/bin:/bin"}, **sandbox),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        if _read_line(process.stdout, PLACEHOLDER_TIMEOUT).strip() != b"ready":
            raise ZygoteError("the new sandbox's placeholder did not start")
        leaf = _descendant_leaf(process.pid)
        pidfd = os.pidfd_open(leaf)
        if Path(f"/proc/{leaf}/comm").read_text().strip() not in ("sh", "sleep"):  # before or after its exec
            os.close(pidfd)
            raise ZygoteError("the new sandbox's placeholder is not where expected")
        return process, pidfd
    except (ZygoteError, OSError) as exc:
        kill_group(process)
        raise ZygoteError(str(exc)) from None


class Zygote:
    """The zygote of one grading worker (see module docstring)."""

    def __init__(self, env):
        """env: the environment the runs share; the zygote imports under it, in a folder of its own."""
        self.lock, self.broken = threading.Lock(), ""
        self.home = tempfile.TemporaryDirectory(prefix="grade-zygote-")
        mine, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        env = {**env, "HOME": self.home.name, "MPLCONFIGDIR": self.home.name, CONTROL_VARIABLE: str(theirs.fileno())}
        try:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "course_utils.grading.zygote"],
                cwd=self.home.name,
                env=env,
                pass_fds=(theirs.fileno(),),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        finally:
            theirs.close()
        self.control = mine
        self.control.settimeout(REPLY_TIMEOUT)
        answer = _read_line(self.process.stdout, READY_TIMEOUT)
        if answer.strip() != b"ready":
            self.close()
            raise ZygoteError(f"the zygote did not start: {answer[:200] or 'no answer'}")
        threading.Thread(target=lambda: self.process.stdout.read(), daemon=True).start()

    def ask(self, request, fds=()):
        """Send one request, return its reply (ZygoteError when the zygote is gone)."""
        with self.lock:
            try:
                socket.send_fds(self.control, [json.dumps(request).encode()], list(fds))
                reply = self.control.recv(4096)
            except OSError as exc:
                raise ZygoteError(f"the zygote is gone: {exc}") from None
        if not reply:
            raise ZygoteError("the zygote is gone")
        return json.loads(reply)

    def spawn(self, main, argv, folder, env, sandbox, fds):
        """Fork ``python -m course_utils.grading.<main> <argv>`` into a new sandbox for ``folder``, as
        ``sandbox_command(..., **sandbox)`` would run it; fds: its (stdout, stderr, channel). A Spawned;
        ZygoteError when that cannot be done (then every later call fails at once)."""
        from .execute import kill_group
        from .sandbox import INSIDE, memory_cgroup, slot_uid

        if self.broken:
            raise ZygoteError(self.broken)
        limits, unsandboxed = sandbox["limits"], sandbox.get("unsandboxed", False)
        spawn = {
            "main": main,
            "argv": argv,
            "env": env,
            "folder": os.fspath(folder) if unsandboxed else INSIDE,
            "limits": limits.rlimits(processes=not unsandboxed),
            "uid": None if unsandboxed else slot_uid(sandbox.get("slot", 0)),
            "cgroup": None if unsandboxed else memory_cgroup(sandbox.get("slot", 0), limits.total_memory_bytes),
        }
        placeholder, pidfd = _placeholder(folder, sandbox) if not unsandboxed else (None, None)
        try:
            reply = self.ask({"spawn": spawn}, [*fds, *([pidfd] if pidfd is not None else [])])
            if not isinstance(reply.get("pid"), int):
                raise ZygoteError("the zygote refused the request")
        except ZygoteError as exc:
            self.broken = str(exc)
            if placeholder is not None:
                kill_group(placeholder)
            raise
        finally:
            if pidfd is not None:
                os.close(pidfd)
        return Spawned(self, reply["pid"], placeholder)

    def close(self):
        from .execute import kill_group

        with contextlib.suppress(OSError):
            self.control.close()
        kill_group(self.process)
        self.home.cleanup()


def stop(process):
    """Kill a process ``start`` returned, with every process of its sandbox, and collect its status."""
    from .execute import kill_group

    process.stop() if isinstance(process, Spawned) else kill_group(process)


def start(main, argv, folder, env, sandbox, zygote=None, channel_fd=None, stderr=subprocess.STDOUT):
    """(process, its stdout as a binary stream) of ``python -m course_utils.grading.<main> <argv>``
    in the sandbox for ``folder``: forked from ``zygote`` when there is one that works, else a new
    interpreter (``sandbox_command``). channel_fd: passed as the result channel (``RESULT_FD_VARIABLE``
    in its environment says where); stderr: STDOUT (with stdout) or DEVNULL."""
    from ..protocol import RESULT_FD_VARIABLE
    from .sandbox import sandbox_command

    if zygote is not None and not zygote.broken:
        out_read, out_write = os.pipe()
        errors = out_write if stderr == subprocess.STDOUT else os.open(os.devnull, os.O_WRONLY)
        channel = channel_fd if channel_fd is not None else os.open(os.devnull, os.O_WRONLY)
        environment = {**env, **({RESULT_FD_VARIABLE: str(CHANNEL_FD)} if channel_fd is not None else {})}
        try:
            process = zygote.spawn(main, argv, folder, environment, sandbox, (out_write, errors, channel))
            return process, os.fdopen(out_read, "rb")
        except ZygoteError as exc:
            os.close(out_read)
            print(f"zygote failed ({exc}); this worker starts a new interpreter per process from now on")
        finally:
            for fd in {out_write, errors, channel} - {channel_fd}:
                os.close(fd)
    environment = {**env, **({RESULT_FD_VARIABLE: str(channel_fd)} if channel_fd is not None else {})}
    argv = [sys.executable, "-m", f"course_utils.grading.{main}", *argv]
    command = sandbox_command(argv, folder, environment, **sandbox)
    process = subprocess.Popen(
        command,
        cwd=folder,
        pass_fds=(channel_fd,) if channel_fd is not None else (),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=stderr,
        start_new_session=True,
    )
    return process, process.stdout


if __name__ == "__main__":
    main()
