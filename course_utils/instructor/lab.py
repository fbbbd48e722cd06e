"""`make lab`: JupyterLab on 127.0.0.1 for this course, with nbgrader's extensions.

Instructors use Formgrader (menu Nbgrader > Formgrader) on the course folder; students use
Assignment List (fetch, submit) and the Validate button in a notebook's toolbar. An assignment
is released into the local exchange when its release/ folder changed since it was last
released there (a stamp with the folder's hash), so an unchanged course starts at once. The
port is the one asked for when it is free, else a free one; the URL printed is the one served.
"""

import hashlib
import os
import secrets
import socket
import sys
from pathlib import Path

from .commands import course_root, nbgrader

LAB_SETTINGS = Path(__file__).parent / "lab_settings"


def course_server_args(lab_settings=LAB_SETTINGS):
    """The settings every JupyterLab server of the course gets (make lab, the hub's servers): offline
    (no news feed nor its toast, `lab_settings`), and CurveZMQ between server and kernels (as
    nbgrader's kernels, nbgrader_config.py)."""
    return [
        "--LabApp.news_url=None",
        f"--LabApp.app_settings_dir={lab_settings}",
        "--KernelManager.transport_encryption=auto",
    ]


def free_port(wanted):
    """``wanted`` if nothing listens on it on 127.0.0.1, else a port the system picks."""
    for port in (wanted, 0):
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return probe.getsockname()[1]
    raise OSError("no free port on 127.0.0.1")


def release_hash(folder):
    """sha256 of a release folder's file names and contents."""
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(folder)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def release_changed(root):
    """Release into the exchange each assignment whose release/ changed since its last release."""
    stamps = root / ".exchange" / ".released"
    stamps.mkdir(parents=True, exist_ok=True)
    for folder in sorted(p for p in (root / "release").iterdir() if p.is_dir()):
        stamp, digest = stamps / folder.name, release_hash(folder)
        released = any((root / ".exchange").glob(f"*/outbound/{folder.name}"))
        if released and stamp.exists() and stamp.read_text() == digest:
            continue
        nbgrader(root, "release_assignment", folder.name, "--force")
        stamp.write_text(digest)


STUDENT_WORK_CONFIG = """\
# Written by make lab. Assignment List runs nbgrader in this folder (Exchange.assignment_dir),
# so this file points it to the course's settings one folder up.
load_subconfig("../nbgrader_config.py")  # noqa: F821 (provided by traitlets)
"""


def prepare_student_work(root):
    """Make student-work/, where Assignment List fetches into (kept out of the course root)."""
    work = root / "student-work"
    work.mkdir(exist_ok=True)
    (work / "nbgrader_config.py").write_text(STUDENT_WORK_CONFIG)


def main(port=8888):
    root = course_root()
    prepare_student_work(root)
    release_changed(root)
    port = free_port(port)
    token = os.environ.get("COURSE_LAB_TOKEN") or secrets.token_hex(16)
    print(f"\nJupyterLab for the course: http://127.0.0.1:{port}/lab?token={token}\n", flush=True)
    jupyter = Path(sys.executable).parent / "jupyter"
    arguments = [
        str(jupyter),
        "lab",
        "--no-browser",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",  # the port printed is the port served, or an error
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={root}",
        *course_server_args(),
    ]
    if os.geteuid() == 0:
        arguments.append("--allow-root")
    os.execv(jupyter, arguments)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 8888)
