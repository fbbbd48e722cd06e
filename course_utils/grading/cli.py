"""``course``: the project's grading command line (starts fast; heavy imports come later).

    course grade ps1 [--workers 2] [--scheduler tcp://host:8786] [--db-url URL] [--force] [...]
    course prepare ps1 [--workers 2] [--students ...]   (before the deadline: reference runs, cached)
    course export [-o grades_status.csv] [--db-url URL]
    course roster import roster.csv      (students: id, first_name, last_name, email)
    course due-dates                     (c.CourseGrader.due_dates of nbgrader_config.py -> gradebook)
    course sandbox-check

Every setting (workers, cell timeout, memory and other limits, gradebook URL...) is declared
once in ``grading/settings.py`` and listed by ``course grade --help``.

``grade`` grades every submission in submitted/*/<assignment>/ that has no recorded
"graded" status for the same files (``--force``: all), records each result as soon as it
is known (so a killed run loses nothing and a rerun finishes the class), and writes
``integrity-<assignment>.csv``. Run it in the course folder, after
``nbgrader generate_assignment`` has put the assignment into the gradebook.
Before grading it writes the due dates into the gradebook; at the end it recomputes the late
penalties from the current grades (manual ones included), and writes ``grades-<assignment>.csv``
(as ``course export``, for that assignment: roster students who did not submit are
"missing") and the instructor report ``grades.html`` (every assignment with results), from the
gradebook alone.
"""

import argparse
import csv
import os
import sys
import threading
import time
from pathlib import Path


def _add_settings(command):
    """One option per setting of ``grading.settings`` (help text and default declared there)."""
    from .settings import documented

    for name, default, help in documented():
        if name == "course_id":
            continue  # nbgrader's CourseDirectory.course_id, from nbgrader_config.py
        flag = "--" + name.replace("_", "-")
        if isinstance(default, bool):
            command.add_argument(flag, action="store_true", default=None, help=help)
        else:
            command.add_argument(
                flag,
                type=type(default),
                metavar=name.upper(),
                default=None,
                help=f"{help} (default: {default})" if default else help,
            )


