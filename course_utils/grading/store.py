"""Record the project grader's results in the real nbgrader gradebook, crash-safely.

``course grade`` computes, per student, a score for every nbgrader grade cell; this module
writes them where Formgrader and ``nbgrader export`` look (SQLite by default, PostgreSQL
through a ``postgresql://`` URL), plus one status row per (assignment, student) in a table
of our own, ``course_grading_status``, in the same database::

    store = Store("sqlite:////abs/course/gradebook.db")
    store.record(SubmissionResult("ps1", "alice", "graded", scores={"ps1": {"q1": 2.0, "q2": None}}))
    store.statuses("ps1")      # {"alice": {"status": "graded", "score": 2.0, ...}}
    store.export_csv("grades_status.csv")

What ``record`` writes, in ONE database transaction:

- the student and the submission (``Gradebook.add_submission``) when missing -- for a
  ``graded`` result only: a ``failed`` one creates no submission, and sets the grades it
  gives only if the submission already exists (cells it does not mention are untouched);
- ``auto_score`` of each grade cell of each notebook of the assignment. A score of ``None``
  (the cell crashed or timed out, so the points could not be determined) -- or a cell or
  notebook a ``graded`` result leaves out -- is stored as ``auto_score = 0`` with
  ``needs_manual_grade = True``: the submission shows up as "needs manual grading" in
  Formgrader, so the instructor looks at it instead of it silently scoring 0. As in
  ``nbgrader autograde``, a grade that already has a manual score is also flagged for review;
- never ``manual_score`` or ``extra_credit``: manual grades survive re-autograding;
- the status row (status, reason, flags, submission hash, the scores as given).

Atomicity. nbgrader's ``Gradebook`` methods each call ``session.commit()``. ``record`` binds
the gradebook's session to one connection that holds an open transaction, with
``join_transaction_mode="create_savepoint"``: those commits then only release SAVEPOINTs,
the status row is written on the same connection, and a single COMMIT at the end makes
student, submission, grades and status durable together. A crash (or an exception, or
a kill) anywhere before that COMMIT leaves the database exactly as before, so the student
is still "not graded" and a rerun redoes it; there is no window in between. (SQLite: the
driver's own transaction handling is switched off and ``BEGIN IMMEDIATE`` is emitted, so
SAVEPOINTs nest inside the real transaction and the write lock is taken up front.)

Idempotent: recording the same result again leaves every row as it was (``updated_at``
changes only when the recorded result does). Concurrent writers: on SQLite the write lock
is waited for (busy timeout) and a "database is locked" transaction is retried; on
PostgreSQL a transaction that loses an insert race or a serialisation check is retried.
Use one ``Store`` per process (or thread); it reconnects by itself after a fork.

Importing this module is cheap: nbgrader (~3 s) and SQLAlchemy are imported on first use.
"""

import contextlib
import csv
import json
import math
import os
import random
import re
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from .settings import Settings

STATUS_TABLE = "course_grading_status"
STATUSES = ("graded", "failed")
LOCK_TIMEOUT = 30.0  # seconds SQLite waits for the write lock before "database is locked"
ATTEMPTS = 8  # transactions tried before giving up on lock / race errors

CSV_COLUMNS = [
    "assignment",
    "student",
    "first_name",
    "last_name",
    "email",
    "status",
    "reason",
    "duedate",
    "timestamp",
    "auto_score",
    "max_auto_score",
    "manual_score",
    "pending_manual_points",
    "raw_score",
    "late_submission_penalty",
    "score",
    "max_score",
    "score_is_final",
    "needs_manual_grade",
    "flags",
    "submission_hash",
    "updated_at",
]
ROSTER_COLUMNS = ("id", "first_name", "last_name", "email")


@dataclass
class SubmissionResult:
    assignment: str
    student: str
    status: str  # "graded" or "failed"
    reason: str = ""  # why failed / what went wrong (empty when graded cleanly)
    scores: dict = field(default_factory=dict)  # notebook -> {grade_id: points or None}
    flags: list = field(default_factory=list)  # integrity flags, human-readable strings
    submission_hash: str = ""  # sha256 of the submitted files, to skip unchanged work on rerun
    seconds: float = 0.0  # wall time of grading it (reported, not stored)
    timestamp: str = ""  # the submission's timestamp.txt as nbgrader collect wrote it ("" when absent)


