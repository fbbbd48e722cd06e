"""course_utils.grading.store against real nbgrader gradebooks on SQLite and on a real PostgreSQL."""

import contextlib
import csv
import multiprocessing
import os
import shutil
import subprocess
import sys
import traceback
import uuid

import pytest

from course_utils.grading.store import GradebookError, Store, SubmissionResult

ASSIGNMENT, NOTEBOOK = "ps1", "problem1"
CELLS = {"q1": ("code", 2.0), "q2": ("code", 3.0), "q3": ("markdown", 5.0)}  # q3: a written answer


def build_gradebook(url):
    """What `nbgrader generate_assignment ps1` puts in the gradebook: assignment, notebook, cells."""
    from nbgrader.api import Gradebook

    with Gradebook(url, course_id="dl-workbook") as gradebook:
        gradebook.update_or_create_assignment(ASSIGNMENT)
        gradebook.update_or_create_notebook(NOTEBOOK, ASSIGNMENT)
        for name, (cell_type, points) in CELLS.items():
            gradebook.update_or_create_grade_cell(name, NOTEBOOK, ASSIGNMENT, max_score=points, cell_type=cell_type)
        gradebook.update_or_create_solution_cell("q3", NOTEBOOK, ASSIGNMENT)


@contextlib.contextmanager
def with_alembic():
    """A new gradebook asks `alembic` (from PATH) for its schema version, as `make demo` arranges."""
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setenv("PATH", f"{os.path.dirname(sys.executable)}{os.pathsep}{os.environ['PATH']}")
        yield


@pytest.fixture(scope="module")
def sqlite_template(tmp_path_factory):
    """One gradebook built through nbgrader (~2.5 s: alembic), copied for every test."""
    path = tmp_path_factory.mktemp("template") / "gradebook.db"
    with with_alembic():
        build_gradebook(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="module")
def postgres_template(postgres_url):
    """The same gradebook as a PostgreSQL template database; tests get copies of it."""
    import psycopg

    name = f"gb_template_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(postgres_url, autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name}")
    with with_alembic():
        build_gradebook(f"{postgres_url.rsplit('/', 1)[0]}/{name}")
    yield name
    with psycopg.connect(postgres_url, autocommit=True) as admin:
        admin.execute(f"DROP DATABASE {name} WITH (FORCE)")


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path):
    """A fresh gradebook per test: a copy of the SQLite file, or a new database on the real server."""
    if request.param == "sqlite":
        path = tmp_path / "gradebook.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        yield f"sqlite:///{path}"
        return
    import psycopg

    server, template = request.getfixturevalue("postgres_url"), request.getfixturevalue("postgres_template")
    name = f"gb_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server, autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name} TEMPLATE {template}")
    yield f"{server.rsplit('/', 1)[0]}/{name}"
    with psycopg.connect(server, autocommit=True) as admin:
        admin.execute(f"DROP DATABASE {name} WITH (FORCE)")


@pytest.fixture
def store(db_url):
    with Store(db_url) as store:
        yield store


def graded(student, q1=2.0, q2=1.5, q3=None, **kwargs):
    return SubmissionResult(ASSIGNMENT, student, "graded", scores={NOTEBOOK: {"q1": q1, "q2": q2, "q3": q3}}, **kwargs)


def grades(url, student):
    """{cell: (auto_score, manual_score, needs_manual_grade)} read through nbgrader's API."""
    from nbgrader.api import Gradebook

    with Gradebook(url, course_id="dl-workbook") as gradebook:
        return {
            name: (grade.auto_score, grade.manual_score, grade.needs_manual_grade)
            for name in CELLS
            for grade in [gradebook.find_grade(name, NOTEBOOK, ASSIGNMENT, student)]
        }


def submission_score(url, student):
    from nbgrader.api import Gradebook

    with Gradebook(url, course_id="dl-workbook") as gradebook:
        submission = gradebook.find_submission(ASSIGNMENT, student)
        return submission.score, submission.max_score, submission.needs_manual_grade


