"""``course``: the project's grading command line (starts fast; heavy imports come later).

    course grade ps1 [--workers 2] [--scheduler tcp://host:8786] [--db-url URL] [--force] [...]
    course prepare ps1 [--workers 2] [--students ...]   (before the deadline: reference runs, cached)
    course export [-o grades_status.csv] [--db-url URL]
    course export --format canvas|moodle [-o FILE] [--assignments ps1 ...]   (the CSV each LMS imports)
    course publish ps1 [--force]         (scores to the LMS line item through LTI AGS; c.CourseLMS, docs/lms.md)
    course lms-key                       (the tool's RSA key for LTI 1.3 and its public JWKS)
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
            action = argparse.BooleanOptionalAction if default else "store_true"  # --no-<name> turns a True off
            command.add_argument(flag, action=action, default=None, help=help)
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
    export = commands.add_parser(
        "export", help="CSV of statuses and scores of every submission, or the gradebook CSV an LMS imports"
    )
    export.add_argument("-o", "--output", help="default: grades_status.csv, grades-canvas.csv or grades-moodle.csv")
    export.add_argument(
        "--format",
        choices=("status", "canvas", "moodle"),
        default="status",
        help="status: one row per submission with status and scores (default); canvas / moodle: their grade "
        "import CSV, missing and pending left empty (docs/lms.md)",
    )
    export.add_argument("--assignments", nargs="+", help="canvas / moodle: only these assignments (default: all)")
    publish = commands.add_parser(
        "publish", help="send an assignment's scores to the LMS through LTI Assignment and Grade Services"
    )
    publish.add_argument("assignment")
    publish.add_argument("--force", action="store_true", help="send scores again even when unchanged since last sent")
    publish.epilog = "LMS settings (c.CourseLMS.<setting> in nbgrader_config.py): " + "; ".join(
        f"{name} ({default!r}): {help}" for name, default, help in _lms_settings()
    )
    lms_key = commands.add_parser("lms-key", help="create the tool's RSA key for LTI 1.3 and print its public JWKS")
    lms_key.add_argument("--jwks", default="lti-tool-jwks.json", help="where to write the public key as a JWKS")
    lms_key.add_argument("--pem", default="lti-tool-public.pem", help="where to write the public key as PEM (Moodle)")
    for command in (grade, prepare, export, publish):
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


def _lms_settings():
    from ..instructor.ags import documented_lms

    return documented_lms()


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
    from .sandbox import SandboxUnavailable, sweep_orphaned_folders, unavailable_reason

    if unsandboxed:
        print("WARNING: --unsandboxed: student code runs with your permissions, unconfined.")
    elif reason := unavailable_reason():
        raise SandboxUnavailable(
            f"refusing to run student code: the sandbox cannot be set up here "
            f"({reason}). Fix that, or pass --unsandboxed to run it unconfined."
        )
    elif os.geteuid() == 0 and (swept := sweep_orphaned_folders()):
        print(f"unmounted {len(swept)} private folder(s) left by graders that were killed")


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


def export(args, root):
    """``course export``: the status CSV, or (``--format canvas|moodle``) the CSV that LMS imports."""
    settings = _settings(args, root)
    store = _store(settings)
    if args.format == "status":
        output = args.output or "grades_status.csv"
        store.export_csv(root / output)
        print(f"{output} written")
        return 0
    from ..instructor import lms_export

    output = args.output or f"grades-{args.format}.csv"
    rows = store.rows(args.assignments)
    unknown = sorted(set(args.assignments or ()) - {row["assignment"] for row in rows})
    if unknown:
        print(f"not in the gradebook: {', '.join(unknown)}", file=sys.stderr)
        return 2
    count = lms_export.write(root / output, rows, args.format, args.assignments)
    print(f"{output} written: {count} student(s), {args.format} import format (empty cell: missing or pending)")
    return 0


def publish(args, root):
    """``course publish <assignment>``: the gradebook's scores to the LMS line item (instructor.publish)."""
    from ..instructor.ags import AGSClient, AGSError, load_lms_settings, missing_settings
    from ..instructor.publish import Record, describe, read_user_map
    from ..instructor.publish import publish as send

    settings = _settings(args, root)
    try:
        lms = load_lms_settings(root)
        user_map = read_user_map(root / lms.user_map) if lms.user_map else None
    except (ValueError, OSError) as exc:
        print(f"nothing published: {exc}", file=sys.stderr)
        return 2
    if missing := missing_settings(lms):
        print(
            f"nothing published: set c.CourseLMS.{', c.CourseLMS.'.join(missing)} in nbgrader_config.py",
            file=sys.stderr,
        )
        return 2
    from .store import GradebookError

    try:
        store = _store(settings)
        late = store.refresh_late_penalties(args.assignment)
        rows = store.rows([args.assignment])
    except GradebookError as exc:
        print(f"nothing published: {exc}", file=sys.stderr)
        return 2
    print(f"{args.assignment}: {len(rows)} student(s) in the gradebook, {late} late; sending to {lms.lineitems_url}")
    try:
        summary = send(rows, args.assignment, AGSClient(lms, root), Record(root / lms.record), user_map, args.force)
    except (AGSError, ValueError, OSError) as exc:
        print(f"nothing more published: {exc}", file=sys.stderr)
        return 2
    print(describe(summary, args.assignment) + f"; record: {lms.record}")
    return 1 if summary["rejected"] or summary["failed"] else 0


def lms_key(args, root):
    """``course lms-key``: the tool's private key (c.CourseLMS.private_key, 0600) and its public JWKS."""
    import json

    from ..instructor.ags import load_lms_settings, make_tool_key, public_pem

    lms = load_lms_settings(root)
    path = root / lms.private_key
    if path.exists():
        print(f"{path} exists: keeping it (delete it to make a new key)", file=sys.stderr)
        return 2
    jwks = make_tool_key(path, lms.key_id)
    (root / args.jwks).write_text(json.dumps(jwks, indent=2) + "\n")
    (root / args.pem).write_text(public_pem(path))
    print(f"{lms.private_key} written (keep it secret); the public key: {args.jwks} (JWKS) and {args.pem} (PEM)")
    print(json.dumps(jwks["keys"][0]))
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
        return export(args, root)
    if args.command == "publish":
        return publish(args, root)
    if args.command == "lms-key":
        return lms_key(args, root)
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