class GradebookError(LookupError):
    """The gradebook lacks what a result refers to (assignment, notebook, grade cell)."""


_TABLE = None


def _status_table():
    """The status table (SQLAlchemy Core), built on first use so the import stays cheap."""
    global _TABLE
    if _TABLE is None:
        from sqlalchemy import Column, DateTime, MetaData, String, Table, Text

        _TABLE = Table(
            STATUS_TABLE,
            MetaData(),
            Column("assignment", String(128), primary_key=True),
            Column("student", String(128), primary_key=True),
            Column("status", String(16), nullable=False),
            Column("reason", Text, nullable=False, default=""),
            Column("flags", Text, nullable=False, default="[]"),  # JSON list of strings
            Column("submission_hash", String(128), nullable=False, default=""),
            Column("scores", Text, nullable=False, default="{}"),  # JSON, as given (None kept)
            Column("updated_at", DateTime(), nullable=False),  # UTC
        )
    return _TABLE


def _retryable(exc):
    """Lock timeouts, serialisation failures and lost insert or create races: worth a fresh transaction."""
    from nbgrader.api import InvalidEntry
    from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError

    if isinstance(exc, (IntegrityError, InvalidEntry)):
        return True  # another writer created the same student/submission/status row first
    code = getattr(getattr(exc, "orig", None), "sqlstate", None) or getattr(getattr(exc, "orig", None), "pgcode", None)
    if isinstance(exc, DBAPIError) and code in ("42P07", "42710"):
        return True  # PostgreSQL: another writer created the status table (or its row type) at the same moment
    if isinstance(exc, OperationalError):
        text = str(exc).lower()
        return "locked" in text or "busy" in text or code in ("40001", "40P01")
    return False


def _number(value):
    return "" if value is None else f"{value:.12g}"


def _grade_points(grade):
    """nbgrader's ``Grade.score``, computed on the Python objects (fresh within a transaction)."""
    base = grade.manual_score if grade.manual_score is not None else grade.auto_score
    return 0.0 if base is None else base + (grade.extra_credit or 0.0)


def _parse_timestamp(text):
    """nbgrader's reading of timestamp.txt (naive UTC), or None when empty or unreadable."""
    from nbgrader.utils import parse_utc

    try:
        return parse_utc(text.strip()) if text and text.strip() else None
    except (ValueError, OverflowError):
        return None


class RosterError(ValueError):
    """A roster file that cannot be imported as a whole (the message names the line)."""


