"""Grade one submission end to end, and a class in parallel (processes or Dask).

Per notebook of a submission: rebuild it around the instructor's cells (``assemble``),
run the reference solution once per student id in judge mode (cached, and shared by all
students when the notebook has no per-student variants), run the student's notebook in
probe mode in the sandbox (``execute``), and let the oracle judge every test cell.

    grade_submission(root, assignment, student, settings) -> SubmissionResult
    grade_class(root, assignment, students, settings) -> iterator of (student, SubmissionResult)
    prepare_references(root, assignment, students, settings) -> iterator (before a deadline)

``settings`` is a ``grading.settings.Settings`` (workers, scheduler, cell timeout, limits...).
"""

import contextlib
import fcntl
import hashlib
import json
import os
import re
import tempfile
import time
import traceback
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ..protocol import EXECUTION_VARIABLE, MODE_VARIABLE, READABLE_VARIABLE, STUDENT_VARIABLE
from .assemble import (
    MAX_NOTEBOOK_BYTES,
    UnreadableNotebook,
    condition_skeletons,
    read_notebook,
    read_submitted_notebook,
    reference_plan,
    student_plan,
)
from .sandbox import HOME, MAX_SLOTS
from .settings import Settings
from .store import SubmissionResult

CACHE_FORMAT = b"records-as-text\n"  # part of the reference cache key: a new format, a new cache
SMALL_FILE_BYTES = 256  # timestamp.txt ("2026-10-16 21:59:00.123456 UTC"), submission_secret.txt (128 hex digits)
STUDENT_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.@+-]{0,99}")


def submission_hash(root, assignment, student):
    """sha256 of the student's submitted regular files and of the instructor's source notebooks.

    Never raises for what a student submitted: an unreadable folder hashes as its error text.
    """
    try:
        return _submission_hash(root, assignment, student)
    except (OSError, ValueError, RecursionError) as exc:
        return hashlib.sha256(f"unreadable: {type(exc).__name__}".encode()).hexdigest()


