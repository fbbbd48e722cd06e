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

import csv
import json
import math
import os
import random
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
    "status",
    "reason",
    "auto_score",
    "max_auto_score",
    "manual_score",
    "score",
    "max_score",
    "needs_manual_grade",
    "flags",
    "submission_hash",
    "updated_at",
]


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
    """Lock timeouts, serialisation failures and lost insert races: worth a fresh transaction."""
    from nbgrader.api import InvalidEntry
    from sqlalchemy.exc import IntegrityError, OperationalError

    if isinstance(exc, (IntegrityError, InvalidEntry)):
        return True  # another writer created the same student/submission/status row first
    if isinstance(exc, OperationalError):
        text = str(exc).lower()
        code = getattr(exc.orig, "sqlstate", None) or getattr(exc.orig, "pgcode", None)
        return "locked" in text or "busy" in text or code in ("40001", "40P01")
    return False


def _number(value):
    return "" if value is None else f"{value:.12g}"


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

    def __init__(self, db_url: str, course_id: str | None = None):
        self.db_url = db_url
        self.course_id = course_id  # as in nbgrader_config.py; None: the course the gradebook holds
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
            if not path or path == ":memory:" or not Path(path).is_file():
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
            if not exists:
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
        """
        rows = self._read([assignment])
        return {
            row["student"]: {
                "status": row["status"],
                "reason": row["reason"],
                "score": row["score"],
                "max_score": row["max_score"],
                "flags": row["flags"],
                "submission_hash": row["submission_hash"],
                "updated_at": row["updated_at"],
            }
            for row in rows
            if row["status"] != "unrecorded"
        }

    def export_csv(self, path, assignments=None) -> None:
        """One row per (assignment, student): the status table joined with the gradebook's scores.

        ``status`` is ``graded``, ``failed: <reason>`` or ``unrecorded`` (a submission in the
        gradebook that ``course grade`` never recorded, e.g. from ``nbgrader autograde``).
        ``auto_score``/``manual_score`` sum the grades' automatic/manual points (manual blank
        when no grade has one), ``max_auto_score`` is the grade cells' total, ``score`` and
        ``max_score`` are nbgrader's totals (manual overrides automatic; task cells count).
        Score columns are blank, never 0, when the gradebook has no submission.
        """
        rows = self._read(assignments)
        with open(path, "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(CSV_COLUMNS)
            for row in rows:
                status = row["status"]
                if status == "failed":
                    status = f"failed: {row['reason'] or '(no reason given)'}"
                writer.writerow(
                    [
                        row["assignment"],
                        row["student"],
                        status,
                        row["reason"],
                        _number(row["auto_score"]),
                        _number(row["max_auto_score"]),
                        _number(row["manual_score"]),
                        _number(row["score"]),
                        _number(row["max_score"]),
                        "" if row["needs_manual_grade"] is None else ("yes" if row["needs_manual_grade"] else "no"),
                        ";".join(row["flags"]),
                        row["submission_hash"],
                        row["updated_at"].isoformat() if row["updated_at"] else "",
                    ]
                )

    def _read(self, assignments):
        """Status rows merged with gradebook totals, sorted by (assignment, student)."""
        with self._lock:
            gradebook = self._gb()
            return self._retry(lambda: self._read_once(gradebook, assignments))

    def _read_once(self, gradebook, assignments):
        from nbgrader.api import Assignment, Grade, SubmittedAssignment, SubmittedNotebook
        from sqlalchemy import case, func, select

        table = _status_table()
        with gradebook.engine.connect() as connection, connection.begin():
            status_query = select(table)
            max_query = select(Assignment.name, Assignment.max_score, Assignment.max_score_gradecell)
            grade_query = (
                select(
                    Assignment.name,
                    SubmittedAssignment.student_id,
                    func.sum(Grade.auto_score),
                    func.sum(Grade.manual_score),
                    func.count(Grade.manual_score),
                    func.sum(Grade.score),
                    func.max(case((Grade.needs_manual_grade, 1), else_=0)),
                )
                .select_from(Grade)
                .join(SubmittedNotebook, SubmittedNotebook.id == Grade.notebook_id)
                .join(SubmittedAssignment, SubmittedAssignment.id == SubmittedNotebook.assignment_id)
                .join(Assignment, Assignment.id == SubmittedAssignment.assignment_id)
                .group_by(Assignment.name, SubmittedAssignment.student_id)
            )
            # submissions without any grade row still count as submissions
            submitted_query = select(Assignment.name, SubmittedAssignment.student_id).join(
                Assignment, Assignment.id == SubmittedAssignment.assignment_id
            )
            if assignments is not None:
                names = list(assignments)
                status_query = status_query.where(table.c.assignment.in_(names))
                max_query = max_query.where(Assignment.name.in_(names))
                grade_query = grade_query.where(Assignment.name.in_(names))
                submitted_query = submitted_query.where(Assignment.name.in_(names))
            statuses = {(row.assignment, row.student): row for row in connection.execute(status_query)}
            maxima = {name: (top, top_cells) for name, top, top_cells in connection.execute(max_query)}
            grades = {(name, student): rest for name, student, *rest in connection.execute(grade_query)}
            submitted = {tuple(key) for key in connection.execute(submitted_query)}

        rows = []
        for key in sorted(set(statuses) | submitted):
            status = statuses.get(key)
            top, top_cells = maxima.get(key[0], (None, None))
            auto = manual = manual_count = score = needs = None
            if key in submitted:
                auto, manual, manual_count, score, needs = grades.get(key, (0.0, None, 0, 0.0, 0))
                auto = auto or 0.0
                score = score or 0.0
                manual = manual if manual_count else None
                needs = bool(needs)
            updated = status.updated_at.replace(tzinfo=timezone.utc) if status is not None else None
            rows.append(
                {
                    "assignment": key[0],
                    "student": key[1],
                    "status": status.status if status is not None else "unrecorded",
                    "reason": status.reason if status is not None else "",
                    "flags": json.loads(status.flags) if status is not None else [],
                    "submission_hash": status.submission_hash if status is not None else "",
                    "updated_at": updated,
                    "auto_score": auto,
                    "manual_score": manual,
                    "score": score,
                    "needs_manual_grade": needs,
                    "max_score": top,
                    "max_auto_score": top_cells,
                }
            )
        return rows