def _parser():
    parser = argparse.ArgumentParser(
        prog="course",
        description=__doc__.split("\n\n")[0],
        epilog="Settings also come from nbgrader_config.py (c.CourseGrader.<setting>); options win.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    grade = commands.add_parser("grade", help="grade an assignment's submissions in the sandbox")
    grade.add_argument("assignment")
    grade.add_argument("--students", nargs="+", help="only these students")
    grade.add_argument("--force", action="store_true", help="regrade students already graded")
    prepare = commands.add_parser(
        "prepare",
        help="run the reference solution for every student id in advance (students of the gradebook and of submitted/)",
    )
    prepare.add_argument("assignment")
    prepare.add_argument("--students", nargs="+", help="only these students")
    export = commands.add_parser("export", help="CSV of statuses and scores of every submission")
    export.add_argument("-o", "--output", default="grades_status.csv")
    for command in (grade, prepare, export):
        _add_settings(command)
    roster = commands.add_parser("roster", help="the class list in the gradebook")
    roster_commands = roster.add_subparsers(dest="roster_command", required=True)
    roster_import = roster_commands.add_parser(
        "import", help="create or update students from a CSV (columns id, first_name, last_name, email)"
    )
    roster_import.add_argument("file", type=Path)
    commands.add_parser("due-dates", help="write c.CourseGrader.due_dates of nbgrader_config.py into the gradebook")
    for command in (roster_import,):
        _add_settings(command)
    commands.add_parser("sandbox-check", help="say whether the sandbox works here")
    term = " The term's policy is set there only (stock nbgrader reads the same values): " + "; ".join(
        f"{name} ({default}): {help}" for name, default, help in _term_settings()
    )
    parser.epilog += term
    grade.epilog = f"Also c.CourseGrader.<setting> in nbgrader_config.py.{term}"
    return parser


def _term_settings():
    from .settings import documented

    return documented(term=True)


def _settings(args, root):
    from .settings import documented, load_settings

    given = {name: getattr(args, name, None) for name, _, _ in documented()}
    return load_settings(root, **given)


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
        raise SandboxUnavailable(
            f"refusing to run student code: the sandbox cannot be set up here "
            f"({reason}). Fix that, or pass --unsandboxed to run it unconfined."
        )


def _store(settings, create=False):
    """The gradebook store applying the course's late policy; ``create``: make a missing gradebook
    (as ``nbgrader db`` does: a roster or due dates may come before the first release)."""
    from ..instructor.late_policy import LatePolicy
    from .store import Store

    if create:  # nbgrader runs `alembic` from PATH to stamp a new gradebook
        os.environ["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    return Store(settings.db_url, settings.course_id, late_policy=LatePolicy.from_settings(settings), create=create)


def due_dates(settings):
    """{assignment: naive UTC datetime} of the settings (a bad date: ValueError naming it)."""
    from ..instructor.late_policy import parse_due_date

    parsed = {}
    for name, text in settings.due_dates.items():
        try:
            parsed[name] = parse_due_date(text)
        except ValueError as exc:
            raise ValueError(f"c.CourseGrader.due_dates[{name!r}]: {exc}") from None
    return parsed


def sync_due_dates(store, settings, quiet=False):
    """Write the configured due dates into the gradebook; print the ones that changed."""
    changed = store.set_due_dates(due_dates(settings))
    for name, due in changed.items():
        if quiet:
            continue
        if due is None:
            print(f"  {name}: not in the gradebook yet (its due date is written after `nbgrader generate_assignment`)")
        else:
            print(f"  {name}: due {due:%Y-%m-%d %H:%M} UTC ({settings.due_dates[name]})")
    return {name: due for name, due in changed.items() if due is not None}


def finish_run(root, store, assignment):
    """End of a grading run, from the gradebook only: late penalties, grades-<a>.csv, grades.html."""
    from ..instructor.report import write_report

    late = store.refresh_late_penalties(assignment)
    target = root / f"grades-{assignment}.csv"
    store.export_csv(target, [assignment])
    report = write_report(root, rows=store.rows())
    print(f"{late} late submission(s) penalised; {target.name} and {report.name} written")


def grade(args, root):
    from .engine import grade_class, submission_hash

    settings = _settings(args, root)
    _require_sandbox(settings.unsandboxed)
    store = _store(settings)
    done = store.recorded(args.assignment)
    threading.Thread(target=_warm_up, daemon=True).start()  # nbgrader's 3 s import, while workers start
    students = [
        s
        for s in _students(root, args.assignment, args.students)
        if args.force
        or done.get(s, {}).get("status") != "graded"
        or done[s]["submission_hash"] != submission_hash(root, args.assignment, s)
    ]
    try:
        sync_due_dates(store, settings)
    except ValueError as exc:
        print(exc, file=sys.stderr)
        return 2
    print(
        f"{args.assignment}: grading {len(students)} submission(s) with "
        f"{settings.scheduler or f'{settings.workers} local worker(s)'}"
    )
    start = time.monotonic()
    for student, result in grade_class(root, args.assignment, students, settings):
        store.record(result)
        total = sum(v or 0 for nb in result.scores.values() for v in nb.values())
        note = f" ({result.reason})" if result.reason else ""
        print(
            f"  {student}: {result.status}{note}, {total:g} points, {len(result.flags)} finding(s), "
            f"{result.seconds:.1f} s",
            flush=True,
        )
    statuses = store.statuses(args.assignment)
    write_integrity_csv(root / f"integrity-{args.assignment}.csv", statuses)
    print(f"done in {time.monotonic() - start:.1f} s; integrity-{args.assignment}.csv written")
    finish_run(root, store, args.assignment)
    return 0


def prepare(args, root):
    from .engine import prepare_references

    settings = _settings(args, root)
    _require_sandbox(settings.unsandboxed)
    students = args.students
    if not students:
        from nbgrader.api import Gradebook

        with Gradebook(settings.db_url, course_id=settings.course_id) as gb:
            students = sorted({s.id for s in gb.students} | set(_students(root, args.assignment, None)))
    start = time.monotonic()
    for done, student in enumerate(prepare_references(root, args.assignment, students, settings), 1):
        print(f"  reference run for {student} ({done}/{len(students)})", flush=True)
    print(f"done in {time.monotonic() - start:.1f} s; `course grade {args.assignment}` will reuse them")
    return 0


def import_roster(args, root):
    """``course roster import FILE``: every row checked first, then all written in one transaction."""
    from .engine import STUDENT_ID
    from .store import RosterError, read_roster

    settings = _settings(args, root)
    try:
        rows = read_roster(args.file, STUDENT_ID)
    except (RosterError, OSError, UnicodeDecodeError) as exc:
        print(f"roster not imported: {exc}", file=sys.stderr)
        return 2
    count = _store(settings, create=True).import_roster(rows)
    print(f"{count} student(s) created or updated from {args.file}")
    return 0


def main(argv=None):
    args = _parser().parse_args(argv)
    root = Path.cwd()
    # nbgrader's gradebook runs `alembic` from PATH: this environment's, also when not activated
    os.environ["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
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
        settings = _settings(args, root)
        _store(settings).export_csv(root / args.output)
        print(f"{args.output} written")
        return 0
    if args.command == "roster":
        return import_roster(args, root)
    if args.command == "due-dates":
        settings = _settings(args, root)
        try:
            changed = sync_due_dates(_store(settings, create=True), settings)
        except ValueError as exc:
            print(exc, file=sys.stderr)
            return 2
        print(f"{len(settings.due_dates)} due date(s) in the gradebook, {len(changed)} changed")
        return 0
    from .sandbox import unavailable_reason

    reason = unavailable_reason()
    print("sandbox works" if reason is None else f"sandbox unavailable: {reason}")
    return 0 if reason is None else 1


if __name__ == "__main__":
    sys.exit(main())
