"""`make lab`: JupyterLab on 127.0.0.1 for this course, with nbgrader's extensions.

Instructors use Formgrader (menu Nbgrader > Formgrader) on the course folder; students use
Assignment List (fetch, submit) and the Validate button in a notebook's toolbar. The
assignments are released into the local exchange first so the Assignment List shows them.
"""

import os
import secrets
import sys
from pathlib import Path

from .commands import course_root, nbgrader


def main(port=8888):
    root = course_root()
    (root / ".exchange").mkdir(exist_ok=True)
    for assignment in sorted(p.name for p in (root / "release").iterdir() if p.is_dir()):
        nbgrader(root, "release_assignment", assignment, "--force")
    token = os.environ.get("COURSE_LAB_TOKEN") or secrets.token_hex(16)
    print(f"\nJupyterLab for the course: http://127.0.0.1:{port}/lab?token={token}\n", flush=True)
    jupyter = Path(sys.executable).parent / "jupyter"
    arguments = [
        str(jupyter),
        "lab",
        "--no-browser",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={root}",
        "--LabApp.news_url=None",  # offline course: no news feed ...
        f"--LabApp.app_settings_dir={Path(__file__).parent / 'lab_settings'}",
    ]  # ... nor its toast
    if os.geteuid() == 0:
        arguments.append("--allow-root")
    os.execv(jupyter, arguments)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 8888)