def has_submission(url, student):
    from nbgrader.api import Gradebook, MissingEntry

    with Gradebook(url, course_id="dl-workbook") as gradebook:
        try:
            gradebook.find_submission(ASSIGNMENT, student)
        except MissingEntry:
            return False
        return True


def dump(url):
    """Every row of every table, for comparing whole database states."""
    from sqlalchemy import MetaData, create_engine, select

    engine = create_engine(url)
    try:
        metadata = MetaData()
        metadata.reflect(engine)
        with engine.connect() as connection:
            return {
                name: sorted(map(repr, connection.execute(select(table)))) for name, table in metadata.tables.items()
            }
    finally:
        engine.dispose()


def read_csv(path):
    with open(path, newline="") as handle:
        return {row["student"]: row for row in csv.DictReader(handle)}


def test_graded_result_lands_in_the_gradebook(store, db_url):
    store.record(graded("alice", flags=["imports os"], submission_hash="ab12"))
    assert grades(db_url, "alice") == {
        "q1": (2.0, None, False),
        "q2": (1.5, None, False),
        "q3": (0.0, None, True),
    }  # None: 0 and "needs manual grade"
    assert submission_score(db_url, "alice") == (3.5, 10.0, True)
    status = store.statuses(ASSIGNMENT)["alice"]
    assert status["status"] == "graded" and status["reason"] == ""
    assert (status["score"], status["max_score"]) == (3.5, 10.0)
    assert status["flags"] == ["imports os"] and status["submission_hash"] == "ab12"
    assert status["updated_at"].tzinfo is not None


def test_manual_score_survives_regrading(store, db_url):
    from nbgrader.api import Gradebook

    store.record(graded("alice"))
    with Gradebook(db_url, course_id="dl-workbook") as gradebook:  # the instructor, in Formgrader
        gradebook.find_grade("q3", NOTEBOOK, ASSIGNMENT, "alice").manual_score = 4.0
        gradebook.find_grade("q2", NOTEBOOK, ASSIGNMENT, "alice").manual_score = 2.5
        gradebook.db.commit()
    store.record(graded("alice", q1=1.0, q2=0.5))
    after = grades(db_url, "alice")
    assert after["q3"][1] == 4.0 and after["q2"] == (0.5, 2.5, True)  # manual kept, flagged for review
    assert after["q1"] == (1.0, None, False)
    assert submission_score(db_url, "alice")[0] == 1.0 + 2.5 + 4.0


def test_recording_twice_changes_nothing(store, db_url):
    store.record(graded("alice", flags=["x"], submission_hash="h1"))
    store.record(SubmissionResult(ASSIGNMENT, "bob", "failed", reason="problem1.ipynb: not JSON"))
    before = dump(db_url)
    store.record(graded("alice", flags=["x"], submission_hash="h1"))
    store.record(SubmissionResult(ASSIGNMENT, "bob", "failed", reason="problem1.ipynb: not JSON"))
    assert dump(db_url) == before
    assert submission_score(db_url, "alice")[0] == 3.5  # no double counting
    first = store.statuses(ASSIGNMENT)["alice"]["updated_at"]
    store.record(graded("alice", q1=0.0, flags=["x"], submission_hash="h2"))  # a new submission
    status = store.statuses(ASSIGNMENT)["alice"]
    assert status["submission_hash"] == "h2" and status["updated_at"] >= first
    assert grades(db_url, "alice")["q1"] == (0.0, None, False)


