"""`make hub`: the course on a JupyterHub on 127.0.0.1, with real Unix accounts (run as root).

    python -m course_utils.instructor.hub setup [ROSTER] [--assignments ps1 ...]   accounts, Python, course,
                                                           exchange, releases (idempotent)
    python -m course_utils.instructor.hub start [ROSTER]   JupyterHub in the foreground (COURSE_HUB_PORT, 8000)

What lives where is `HubLayout`; who is who is the roster (hub/roster.csv: id, first_name,
last_name, email, role = student | grader | instructor). Each person gets a Unix account and
their own JupyterLab (students: Assignment List and Validate; staff: Course List). The course
lives in the home of its course account ``grader-<course>`` (mode 0700), whose JupyterLab with
Formgrader is a hub service that only the hub group ``formgrade-<course>`` (instructors and
graders) can open. Grading runs `course grade` as root through one sudo rule (the sandbox
needs root); docs/hub.md says how the same set-up goes to a real server.
"""

import argparse
import csv
import grp
import hashlib
import os
import pwd
import secrets
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from .commands import course_root
from .lab import LAB_SETTINGS

REPO = course_root()
HUB_FILES = REPO / "hub"
ROLES = ("student", "grader", "instructor")


@dataclass(frozen=True)
class HubLayout:
    """Paths and names of one hub with one course (all derived from ``prefix`` and ``course``)."""

    course: str = "dl-workbook"  # nbgrader's CourseDirectory.course_id
    prefix: Path = Path("/srv/dl-hub")
    exchange: Path = Path("/srv/nbgrader/exchange")  # nbgrader's shared exchange, mode 1777

    @property
    def venv(self):
        """Python of the hub and of every user's server (course_utils installed, not editable)."""
        return self.prefix / "venv"

    @property
    def proxy(self):
        return self.prefix / "proxy" / "node_modules" / ".bin" / "configurable-http-proxy"

    @property
    def roles(self):
        """Jupyter config folders per role, put on each server's JUPYTER_CONFIG_PATH."""
        return self.prefix / "roles"

    @property
    def lab_settings(self):
        """JupyterLab's settings overrides for every server (offline: no news, no update check)."""
        return self.roles / "lab_settings"

    @property
    def state(self):
        """The hub's database, cookie secret and the demo passwords (root only)."""
        return self.prefix / "state"

    @property
    def grade_command(self):
        """The one command the course account may run as root: `course grade` on its course."""
        return self.prefix / "bin" / f"grade-{self.course}"

    @property
    def course_account(self):
        return f"grader-{self.course}"

    @property
    def course_home(self):
        return Path("/home") / self.course_account

    @property
    def course_dir(self):
        return self.course_home / self.course

    def config_path(self, role):
        """JUPYTER_CONFIG_PATH of a server of ``role`` (the course account's is 'grader')."""
        own = {"student": "student", "instructor": "instructor", "grader": "instructor"}
        if role == "course":
            return str(self.roles / "grader")
        return os.pathsep.join([str(self.roles / own[role]), str(self.roles / "everyone")])


LAYOUT = HubLayout()


def read_roster(path):
    """[{id, first_name, last_name, email, role}] from a roster CSV; a bad row stops with its line."""
    people = []
    with open(path, newline="") as handle:
        for line, row in enumerate(csv.DictReader(handle), start=2):
            if row.get("role") not in ROLES or not (row.get("id") or "").replace("-", "").isalnum():
                sys.exit(f"{path}:{line}: needs an id of letters, digits and '-' and a role in {ROLES}: {row}")
            people.append(row)
    return people


def run(*argv, user=None, cwd=None, env=None):
    """Run a command (as ``user`` when given, with a login-like environment); stop on failure."""
    if user:
        home = pwd.getpwnam(user).pw_dir
        argv = ("/usr/sbin/runuser", "-u", user, "--", "env", f"HOME={home}", f"USER={user}", f"LOGNAME={user}", *argv)
    done = subprocess.run([str(a) for a in argv], cwd=cwd, env=env, capture_output=True, text=True)
    if done.returncode:
        sys.exit(f"hub setup: {' '.join(map(str, argv))} failed ({done.returncode}):\n{done.stdout}{done.stderr}")


