"""``course``: the project's grading command line (starts fast; heavy imports come later).

    course grade ps1 [--workers 2] [--scheduler tcp://host:8786] [--db-url URL] [--force]
    course prepare ps1 [--workers 2] [--students ...]   (before the deadline: reference runs, cached)
    course export [-o grades_status.csv] [--db-url URL]
    course sandbox-check

``grade`` grades every submission in submitted/*/<assignment>/ that has no recorded
"graded" status for the same files (``--force``: all), records each result as soon as it
is known (so a killed run loses nothing and a rerun finishes the class), and writes
``integrity-<assignment>.csv``. Run it in the course folder, after
``nbgrader generate_assignment`` has put the assignment into the gradebook.
"""
import argparse
import csv
import sys
import threading
import time
from pathlib import Path


def _parser():
    parser = argparse.ArgumentParser(prog="course", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    grade = commands.add_parser("grade", help="grade an assignment's submissions in the sandbox")
    grade.add_argument("assignment")
    grade.add_argument("--workers", type=int, default=2, help="submissions graded at once (default 2)")
    grade.add_argument("--scheduler", help="Dask scheduler address; default: local processes")
    grade.add_argument("--students", nargs="+", help="only these students")
    grade.add_argument("--force", action="store_true", help="regrade students already graded")
    grade.add_argument("--cell-timeout", type=float, default=120.0, help="seconds per cell (default 120)")
    grade.add_argument("--unsandboxed", action="store_true",
                       help="run student code WITHOUT the sandbox (only where none can be set up)")
    prepare = commands.add_parser("prepare", help="run the reference solution for every student id in "
                                                  "advance (students of the gradebook and of submitted/)")
    prepare.add_argument("assignment")
    prepare.add_argument("--workers", type=int, default=2)
    prepare.add_argument("--students", nargs="+", help="only these students")
    export = commands.add_parser("export", help="CSV of statuses and scores of every submission")
    export.add_argument("-o", "--output", default="grades_status.csv")
    for command in (grade, prepare, export):
        command.add_argument("--db-url", help="gradebook URL (default: sqlite:///gradebook.db here)")
    commands.add_parser("sandbox-check", help="say whether the sandbox works here")
    return parser


def _db_url(args, root):
    return args.db_url or f"sqlite:///{(root / 'gradebook.db').resolve()}"


def _students(root, assignment, chosen):
    found = sorted(p.parent.name for p in (root / "submitted").glob(f"*/{assignment}") if p.is_dir())
    return [s for s in found if not chosen or s in chosen] + [s for s in chosen or () if s not in found]


def write_integrity_csv(path, statuses):
    with open(path, "w", newline="") as f:
        out = csv.writer(f)
        out.writerow(["student", "status", "finding"])
        for student, row in sorted(statuses.items()):
            for flag in row["flags"] or ([] if row["status"] == "graded" else [row["reason"]]):
                out.writerow([student, row["status"], flag])


def _warm_up():
    import nbgrader.api  # noqa: F401 (the store needs it for the first result)


def _require_sandbox(unsandboxed=False):
    """Refuse (SandboxUnavailable) when no sandbox can be set up, unless told to run without."""
    from .sandbox import SandboxUnavailable, unavailable_reason
    if unsandboxed:
        print("WARNING: --unsandboxed: student code runs with your permissions, unconfined.")
    elif reason := unavailable_reason():
        raise SandboxUnavailable(f"refusing to run student code: the sandbox cannot be set up here "
                                 f"({reason}). Fix that, or pass --unsandboxed to run it unconfined.")


def grade(args, root):
    from .engine import Options, grade_class, submission_hash
    from .store import Store
    _require_sandbox(args.unsandboxed)
    store = Store(_db_url(args, root))
    done = store.recorded(args.assignment)
    threading.Thread(target=_warm_up, daemon=True).start()  # nbgrader's 3 s import, while workers start
    students = [s for s in _students(root, args.assignment, args.students)
                if args.force or done.get(s, {}).get("status") != "graded"
                or done[s]["submission_hash"] != submission_hash(root, args.assignment, s)]
    print(f"{args.assignment}: grading {len(students)} submission(s) with "
          f"{args.scheduler or f'{args.workers} local worker(s)'}")
    options, start = Options(args.unsandboxed, args.cell_timeout), time.monotonic()
    for student, result in grade_class(root, args.assignment, students, options, args.workers, args.scheduler):
        store.record(result)
        total = sum(v or 0 for nb in result.scores.values() for v in nb.values())
        note = f" ({result.reason})" if result.reason else ""
        print(f"  {student}: {result.status}{note}, {total:g} points, {len(result.flags)} finding(s)", flush=True)
    statuses = store.statuses(args.assignment)
    write_integrity_csv(root / f"integrity-{args.assignment}.csv", statuses)
    print(f"done in {time.monotonic() - start:.1f} s; integrity-{args.assignment}.csv written")
    return 0


def prepare(args, root):
    from .engine import Options, prepare_references
    _require_sandbox()
    students = args.students
    if not students:
        from nbgrader.api import Gradebook
        with Gradebook(_db_url(args, root)) as gb:
            students = sorted({s.id for s in gb.students} | set(_students(root, args.assignment, None)))
    start = time.monotonic()
    for done, student in enumerate(prepare_references(root, args.assignment, students, Options(),
                                                      args.workers), 1):
        print(f"  reference run for {student} ({done}/{len(students)})", flush=True)
    print(f"done in {time.monotonic() - start:.1f} s; `course grade {args.assignment}` will reuse them")
    return 0


def main(argv=None):
    args = _parser().parse_args(argv)
    root = Path.cwd()
    from .sandbox import SandboxUnavailable
    try:
        if args.command == "grade":
            return grade(args, root)
        if args.command == "prepare":
            return prepare(args, root)
    except SandboxUnavailable as exc:
        print(exc, file=sys.stderr)
        return 2
    if args.command == "export":
        from .store import Store
        Store(_db_url(args, root)).export_csv(root / args.output)
        print(f"{args.output} written")
        return 0
    from .sandbox import unavailable_reason
    reason = unavailable_reason()
    print("sandbox works" if reason is None else f"sandbox unavailable: {reason}")
    return 0 if reason is None else 1


if __name__ == "__main__":
    sys.exit(main())