def test_failed_submissions_are_recorded_and_exported(store, db_url, tmp_path):
    store.record(graded("alice", flags=["imports os", "long loop"]))
    store.record(
        SubmissionResult(ASSIGNMENT, "bob", "failed", reason="problem1.ipynb is not valid JSON", submission_hash="ff00")
    )
    assert not has_submission(db_url, "bob")  # nothing to grade: no fake zero in the gradebook
    status = store.statuses(ASSIGNMENT)["bob"]
    assert (status["status"], status["reason"], status["score"]) == ("failed", "problem1.ipynb is not valid JSON", None)

    store.export_csv(tmp_path / "grades.csv")
    rows = read_csv(tmp_path / "grades.csv")
    assert rows["bob"]["status"] == "failed: problem1.ipynb is not valid JSON"
    assert rows["bob"]["auto_score"] == rows["bob"]["score"] == ""  # blank, not 0
    assert rows["alice"]["status"] == "graded" and rows["alice"]["flags"] == "imports os;long loop"
    assert (rows["alice"]["auto_score"], rows["alice"]["max_auto_score"], rows["alice"]["manual_score"]) == (
        "3.5",
        "10",
        "",
    )
    assert rows["alice"]["needs_manual_grade"] == "yes"
    store.export_csv(tmp_path / "none.csv", assignments=["ps9"])
    assert read_csv(tmp_path / "none.csv") == {}


def test_failed_rerun_sets_only_the_cells_it_gives(store, db_url):
    store.record(graded("alice"))
    store.record(
        SubmissionResult(ASSIGNMENT, "alice", "failed", reason="kernel died in q1", scores={NOTEBOOK: {"q1": None}})
    )
    after = grades(db_url, "alice")
    assert after["q1"] == (0.0, None, True) and after["q2"] == (1.5, None, False)
    assert store.statuses(ASSIGNMENT)["alice"]["status"] == "failed"


def test_unknown_names_are_clear_errors_and_write_nothing(store, db_url):
    before = dump(db_url)
    with pytest.raises(GradebookError, match="generate_assignment ps7"):
        store.record(SubmissionResult("ps7", "alice", "graded"))
    with pytest.raises(GradebookError, match="no grade cell 'q9'"):
        store.record(SubmissionResult(ASSIGNMENT, "alice", "graded", scores={NOTEBOOK: {"q9": 1.0}}))
    with pytest.raises(ValueError, match="outside"):
        store.record(graded("alice", q1=7.0))
    assert {name: rows for name, rows in dump(db_url).items() if name != "course_grading_status"} == {
        name: rows for name, rows in before.items() if name != "course_grading_status"
    }
    assert store.statuses(ASSIGNMENT) == {}


def test_grades_and_status_commit_together(store, db_url, monkeypatch):
    store.record(graded("alice"))

    def crash(*args):
        raise RuntimeError("killed between the grades and the status row")

    monkeypatch.setattr(Store, "_write_status", crash)
    with pytest.raises(RuntimeError):
        store.record(graded("alice", q1=0.0, q2=0.0))
    with pytest.raises(RuntimeError):
        store.record(graded("carol"))
    monkeypatch.undo()
    assert grades(db_url, "alice")["q1"] == (2.0, None, False)  # rolled back with the status row
    assert not has_submission(db_url, "carol")
    assert set(store.statuses(ASSIGNMENT)) == {"alice"}
    store.record(graded("carol"))  # the rerun redoes carol
    assert submission_score(db_url, "carol")[0] == 3.5


def _killed_mid_record(url):
    def die(*args):
        os._exit(9)  # no rollback, no cleanup: as if the grader were killed -9 here

    Store._write_status = die
    Store(url).record(graded("alice", q1=0.0, q2=0.0))


def test_a_writer_killed_mid_record_leaves_no_trace(store, db_url):
    store.record(graded("alice"))
    before = dump(db_url)
    process = multiprocessing.get_context("fork").Process(target=_killed_mid_record, args=(db_url,))
    process.start()
    process.join(timeout=60)
    assert process.exitcode == 9
    assert dump(db_url) == before  # the grades written before the kill were never committed
    store.record(graded("alice", q1=0.0, q2=0.0))
    assert grades(db_url, "alice")["q1"] == (0.0, None, False)


def _writer(url, worker, barrier, errors):
    try:
        with Store(url) as store:
            store.statuses(ASSIGNMENT)  # both create the status table (if missing) at once
            barrier.wait(timeout=60)
            for i in range(10):
                store.record(graded(f"s{worker}-{i:02d}", q1=float(i % 3), q2=float(worker)))
    except BaseException:  # noqa: BLE001 -- reported to the parent
        errors.put(traceback.format_exc())
        raise