def tree_hash(*paths):
    """sha256 over files' names and bytes (what decides whether the hub's Python is current)."""
    digest = hashlib.sha256()
    for top in paths:
        files = (
            [top]
            if top.is_file()
            else sorted(p for p in top.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
        )
        for path in files:
            digest.update(str(path.relative_to(REPO)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def open_to_all_accounts(folder):
    """Let every account traverse (not list) the folders above ``folder``; say which changed."""
    for parent in reversed(Path(folder).parents):
        mode = parent.stat().st_mode
        if not mode & 0o001:
            parent.chmod(mode | 0o001)
            print(f"hub setup: {parent} may now be traversed by all accounts (o+x) to reach {folder}")


def install_python(layout=LAYOUT):
    """A venv every account can run, from this Python's base (the lock's versions need it): the
    locked packages, the hub, and a *copy* of course_utils (an editable install would point
    students at the repository, solutions included). Rebuilt when the dependencies change;
    only course_utils is reinstalled when only it changed."""
    stamps = {
        layout.venv / ".dependencies-stamp": tree_hash(REPO / "pyproject.toml", REPO / "requirements.lock"),
        layout.venv / ".course-utils-stamp": tree_hash(REPO / "course_utils"),
    }
    current = [stamp.exists() and stamp.read_text() == digest for stamp, digest in stamps.items()]
    uv = Path(sys.executable).parent / "uv"  # parallel installs; .pyc compiled now (users cannot write them)
    install = (uv, "pip", "install", "--quiet", "--python", layout.venv / "bin" / "python", "--compile-bytecode")
    if not current[0]:
        open_to_all_accounts(sys.base_prefix)
        shutil.rmtree(layout.venv, ignore_errors=True)
        run(uv, "venv", "--quiet", "--seed", "--python", Path(sys.base_prefix) / "bin" / "python3", layout.venv)
        run(*install, "-c", REPO / "requirements.lock", f"{REPO}[course,grading,hub,lms]")
    elif not current[1]:
        run(*install, "--no-deps", "--reinstall-package", "course-utils", REPO)
    for stamp, digest in stamps.items():
        stamp.write_text(digest)


def install_proxy(layout=LAYOUT):
    """JupyterHub's standard proxy, from hub/proxy/package-lock.json."""
    folder = layout.prefix / "proxy"
    if (
        layout.proxy.exists()
        and (folder / "package-lock.json").read_bytes() == (HUB_FILES / "proxy" / "package-lock.json").read_bytes()
    ):
        return
    folder.mkdir(parents=True, exist_ok=True)
    for name in ("package.json", "package-lock.json"):
        shutil.copy(HUB_FILES / "proxy" / name, folder / name)
    run("npm", "ci", "--no-audit", "--no-fund", "--silent", cwd=folder)


def install_roles(layout=LAYOUT):
    """hub/roles -> the hub's role config folders, make lab's JupyterLab settings beside them
    (root-owned, readable by all)."""
    shutil.rmtree(layout.roles, ignore_errors=True)
    shutil.copytree(HUB_FILES / "roles", layout.roles)
    shutil.copytree(LAB_SETTINGS, layout.lab_settings)
    for path in [layout.roles, *layout.roles.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)


def ensure_group(name):
    try:
        grp.getgrnam(name)
    except KeyError:
        run("groupadd", name)


def ensure_account(name, password=None):
    """A Unix account with a private home (0700); its password is set when given."""
    try:
        pwd.getpwnam(name)
    except KeyError:
        run("useradd", "--create-home", "--user-group", "--shell", "/bin/bash", name)
    os.chmod(pwd.getpwnam(name).pw_dir, 0o700)
    if password:
        subprocess.run(["chpasswd"], input=f"{name}:{password}\n", text=True, check=True)


def create_accounts(people, layout=LAYOUT):
    """One account per person with a fresh demo password (kept in state/passwords.csv, root only)."""
    layout.state.mkdir(parents=True, exist_ok=True)
    layout.state.chmod(0o700)
    passwords = {person["id"]: secrets.token_urlsafe(12) for person in people}
    for person in people:
        ensure_account(person["id"], passwords[person["id"]])
    with open(layout.state / "passwords.csv", "w", newline="") as handle:
        os.fchmod(handle.fileno(), 0o600)
        writer = csv.writer(handle)
        writer.writerow(["id", "password"])
        writer.writerows(passwords.items())
    ensure_account(layout.course_account)


def install_exchange(layout=LAYOUT):
    """nbgrader's exchange: one folder every account may write, sticky (1777, as /tmp).

    nbgrader checks only the last three mode digits (777); the sticky bit keeps a student from
    renaming or deleting the course's folder in it.
    """
    layout.exchange.mkdir(parents=True, exist_ok=True)
    layout.exchange.chmod(0o1777)
    layout.exchange.parent.chmod(0o755)


def install_course(people, layout=LAYOUT, assignments=None):
    """The course folder in the course account's home, its gradebook roster, its releases
    (``assignments``, default every one in source/)."""
    account = layout.course_account
    layout.course_dir.mkdir(exist_ok=True)
    shutil.rmtree(layout.course_dir / "source", ignore_errors=True)
    shutil.copytree(REPO / "source", layout.course_dir / "source")
    shutil.copy(REPO / "nbgrader_config.py", layout.course_dir)
    (layout.course_home / "nbgrader_config.py").write_text(
        f'"""The course of this account (Formgrader runs in {layout.course_home})."""\n'
        f'load_subconfig("{layout.course_dir / "nbgrader_config.py"}")  # noqa: F821\n'
    )
    roster = layout.course_dir / "roster.csv"
    with open(roster, "w", newline="") as handle:
        writer = csv.DictWriter(handle, ["id", "first_name", "last_name", "email"], extrasaction="ignore")
        writer.writeheader()
        writer.writerows(p for p in people if p["role"] == "student")
    run("chown", "-R", f"{account}:{account}", layout.course_home)
    nbgrader = layout.venv / "bin" / "nbgrader"
    env = dict(os.environ, COURSE_EXCHANGE=str(layout.exchange), PATH=f"{layout.venv / 'bin'}:/usr/bin:/bin")
    as_course = {"user": account, "cwd": layout.course_dir, "env": env}
    run(nbgrader, "db", "student", "import", roster, **as_course)
    for assignment in assignments or sorted(p.name for p in (layout.course_dir / "source").iterdir() if p.is_dir()):
        run(nbgrader, "generate_assignment", assignment, "--force", **as_course)  # release/ and the gradebook's cells
        run(nbgrader, "release_assignment", assignment, "--force", **as_course)


def install_grade_command(layout=LAYOUT):
    """`grade-<course> ASSIGNMENT [--students ID ...] [--force]`, run by the course account through sudo.

    The sandbox must start as root; the script takes no other argument, so the course account
    cannot change how student code is confined. Files it writes go back to the course account.
    """
    script = layout.grade_command
    script.parent.mkdir(parents=True, exist_ok=True)
    script.write_text(
        "#!/bin/sh\n"
        "# Grades with the project grader as root (see course_utils/instructor/hub.py); written by make hub.\n"
        "set -eu\n"
        'for arg in "$@"; do\n'
        '  case "$arg" in\n'
        "    --students|--force) ;;\n"
        "    -*|*[!A-Za-z0-9_.-]*|'') echo \"grade: refused argument: $arg\" >&2; exit 2 ;;\n"
        "  esac\n"
        "done\n"
        f"cd {layout.course_dir}\n"
        f'status=0; env -i PATH=/usr/bin:/bin LANG=C.UTF-8 {layout.venv}/bin/course grade "$@" || status=$?\n'
        f"chown -R --from=root {layout.course_account}:{layout.course_account} {layout.course_dir}\n"
        'exit "$status"\n'
    )
    script.chmod(0o755)
    rule = Path("/etc/sudoers.d") / f"grade-{layout.course}"
    rule.write_text(f"{layout.course_account} ALL=(root) NOPASSWD: {script}\n")
    rule.chmod(0o440)
    run("visudo", "-cf", rule)


def setup(roster=HUB_FILES / "roster.csv", layout=LAYOUT, assignments=None):
    """Everything `start` needs; safe to rerun (the Python and the proxy are rebuilt only on change)."""
    if os.geteuid() != 0:
        sys.exit("make hub creates Unix accounts and runs the hub as root: run it as root")
    people = read_roster(roster)
    if REPO.stat().st_mode & 0o077:  # the repository holds the solutions and hidden tests
        REPO.chmod(0o700)
        print(f"hub setup: {REPO} is now private to its owner (it holds the solutions)")
    layout.prefix.mkdir(parents=True, exist_ok=True)
    layout.prefix.chmod(0o755)
    steps = (
        ("python", lambda: install_python(layout)),
        ("proxy", lambda: install_proxy(layout)),
        ("roles", lambda: install_roles(layout)),
        ("accounts", lambda: create_accounts(people, layout)),
        ("exchange", lambda: install_exchange(layout)),
        ("course", lambda: install_course(people, layout, assignments)),
        ("grading", lambda: install_grade_command(layout)),
    )
    for name, step in steps:
        started = time.monotonic()
        step()
        print(f"hub setup: {name} ({time.monotonic() - started:.1f} s)", flush=True)
    print(f"hub setup: done; demo passwords in {layout.state / 'passwords.csv'} (root only)")


def start(roster=HUB_FILES / "roster.csv", layout=LAYOUT):
    """Run JupyterHub with hub/jupyterhub_config.py in the foreground (its state in layout.state)."""
    jupyterhub = layout.venv / "bin" / "jupyterhub"
    config = HUB_FILES / "jupyterhub_config.py"
    env = dict(os.environ, COURSE_HUB_ROSTER=str(Path(roster).resolve()))
    port = env.setdefault("COURSE_HUB_PORT", "8000")
    print(f"hub: http://127.0.0.1:{port}/hub/login (accounts and passwords: {layout.state / 'passwords.csv'})")
    os.chdir(layout.state)
    os.execve(jupyterhub, [str(jupyterhub), "-f", str(config)], env)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m course_utils.instructor.hub", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    for name, help in (("setup", "accounts, Python, course, exchange (idempotent)"), ("start", "run the hub")):
        command = commands.add_parser(name, help=help)
        command.add_argument(
            "roster",
            nargs="?",
            type=Path,
            default=HUB_FILES / "roster.csv",
            help="roster CSV: id, first_name, last_name, email, role (default: hub/roster.csv)",
        )
    commands.choices["setup"].add_argument(
        "--assignments", nargs="+", metavar="NAME", help="release only these (default: every assignment in source/)"
    )
    args = parser.parse_args(argv)
    if args.command == "setup":
        setup(args.roster, assignments=args.assignments)
    else:
        start(args.roster)


if __name__ == "__main__":
    main()