def read_roster(path, valid_id=None):
    """Rows {id, first_name, last_name, email} of a roster CSV, checked before anything is written.

    Columns ``id``, ``first_name``, ``last_name``, ``email`` (others are refused, so a typo in a
    header is not silently dropped); ``valid_id``: a compiled pattern student ids must match.
    """
    with open(path, newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        header = [name.strip() for name in reader.fieldnames or []]
        unknown = [name for name in header if name not in ROSTER_COLUMNS]
        if "id" not in header or unknown:
            raise RosterError(
                f"{path}: the header must name the columns {', '.join(ROSTER_COLUMNS)} (id required)"
                + (f"; unknown: {', '.join(unknown)}" if unknown else "")
            )
        reader.fieldnames = header
        rows, seen = [], {}
        for line, raw in enumerate(reader, start=2):
            if None in raw:
                raise RosterError(f"{path} line {line}: more fields than the header has columns")
            row = {key: (raw.get(key) or "").strip() or None for key in ROSTER_COLUMNS}
            problem = _roster_problem(row, valid_id, seen)
            if problem:
                raise RosterError(f"{path} line {line}: {problem}")
            seen[row["id"]] = line
            rows.append(row)
    return rows


def _roster_problem(row, valid_id, seen):
    """What is wrong with one roster row, or ''."""
    if not row["id"]:
        return "empty id"
    if valid_id is not None and not valid_id.fullmatch(row["id"]):
        return f"student id {row['id']!r} has characters nbgrader folders cannot hold (letters, digits, _.@+-)"
    if row["id"] in seen:
        return f"student id {row['id']!r} already on line {seen[row['id']]}"
    if row["email"] and not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", row["email"]):
        return f"email {row['email']!r} is not an address"
    return ""


def _course_in(url):
    """The id of the (first) course a gradebook holds, or None."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            row = connection.execute(text("SELECT id FROM course ORDER BY id LIMIT 1")).first()
    except Exception:  # no course table yet: nbgrader creates it
        return None
    finally:
        engine.dispose()
    return row[0] if row else None


class Store:
    """The gradebook at ``db_url`` plus the grader's status table, for ``course grade``."""

    def __init__(self, db_url: str, course_id: str | None = None, late_policy=None, create=False):
        self.db_url = db_url
        self.create = create  # a missing gradebook is created (roster, due dates) instead of refused
        self.course_id = course_id  # as in nbgrader_config.py; None: the course the gradebook holds
        self.late_policy = late_policy  # has .penalty(score, seconds_late) (instructor.late_policy); None: none
        self._gradebook = None
        self._pid = None
        self._lock = threading.Lock()

    # -- connection -------------------------------------------------------------------------

    def _gb(self):
        """The open Gradebook (created on first use, reopened in a forked child)."""
        if self._gradebook is not None and self._pid != os.getpid():
            self._gradebook.engine.dispose(close=False)  # the parent's connections stay the parent's
            self._gradebook = None
        if self._gradebook is None:
            self._gradebook = self._retry(self._open)
            self._pid = os.getpid()
        return self._gradebook

    def _open(self):
        from nbgrader.api import Gradebook
        from sqlalchemy import create_engine, event, inspect
        from sqlalchemy.engine import make_url
        from sqlalchemy.schema import CreateTable

        url = make_url(self.db_url)
        if url.drivername == "postgresql":  # psycopg 3 (the `grading` extra), also on SQLAlchemy 2.0
            url = url.set(drivername="postgresql+psycopg")
        sqlite = url.get_backend_name() == "sqlite"
        if sqlite:
            path = url.database
            if not path or path == ":memory:" or not (Path(path).is_file() or self.create):
                raise GradebookError(
                    f"no gradebook at {self.db_url}: run `nbgrader generate_assignment` "
                    "first (and give an absolute sqlite:////path URL)"
                )
        else:
            probe = create_engine(url)
            try:
                exists = inspect(probe).has_table("assignment")
            finally:
                probe.dispose()
            if not exists and not self.create:
                raise GradebookError(
                    f"no nbgrader gradebook in {url.render_as_string(hide_password=True)}: "
                    "run `nbgrader generate_assignment` with this db_url first"
                )
        course_id = self.course_id or _course_in(url) or Settings.course_id
        gradebook = Gradebook(url.render_as_string(hide_password=False), course_id=course_id)
        engine = gradebook.engine
        if sqlite:
            # pysqlite begins transactions lazily and would let a SAVEPOINT commit on release;
            # take over: no driver transactions, BEGIN (IMMEDIATE for writers) emitted by us.
            gradebook.db.remove()
            engine.dispose()

            @event.listens_for(engine, "connect")
            def _connect(dbapi_connection, _record):
                dbapi_connection.isolation_level = None
                dbapi_connection.execute(f"PRAGMA busy_timeout = {int(LOCK_TIMEOUT * 1000)}")

            @event.listens_for(engine, "begin")
            def _begin(connection):
                write = connection.get_execution_options().get("course_write", False)
                connection.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

        try:
            with engine.connect().execution_options(course_write=True) as connection, connection.begin():
                connection.execute(CreateTable(_status_table(), if_not_exists=True))
        except BaseException:
            gradebook.close()  # (two processes creating the table at once: retried by the caller)
            raise
        return gradebook

    def _retry(self, work):
        for attempt in range(ATTEMPTS):
            try:
                return work()
            except Exception as exc:  # noqa: BLE001 -- filtered just below
                if attempt == ATTEMPTS - 1 or not _retryable(exc):
                    raise
                time.sleep(min(2.0, 0.05 * 2**attempt) * (0.5 + random.random()))

    def close(self):
        """Release the database connections (also done by ``with Store(...)``)."""
        if self._gradebook is not None and self._pid == os.getpid():
            self._gradebook.close()
        self._gradebook = None

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    # -- writing ----------------------------------------------------------------------------

    def record(self, result: SubmissionResult) -> None:
        """Write one student's result (grades + status row) in one transaction; see the module doc."""
        if result.status not in STATUSES:
            raise ValueError(f"status must be one of {STATUSES}, not {result.status!r}")
        if not all(isinstance(flag, str) for flag in result.flags):
            raise ValueError(f"flags must be strings: {result.flags!r}")
        with self._lock:
            gradebook = self._gb()
            self._retry(lambda: self._record_once(gradebook, result))

    def _record_once(self, gradebook, result):
        from sqlalchemy.orm import scoped_session, sessionmaker

        own_session = gradebook.db
        with gradebook.engine.connect().execution_options(course_write=True) as connection:
            transaction = connection.begin()  # SQLite: BEGIN IMMEDIATE, waits for the write lock
            gradebook.db = scoped_session(
                sessionmaker(bind=connection, autoflush=True, join_transaction_mode="create_savepoint")
            )
            try:
                self._write_grades(gradebook, result)
                gradebook.db.commit()  # releases the savepoint: nothing is committed yet
                self._write_status(connection, result)
                transaction.commit()  # the one COMMIT: grades and status together, or neither
            except BaseException:
                transaction.rollback()
                raise
            finally:
                gradebook.db.remove()
                gradebook.db = own_session

    def _write_grades(self, gradebook, result):
        from nbgrader.api import Grade, MissingEntry, SubmittedNotebook

        try:
            assignment = gradebook.find_assignment(result.assignment)
        except MissingEntry:
            raise GradebookError(
                f"assignment {result.assignment!r} is not in the gradebook {self.db_url}: "
                f"run `nbgrader generate_assignment {result.assignment}` first"
            ) from None
        cells = {notebook.name: {cell.name: cell for cell in notebook.grade_cells} for notebook in assignment.notebooks}
        self._check_scores(result, cells)

        try:
            submission = gradebook.find_submission(result.assignment, result.student)
        except MissingEntry:
            if result.status != "graded":
                return  # a failed submission is recorded in the status table only
            try:
                gradebook.find_student(result.student)
            except MissingEntry:
                gradebook.add_student(result.student)
            with gradebook.db.no_autoflush:  # nbgrader builds the whole tree, then adds it
                submission = gradebook.add_submission(result.assignment, result.student)

        for notebook in assignment.notebooks:
            given = result.scores.get(notebook.name, {})
            for name, cell in cells[notebook.name].items():
                if result.status != "graded" and name not in given:
                    continue  # failed: only what the grader did determine
                points = given.get(name)
                try:
                    grade = gradebook.find_grade(name, notebook.name, result.assignment, result.student)
                except MissingEntry:
                    # a grade cell added to the assignment after this submission was created
                    try:
                        submitted = gradebook.find_submission_notebook(notebook.name, result.assignment, result.student)
                    except MissingEntry:
                        submitted = SubmittedNotebook(notebook=notebook, assignment=submission)
                        gradebook.db.add(submitted)
                    grade = Grade(cell_id=cell.id, notebook=submitted)
                    gradebook.db.add(grade)
                grade.auto_score = 0.0 if points is None else float(points)
                grade.needs_manual_grade = points is None or grade.manual_score is not None
        timestamp = _parse_timestamp(result.timestamp)
        if timestamp is not None:
            submission.timestamp = timestamp
        gradebook.db.flush()
        self._penalise(submission)

    def _penalise(self, submission):
        """Set each notebook's ``late_submission_penalty`` as nbgrader's AssignLatePenalties does."""
        if self.late_policy is None:
            return
        late = submission.total_seconds_late
        for notebook in submission.notebooks:
            if late <= 0:
                notebook.late_submission_penalty = None
                continue
            score = sum(_grade_points(grade) for grade in notebook.grades)
            penalty = self.late_policy.penalty(score, late)
            notebook.late_submission_penalty = None if penalty is None else min(max(penalty, 0.0), score)

    @staticmethod
    def _check_scores(result, cells):
        """Every notebook and grade id must exist; points are None or within [0, max_score]."""
        for notebook, given in result.scores.items():
            if notebook not in cells:
                raise GradebookError(
                    f"{result.assignment} has no notebook {notebook!r} in the gradebook "
                    f"(notebooks: {sorted(cells)}; give names without .ipynb)"
                )
            for name, points in given.items():
                if name not in cells[notebook]:
                    raise GradebookError(
                        f"{result.assignment}/{notebook} has no grade cell {name!r} "
                        f"(grade cells: {sorted(cells[notebook])})"
                    )
                if points is None:
                    continue
                top = cells[notebook][name].max_score or 0.0
                if (
                    isinstance(points, bool)
                    or not isinstance(points, (int, float))
                    or not math.isfinite(points)
                    or not -1e-9 <= points <= top + 1e-9
                ):
                    raise ValueError(
                        f"{result.student}: {result.assignment}/{notebook}/{name} scored "
                        f"{points!r}, outside [0, {top:g}]"
                    )

    def _write_status(self, connection, result):
        from sqlalchemy import select

        table = _status_table()
        values = {
            "status": result.status,
            "reason": result.reason or "",
            "flags": json.dumps(list(result.flags)),
            "submission_hash": result.submission_hash or "",
            "scores": json.dumps(result.scores, sort_keys=True),
        }
        key = (table.c.assignment == result.assignment) & (table.c.student == result.student)
        row = connection.execute(select(table).where(key).with_for_update()).mappings().first()
        now = datetime.now(timezone.utc).replace(tzinfo=None)
        if row is None:
            connection.execute(
                table.insert().values(assignment=result.assignment, student=result.student, updated_at=now, **values)
            )
        elif any(row[column] != value for column, value in values.items()):
            connection.execute(table.update().where(key).values(updated_at=now, **values))

    # -- the term: roster, due dates, late penalties ------------------------------------------

    def import_roster(self, rows) -> int:
        """Create or update each student of ``rows`` (``read_roster``), in one transaction.

        The same gradebook call as ``nbgrader db student import``; grades are never touched.
        """
        from nbgrader.api import Student

        def write():
            with self._session() as session:
                for row in rows:
                    student = session.get(Student, row["id"]) or Student(id=row["id"])
                    student.first_name, student.last_name, student.email = (
                        row["first_name"],
                        row["last_name"],
                        row["email"],
                    )
                    session.add(student)
            return len(rows)

        with self._lock:
            self._gb()
            return self._retry(write)

    def set_due_dates(self, due_dates) -> dict:
        """{assignment: naive UTC datetime} into the gradebook, as ``nbgrader db assignment add
        --duedate`` does, for the assignments it holds (``generate_assignment`` adds them).

        Returns {assignment: due date} of those changed, and None for those not in the gradebook yet.
        """
        from nbgrader.api import Assignment

        def write():
            changed = {}
            with self._session() as session:
                for name, due in sorted(due_dates.items()):
                    assignment = session.query(Assignment).filter_by(name=name).one_or_none()
                    if assignment is None:
                        changed[name] = None
                    elif assignment.duedate != due:
                        changed[name] = assignment.duedate = due
            return changed

        with self._lock:
            self._gb()
            return self._retry(write)

    def refresh_late_penalties(self, assignment) -> int:
        """Recompute every submission's late penalty of ``assignment`` from its current grades
        (after manual grading or a changed due date). Returns the number of late submissions."""
        from nbgrader.api import Assignment, SubmittedAssignment

        def write():
            with self._session() as session:
                submissions = (
                    session.query(SubmittedAssignment)
                    .join(Assignment, Assignment.id == SubmittedAssignment.assignment_id)
                    .filter(Assignment.name == assignment)
                    .all()
                )
                for submission in submissions:
                    self._penalise(submission)
                return sum(1 for s in submissions if s.total_seconds_late > 0)

        if self.late_policy is None:
            return 0
        with self._lock:
            self._gb()
            return self._retry(write)

    @contextlib.contextmanager
    def _session(self):
        """An ORM session on one write transaction of the gradebook, committed on success."""
        from sqlalchemy.orm import Session

        gradebook = self._gb()
        with gradebook.engine.connect().execution_options(course_write=True) as connection:
            with connection.begin(), Session(bind=connection, autoflush=True) as session:
                yield session
                session.flush()

    # -- reading ----------------------------------------------------------------------------

    def recorded(self, assignment) -> dict:
        """student -> {status, submission_hash} from the status table alone.

        Cheap (SQLAlchemy only, no nbgrader import): what ``course grade`` needs to decide
        whom to skip before any grading starts. Empty when nothing was recorded yet.
        """
        from sqlalchemy import create_engine, inspect, select
        from sqlalchemy.engine import make_url

        url = make_url(self.db_url)
        if url.drivername == "postgresql":
            url = url.set(drivername="postgresql+psycopg")
        engine = create_engine(url)
        try:
            if not inspect(engine).has_table(STATUS_TABLE):
                return {}
            table = _status_table()
            with engine.connect() as connection:
                rows = connection.execute(
                    select(table.c.student, table.c.status, table.c.submission_hash).where(
                        table.c.assignment == assignment
                    )
                ).all()
        finally:
            engine.dispose()
        return {student: {"status": status, "submission_hash": digest} for student, status, digest in rows}

    def statuses(self, assignment) -> dict:
        """student -> {status, reason, score, max_score, flags, submission_hash, updated_at}.

        ``score`` is nbgrader's current total for the submission (manual grades override
        automatic ones), ``None`` when there is no submission (a failed first attempt).
        Only students ``course grade`` recorded (graded or failed).
        """
        rows = self._read([assignment])
        return {
            row["student"]: {
                "status": row["status"],
                "reason": row["reason"],
                "score": row["raw_score"],
                "max_score": row["max_score"],
                "flags": row["flags"],
                "submission_hash": row["submission_hash"],
                "updated_at": row["updated_at"],
            }
            for row in rows
            if row["status"] in STATUSES
        }

    def rows(self, assignments=None) -> list:
        """One dict per (assignment, student), CSV_COLUMNS' data (see ``export_csv``), sorted."""
        return self._read(assignments)

    def export_csv(self, path, assignments=None) -> None:
        """One row per (assignment, student): the status table joined with the gradebook's scores.

        ``status`` is ``graded``, ``failed: <reason>``, ``unrecorded`` (a submission in the
        gradebook that ``course grade`` never recorded, e.g. from ``nbgrader autograde``) or
        ``missing`` (a student of the roster with no submission after the due date, or when the
        assignment has none; before it: ``not submitted yet``): score columns blank, not 0.
        ``auto_score``/``manual_score`` sum the grades' automatic/manual points (manual blank
        when no grade has one), ``max_auto_score`` is the grade cells' total,
        ``pending_manual_points`` the points of grades still waiting for a grader,
        ``raw_score``, ``late_submission_penalty`` and ``score`` (= raw - penalty, at least 0)
        are nbgrader export's, ``score_is_final`` is ``no`` while grades are pending.
        """
        with open(path, "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(CSV_COLUMNS)
            for row in self._read(assignments):
                writer.writerow([_csv_value(column, row) for column in CSV_COLUMNS])

    def _read(self, assignments):
        """Status rows merged with gradebook totals and the roster, sorted by (assignment, student)."""
        with self._lock:
            gradebook = self._gb()
            return self._retry(lambda: self._read_once(gradebook, assignments))

    def _read_once(self, gradebook, assignments):
        with gradebook.engine.connect() as connection, connection.begin():
            data = _gradebook_data(connection, assignments)
        keys = set(data["statuses"]) | set(data["submitted"])
        keys |= {(name, student) for name in data["assignments"] for student in data["students"]}
        return [_row(key, data) for key in sorted(keys)]


def _gradebook_data(connection, assignments):
    """Everything ``_read`` needs, in a few queries on one connection."""
    from nbgrader.api import Assignment, Grade, Student, SubmittedAssignment, SubmittedNotebook
    from sqlalchemy import func, select

    table = _status_table()
    status_query = select(table)
    assignment_query = select(Assignment.name, Assignment.max_score, Assignment.max_score_gradecell, Assignment.duedate)
    grade_query = (
        select(
            Assignment.name,
            SubmittedAssignment.student_id,
            Grade.auto_score,
            Grade.manual_score,
            Grade.score,
            Grade.needs_manual_grade,
            Grade.max_score,
        )
        .select_from(Grade)
        .join(SubmittedNotebook, SubmittedNotebook.id == Grade.notebook_id)
        .join(SubmittedAssignment, SubmittedAssignment.id == SubmittedNotebook.assignment_id)
        .join(Assignment, Assignment.id == SubmittedAssignment.assignment_id)
    )
    # submissions without any grade row still count as submissions
    submitted_query = (
        select(
            Assignment.name,
            SubmittedAssignment.student_id,
            SubmittedAssignment.timestamp,
            func.sum(SubmittedNotebook.late_submission_penalty),
        )
        .select_from(SubmittedAssignment)
        .join(Assignment, Assignment.id == SubmittedAssignment.assignment_id)
        .outerjoin(SubmittedNotebook, SubmittedNotebook.assignment_id == SubmittedAssignment.id)
        .group_by(Assignment.name, SubmittedAssignment.student_id, SubmittedAssignment.timestamp)
    )
    if assignments is not None:
        names = list(assignments)
        status_query = status_query.where(table.c.assignment.in_(names))
        assignment_query = assignment_query.where(Assignment.name.in_(names))
        grade_query = grade_query.where(Assignment.name.in_(names))
        submitted_query = submitted_query.where(Assignment.name.in_(names))
    grades = {}
    for name, student, *grade in connection.execute(grade_query):
        grades.setdefault((name, student), []).append(grade)
    return {
        "statuses": {(row.assignment, row.student): row for row in connection.execute(status_query)},
        "assignments": {name: rest for name, *rest in connection.execute(assignment_query)},
        "grades": grades,
        "submitted": {(name, student): rest for name, student, *rest in connection.execute(submitted_query)},
        "students": {
            sid: (first, last, email)
            for sid, first, last, email in connection.execute(
                select(Student.id, Student.first_name, Student.last_name, Student.email)
            )
        },
    }


def _totals(grades):
    """Sums of a submission's grade rows: auto, manual (None if no manual grade), raw, pending, needs."""
    auto = sum(g[0] or 0.0 for g in grades)
    manual = [g[1] for g in grades if g[1] is not None]
    pending = sum(g[4] or 0.0 for g in grades if g[3] and g[1] is None)
    return {
        "auto_score": auto,
        "manual_score": sum(manual) if manual else None,
        "raw_score": sum(g[2] or 0.0 for g in grades),
        "pending_manual_points": pending,
        "needs_manual_grade": any(g[3] for g in grades),
    }


def _row(key, data):
    """One export row of (assignment, student) from ``_gradebook_data``."""
    status = data["statuses"].get(key)
    top, top_cells, duedate = data["assignments"].get(key[0], (None, None, None))
    first, last, email = data["students"].get(key[1], (None, None, None))
    row = {
        "assignment": key[0],
        "student": key[1],
        "first_name": first,
        "last_name": last,
        "email": email,
        "status": status.status if status is not None else "unrecorded",
        "reason": status.reason if status is not None else "",
        "flags": json.loads(status.flags) if status is not None else [],
        "submission_hash": status.submission_hash if status is not None else "",
        "updated_at": status.updated_at.replace(tzinfo=timezone.utc) if status is not None else None,
        "duedate": duedate,
        "timestamp": None,
        "auto_score": None,
        "manual_score": None,
        "raw_score": None,
        "pending_manual_points": None,
        "late_submission_penalty": None,
        "score": None,
        "needs_manual_grade": None,
        "max_score": top,
        "max_auto_score": top_cells,
    }
    if key in data["submitted"]:
        timestamp, penalty = data["submitted"][key]
        row.update(_totals(data["grades"].get(key, [])), timestamp=timestamp, late_submission_penalty=penalty or 0.0)
        row["score"] = max(0.0, row["raw_score"] - row["late_submission_penalty"])
    elif status is None:  # on the roster, nothing submitted: missing once the due date has passed
        now = datetime.now(timezone.utc).replace(tzinfo=None)
        row["status"] = "missing" if duedate is None or duedate <= now else "not submitted yet"
    return row


def _csv_value(column, row):
    """The text of one export cell: numbers compact, blanks for unknown (never a made-up 0)."""
    value = row.get(column)
    if column == "status" and value == "failed":
        return f"failed: {row['reason'] or '(no reason given)'}"
    if column == "flags":
        return ";".join(value)
    if column == "score_is_final":
        pending = row["pending_manual_points"]
        return "" if pending is None else ("no" if pending > 0 or row["status"] == "failed" else "yes")
    if column == "needs_manual_grade":
        return "" if value is None else ("yes" if value else "no")
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, float) or isinstance(value, int) and not isinstance(value, bool):
        return _number(value)
    return "" if value is None else str(value)