def test_concurrent_writers_lose_nothing(db_url):
    context = multiprocessing.get_context("fork")
    barrier, errors = context.Barrier(2), context.Queue()
    workers = [context.Process(target=_writer, args=(db_url, worker, barrier, errors)) for worker in (1, 2)]
    for process in workers:
        process.start()
    for process in workers:
        process.join(timeout=120)
    assert errors.empty(), errors.get()
    assert [process.exitcode for process in workers] == [0, 0]

    with Store(db_url) as store:
        statuses = store.statuses(ASSIGNMENT)
    assert len(statuses) == 20
    for worker in (1, 2):
        for i in range(10):
            assert statuses[f"s{worker}-{i:02d}"]["score"] == (i % 3) + worker


def test_import_is_light():
    code = (
        "import sys, course_utils.grading.store; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('nbgrader', 'sqlalchemy')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_term_roster_due_date_late_penalty_missing_and_pending(db_url, tmp_path):
    """Roster names, a due date, a late timestamp's penalty (nbgrader's total_seconds_late),
    a roster student with no submission ('missing', blank scores) and the written answer's
    pending points, on both databases."""
    from datetime import datetime, timedelta

    from nbgrader.api import Gradebook

    from course_utils.instructor.late_policy import LatePolicy

    policy = LatePolicy(grace_minutes=0, per_day=0.25, max_share=0.5)
    due = datetime(2026, 10, 16, 21, 59)
    with Store(db_url, late_policy=policy) as store:
        store.import_roster(
            [
                {"id": "alice", "first_name": "Alice", "last_name": "A", "email": "a@example.org"},
                {"id": "bob", "first_name": "Bob", "last_name": "B", "email": None},
            ]
        )
        assert store.set_due_dates({ASSIGNMENT: due, "ps9": due}) == {ASSIGNMENT: due, "ps9": None}
        stamp = due + timedelta(hours=25)  # two started days
        store.record(graded("alice", timestamp=f"{stamp:%Y-%m-%d %H:%M:%S.%f} UTC"))
        store.export_csv(tmp_path / "out.csv")
    rows = read_csv(tmp_path / "out.csv")
    raw = 2.0 + 1.5  # graded()'s automatic points; q3 (5 points, written) waits for a grader
    share = min(policy.max_share, policy.per_day * 2)
    alice = rows["alice"]
    assert (alice["first_name"], alice["email"]) == ("Alice", "a@example.org")
    assert float(alice["late_submission_penalty"]) == pytest.approx(raw * share)
    assert float(alice["score"]) == pytest.approx(raw * (1 - share))
    assert (alice["pending_manual_points"], alice["score_is_final"]) == ("5", "no")
    assert rows["bob"]["status"] == "missing" and rows["bob"]["score"] == rows["bob"]["raw_score"] == ""
    with Gradebook(db_url, course_id="dl-workbook") as gradebook:  # what Formgrader and nbgrader export read
        submission = gradebook.find_submission(ASSIGNMENT, "alice")
        assert submission.late_submission_penalty == pytest.approx(raw * share)
        assert gradebook.find_student("bob").first_name == "Bob"


class _PgError(Exception):
    def __init__(self, sqlstate):
        super().__init__(sqlstate)
        self.sqlstate = sqlstate


@pytest.mark.parametrize(
    "sqlstate, retried",
    [("42P07", True), ("42710", True), ("40001", False), ("42601", False)],  # 40001 is retried as OperationalError
)
def test_a_lost_race_to_create_the_status_table_is_retried(sqlstate, retried):
    """PostgreSQL's CREATE TABLE IF NOT EXISTS is not atomic: a writer that loses the race gets
    duplicate_table (42P07) or duplicate_object (42710, the table's row type); a syntax error is not retried."""
    from sqlalchemy.exc import ProgrammingError

    from course_utils.grading.store import _retryable

    assert _retryable(ProgrammingError("CREATE TABLE ...", {}, _PgError(sqlstate))) is retried