def _submission_hash(root, assignment, student):
    from .files import NotAPlainFile, read_submitted, submitted_files

    digest = hashlib.sha256()
    for relative in submitted_files(root, student, assignment):
        try:
            content = read_submitted(root, relative, MAX_NOTEBOOK_BYTES)
        except (NotAPlainFile, OSError) as exc:
            content = str(exc).encode()
        digest.update(relative.encode() + b"\0" + content + b"\0")
    source = Path(root) / "source" / assignment
    for path in sorted(p for p in source.rglob("*") if p.is_file()) if source.is_dir() else []:
        digest.update(str(path.relative_to(source)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def _take_slot():
    """(slot number, open lock file): the slot is ours until the file is closed."""
    folder = Path(tempfile.gettempdir()) / "course-grader-slots"
    folder.mkdir(exist_ok=True)
    for number in range(MAX_SLOTS):
        handle = open(folder / f"{number}.lock", "w")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            continue
        return number, handle
    raise RuntimeError(f"all {MAX_SLOTS} sandbox slots are busy")


@contextlib.contextmanager
def _slot():
    """A sandbox slot number not used by any other grading process on this machine."""
    number, handle = _take_slot()
    with handle:
        yield number


def _env(student, mode):
    """The complete environment of a sandboxed run (see the contract in ``course_utils.protocol``)."""
    threads = {k: "1" for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")}
    return {
        READABLE_VARIABLE: os.pathsep.join(_readable()),
        STUDENT_VARIABLE: student,
        EXECUTION_VARIABLE: "autograde",
        MODE_VARIABLE: mode,
        "HOME": HOME,
        "PATH": "/usr/bin:/bin",
        "LANG": "C.UTF-8",
        "MPLBACKEND": "Agg",
        "MPLCONFIGDIR": f"{HOME}/matplotlib",
        "PYTHONDONTWRITEBYTECODE": "1",
        **threads,
    }


def _readable():
    """Host folders a notebook may read besides the Python install: where the data sets are."""
    from .. import data

    return [str(p) for p in data.search_roots() if p.is_dir()]


def _sandbox(settings, slot):
    return {"limits": settings.limits, "readable": _readable(), "slot": slot, "unsandboxed": settings.unsandboxed}


def _judge_run(settings, slot):
    from .judge import JudgeRun

    env = {k: v for k, v in _env("", "").items() if k not in (STUDENT_VARIABLE, MODE_VARIABLE, READABLE_VARIABLE)}
    return JudgeRun({**_sandbox(settings, slot), "readable": ()}, env, settings.judge_timeout)


def _run(plan, student, mode, settings, slot, root=None):
    from .execute import run_plan
    from .sandbox import private_folder

    with private_folder(settings.limits, settings.unsandboxed, prefix=f"grade-{mode}-") as workdir:
        return run_plan(
            plan.cells,
            Path(workdir),
            _env(student, mode),
            _sandbox(settings, slot),
            settings.cell_timeout,
            settings.max_crashes,
            settings.run_seconds,
            _zygote(settings, slot),
            plan_extra={"font_cache": _font_cache(root)},
        )


FONT_CACHE = "matplotlib-fonts.json"  # in .grading_cache/: matplotlib's font list, for every run's start


def _font_cache(root):
    """{"name": "fontlist-v....json", "text": ...} or None: matplotlib's font list as a fresh
    MPLCONFIGDIR would build it (a scan of every font file, ~0.5 s of each sandboxed run's start),
    written by ``build_font_cache`` before the workers start (None until it is there)."""
    try:
        return json.loads((Path(root) / ".grading_cache" / FONT_CACHE).read_text()) if root else None
    except (OSError, ValueError):
        return None


def build_font_cache(root):
    """Write .grading_cache/matplotlib-fonts.json (our own code only, unsandboxed), unless it exists."""
    import subprocess
    import sys

    target = Path(root) / ".grading_cache" / FONT_CACHE
    if target.exists():
        return
    with tempfile.TemporaryDirectory(prefix="grade-fonts-") as folder:
        env = {"PATH": "/usr/bin:/bin", "MPLCONFIGDIR": folder, "HOME": folder}
        done = subprocess.run([sys.executable, "-c", "import matplotlib.font_manager"], env=env, capture_output=True)
        names = sorted(p.name for p in Path(folder).glob("fontlist-v*.json"))
        if done.returncode or not names:
            return
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(f".{FONT_CACHE}.{os.getpid()}.tmp")
        partial.write_text(json.dumps({"name": names[0], "text": (Path(folder) / names[0]).read_text()}))
        partial.replace(target)


def warm_up(root):
    """Before the workers start: the package's bytecode now, the font list in a thread (a worker's
    first runs scan the fonts themselves until it is written). Returns the thread."""
    import threading

    precompile()
    thread = threading.Thread(target=build_font_cache, args=(root,), daemon=True)
    thread.start()
    return thread


_zygote_of_this_process = []  # [Zygote or None] once asked for


def _zygote(settings, slot):
    """This process's warm interpreter (``grading.zygote``) its notebook runs are forked from,
    started on first use and tried once on a one-cell run in ``slot``; None when it is turned off,
    cannot start or fails that run (then each run starts a new interpreter)."""
    from .zygote import Zygote, ZygoteError

    if not settings.zygote:
        return None
    if not _zygote_of_this_process:
        try:
            zygote = Zygote({k: v for k, v in _env("", "").items() if k not in (STUDENT_VARIABLE, MODE_VARIABLE)})
        except (ZygoteError, OSError) as exc:
            _zygote_of_this_process.append(None)
            print(f"grading without a zygote: {exc}")
            return None
        _zygote_of_this_process.append(zygote)
        _close_at_exit()
        _try_zygote(zygote, settings, slot)
    return _zygote_of_this_process[0]


def _try_zygote(zygote, settings, slot):
    """Fork one run of ``pass`` before any student's: a zygote that cannot set a run up on this
    machine must cost speed, never a student's cells (its failures look like the notebook's)."""
    from .execute import run_plan
    from .sandbox import private_folder

    with private_folder(settings.limits, settings.unsandboxed, prefix="grade-probe-") as workdir:
        cells = [{"index": 0, "source": "pass", "role": "locked"}]
        execution = run_plan(cells, Path(workdir), _env("", "judge"), _sandbox(settings, slot), 60, 0, 120, zygote)
    if execution.cells[0].status != "ok" or execution.flags:
        zygote.broken = f"its trial run failed: {execution.cells[0].error} {execution.raw_output[-300:]}".strip()
        print(f"grading without a zygote: {zygote.broken}")


def _close_zygote():
    if _zygote_of_this_process and _zygote_of_this_process[0]:
        _zygote_of_this_process[0].close()
    _zygote_of_this_process.clear()


def _close_at_exit():
    """Close the zygote when this process ends (a pool worker runs multiprocessing's finalizers only)."""
    import atexit
    from multiprocessing import util

    atexit.register(_close_zygote)
    util.Finalize(None, _close_zygote, exitpriority=10)


def _by_grade_id(plan, execution):
    return {c["grade_id"]: execution.cells.get(c["index"]) for c in plan.cells if c["grade_id"]}


def reference_results(root, assignment, notebook, student, settings, slot):
    """grade_id -> CellResult of the reference run for this student (cached on disk)."""
    from .execute import CellResult

    source = Path(root) / "source" / assignment / f"{notebook}.ipynb"
    key = hashlib.sha256(CACHE_FORMAT + source.read_bytes()).hexdigest()[:16]
    cache = Path(root) / ".grading_cache" / assignment / f"{notebook}-{key}"
    for name in ("_shared", student):
        if (cache / f"{name}.json").exists():
            return {g: CellResult(**c) for g, c in json.loads((cache / f"{name}.json").read_text()).items()}
    plan = reference_plan(read_notebook(source))
    execution = _run(plan, student, "judge", settings, slot, root)
    results = _by_grade_id(plan, execution)
    cache.mkdir(parents=True, exist_ok=True)
    partial = cache / f".{student}.{os.getpid()}.tmp"
    partial.write_text(json.dumps({g: asdict(r) for g, r in results.items() if r}))
    partial.replace(cache / f"{'_shared' if not execution.student_id_used else student}.json")
    return results


@dataclass
class NotebookGrade:
    scores: dict = field(default_factory=dict)  # grade_id -> points, or None (not judged)
    flags: list = field(default_factory=list)  # integrity findings
    report: list = field(default_factory=list)  # one line per test for grading_report.txt
    problem: str = ""  # why the notebook could not be graded


def _read_submitted(root, assignment, notebook, student):
    """(cells, '') of a submitted notebook, or (None, the reason it cannot be graded)."""
    try:
        return read_submitted_notebook(root, f"submitted/{student}/{assignment}/{notebook}.ipynb"), ""
    except FileNotFoundError:
        return None, f"{notebook}.ipynb missing"
    except UnreadableNotebook as exc:
        return None, f"{notebook}.ipynb unreadable: {exc}"


def _run_findings(notebook, plan, execution):
    """Integrity findings of a student's run: the channel's, then the tripwires of each cell the
    student wrote or whose code calls the student's (answer, test and added cells)."""
    flags = [f"{notebook}: {flag}" for flag in execution.flags]
    for cell in plan.cells:
        if cell["role"] == "locked":
            continue  # the instructor's own setup code: what it does is never the student's finding
        name = cell["grade_id"] or f"#{cell['index']} (a cell without a grade id)"
        flags += [
            f"{notebook}: cell {name}: {finding}"
            for finding in getattr(execution.cells.get(cell["index"]), "guard", [])
        ]
    return flags


def _grade_notebook(root, assignment, notebook, student, settings, slot):
    """NotebookGrade of one notebook of a submission."""
    from .autograded import write_autograded
    from .judge import judge_notebook

    source_cells = read_notebook(Path(root) / "source" / assignment / f"{notebook}.ipynb")
    release_cells = read_notebook(Path(root) / "release" / assignment / f"{notebook}.ipynb")
    tests = reference_plan(source_cells).tests
    cells, problem = _read_submitted(root, assignment, notebook, student)
    if problem:
        return NotebookGrade(
            {gid: 0.0 for gid in tests}, [problem], [f"{problem}: 0 points for its {len(tests)} tests"], problem
        )
    extra = (
        [f"{notebook}: {len(cells)} cells, only the first {settings.max_cells} were run"]
        if len(cells) > settings.max_cells
        else []
    )
    plan = student_plan(source_cells, release_cells, cells[: settings.max_cells])
    reference = reference_results(root, assignment, notebook, student, settings, slot)
    execution = _run(plan, student, "probe", settings, slot, root)
    write_autograded(root, assignment, student, notebook, plan, execution)
    grade = NotebookGrade(
        flags=extra + [f"{notebook}: {flag}" for flag in plan.flags] + _run_findings(notebook, plan, execution)
    )
    skeletons = condition_skeletons(source_cells)
    verdicts = judge_notebook(tests, _by_grade_id(plan, execution), reference, skeletons, _judge_run(settings, slot))
    for gid, points in tests.items():
        verdict = verdicts[gid]
        grade.scores[gid] = verdict.score
        grade.flags += [f"{notebook}: {verdict.flag}"] if verdict.flag else []
        score = "?" if verdict.score is None else f"{verdict.score:g}"
        grade.report.append(f"{notebook} {gid}: {score}/{points:g}  {verdict.message}")
    return grade


def grade_submission(root, assignment, student, settings=Settings()):
    """SubmissionResult of one student's assignment; never raises for a bad submission."""
    start = time.monotonic()
    result = _grade_submission(root, assignment, student, settings)
    result.seconds = time.monotonic() - start
    return result


def read_timestamp(root, assignment, student):
    """(text of submitted/<student>/<assignment>/timestamp.txt, finding or '').

    nbgrader collect writes the file from the exchange; the text is kept as nbgrader reads it
    (``Store`` parses it with ``nbgrader.utils.parse_utc``). Read like any submitted file: no
    links, no FIFOs, at most SMALL_FILE_BYTES.
    """
    from dateutil.parser import parse

    from .files import NotAPlainFile, read_submitted

    try:
        text = read_submitted(root, f"submitted/{student}/{assignment}/timestamp.txt", SMALL_FILE_BYTES)
    except FileNotFoundError:
        return "", ""
    except (NotAPlainFile, OSError) as exc:
        return "", f"timestamp.txt unreadable: {exc}"
    text = text.decode("utf-8", "replace").strip()
    try:
        parse(text.rsplit(" ", 1)[0] if text.count(" ") == 2 else text)
    except (ValueError, OverflowError):
        return "", f"timestamp.txt unreadable: {text[:60]!r} is not a time (graded as submitted on time)"
    return text, ""


def _grade_submission(root, assignment, student, settings):
    result = SubmissionResult(assignment, student, "graded", submission_hash=submission_hash(root, assignment, student))
    if not STUDENT_ID.fullmatch(student):
        return _failed(result, f"invalid student id {student!r}")
    result.timestamp, problem = read_timestamp(root, assignment, student)
    result.flags += [problem] if problem else []
    report, problems = [], []
    try:
        with _slot() as slot:
            for source in sorted((Path(root) / "source" / assignment).glob("*.ipynb")):
                grade = _grade_notebook(root, assignment, source.stem, student, settings, slot)
                result.scores[source.stem] = grade.scores
                result.flags += grade.flags
                report += grade.report
                problems += [grade.problem] if grade.problem else []
    except Exception as exc:  # the grader's own failure: recorded for this student, others go on
        return _failed(result, f"grader error: {type(exc).__name__}: {exc}", traceback.format_exc(limit=3))
    unjudged = [gid for s in result.scores.values() for gid, v in s.items() if v is None]
    if problems or unjudged:
        result.status = "failed"
        result.reason = "; ".join(problems + ([f"could not judge {unjudged}"] if unjudged else []))
    _keep_nbgrader_files(root, assignment, student)
    write_feedback(root, result, report)
    return result


def _keep_nbgrader_files(root, assignment, student):
    """Copy the files nbgrader's later steps expect beside the graded notebooks: timestamp.txt
    (Formgrader) and submission_secret.txt (release_feedback pairs feedback with the submission)."""
    from .files import NotAPlainFile, read_submitted

    for name in ("timestamp.txt", "submission_secret.txt"):
        try:
            data = read_submitted(root, f"submitted/{student}/{assignment}/{name}", SMALL_FILE_BYTES)
        except (FileNotFoundError, NotAPlainFile, OSError):
            continue
        (Path(root) / "autograded" / student / assignment / name).write_bytes(data)


def _failed(result, reason, detail=""):
    result.status, result.reason = "failed", reason
    if detail:
        result.flags.append(detail.strip().splitlines()[-1])
    return result


def write_feedback(root, result, report):
    """feedback/<student>/<assignment>/grading_report.txt: every test's verdict and the flags."""
    folder = Path(root) / "feedback" / result.student / result.assignment
    folder.mkdir(parents=True, exist_ok=True)
    lines = [
        f"{result.assignment} for {result.student}: {result.status}" + (f" ({result.reason})" if result.reason else ""),
        "",
        *report,
    ]
    if result.flags:
        lines += ["", "Integrity findings (your instructor sees these too):", *[f"- {f}" for f in result.flags]]
    (folder / "grading_report.txt").write_text("\n".join(lines) + "\n")


def _grade_in_process(root, assignment, student, settings):
    """Task body for a process pool or a Dask worker: the result as a plain dict."""
    return asdict(grade_submission(root, assignment, student, settings))


def _prepare_in_process(root, assignment, student, settings):
    """Task body of ``course prepare``: the reference runs of one student id, into the cache."""
    with _slot() as slot:
        for source in sorted((Path(root) / "source" / assignment).glob("*.ipynb")):
            reference_results(root, assignment, source.stem, student, settings, slot)
    return student


def precompile():
    """Write the bytecode of ``course_utils`` where it is missing or stale: every sandboxed process
    imports the package read-only (and with PYTHONDONTWRITEBYTECODE), so a missing .pyc is
    compiled again in each of them."""
    import compileall

    package = Path(__file__).resolve().parent.parent
    with contextlib.suppress(OSError):
        compileall.compile_dir(package, quiet=1)


def _local_pool(workers):
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    return ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"))


def prepare_references(root, assignment, students, settings=Settings()):
    """Run and cache the reference solution for each student id before the submissions come in.

    Grading then runs only the students' notebooks. Yields each student id when done.
    """
    from concurrent.futures import as_completed

    warm_up(root)
    with _local_pool(settings.workers) as pool:
        for future in as_completed(
            [pool.submit(_prepare_in_process, str(root), assignment, s, settings) for s in students]
        ):
            yield future.result()


def grade_class(root, assignment, students, settings=Settings()):
    """Yield (student, SubmissionResult) as each finishes, ``settings.workers`` at a time.

    On ``settings.scheduler`` (a Dask scheduler whose workers see the same course folder), else
    in a local process pool. A task that dies is a failed result for that student only.
    """
    tasks = [(str(root), assignment, s, settings) for s in students]
    warm_up(root)
    if settings.scheduler:
        from dask.distributed import Client, as_completed

        client = Client(settings.scheduler)
        try:
            futures = {
                client.submit(_grade_in_process, *t, pure=False, key=f"grade-{assignment}-{t[2]}"): t[2] for t in tasks
            }
            for future in as_completed(futures):
                yield futures[future], _result_of(future, assignment, futures[future])
        finally:
            client.close()
        return
    from concurrent.futures import as_completed

    with _local_pool(settings.workers) as pool:
        futures = {pool.submit(_grade_in_process, *t): t[2] for t in tasks}
        for future in as_completed(futures):
            yield futures[future], _result_of(future, assignment, futures[future])


def _result_of(future, assignment, student):
    try:
        return SubmissionResult(**future.result())
    except Exception as exc:  # the worker process died or the task failed outside grade_submission
        return SubmissionResult(
            assignment, student, "failed", reason=f"grading task failed: {type(exc).__name__}: {exc}"
        )
