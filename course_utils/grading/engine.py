"""Grade one submission end to end, and a class in parallel (processes or Dask).

Per notebook of a submission: rebuild it around the instructor's cells (``assemble``),
run the reference solution once per student id in judge mode (cached, and shared by all
students when the notebook has no per-student variants), run the student's notebook in
probe mode in the sandbox (``execute``), and let the oracle judge every test cell.

    grade_submission(root, assignment, student, options) -> SubmissionResult
    grade_class(root, assignment, students, options, workers=2, scheduler=None) -> iterator
    prepare_references(root, assignment, students, options, workers=2) -> iterator (before a deadline)
"""
import contextlib
import fcntl
import hashlib
import json
import os
import re
import tempfile
import traceback
from dataclasses import asdict, dataclass
from pathlib import Path

from .assemble import UnreadableNotebook, read_notebook, reference_plan, student_plan
from .store import SubmissionResult

STUDENT_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.@+-]{0,99}")
SLOTS = 64


@dataclass(frozen=True)
class Options:
    unsandboxed: bool = False
    cell_timeout: float = 120.0
    memory_bytes: int = 3 * 2**30


def submission_hash(root, assignment, student):
    """sha256 of the student's submitted files and of the instructor's source notebooks."""
    digest = hashlib.sha256()
    for folder in (Path(root) / "submitted" / student / assignment, Path(root) / "source" / assignment):
        for path in sorted(p for p in folder.rglob("*") if p.is_file()) if folder.is_dir() else []:
            digest.update(str(path.relative_to(folder)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


@contextlib.contextmanager
def _slot():
    """A sandbox slot number not used by any other grading process on this machine."""
    folder = Path(tempfile.gettempdir()) / "course-grader-slots"
    folder.mkdir(exist_ok=True)
    for number in range(SLOTS):
        with open(folder / f"{number}.lock", "w") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                continue
            yield number
            return
    raise RuntimeError(f"all {SLOTS} sandbox slots are busy")


def _env(student, mode):
    threads = {k: "1" for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")}
    return {"COURSE_READABLE": os.pathsep.join(_readable()), "HOME": "/tmp/home", "PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "MPLBACKEND": "Agg",
            "MPLCONFIGDIR": "/tmp/matplotlib", "PYTHONDONTWRITEBYTECODE": "1", "COURSE_STUDENT_ID": student,
            "NBGRADER_EXECUTION": "autograde", "COURSE_CHECK_MODE": mode, **threads}


def _readable():
    from .. import data
    candidates = ["/usr/share/datasets", str(data.cache_dir("x").parent)]
    return [p for p in candidates if os.path.isdir(p)]


def _run(plan, student, mode, options, slot):
    from .execute import run_plan
    from .sandbox import Limits
    sandbox = {"limits": Limits(memory_bytes=options.memory_bytes), "readable": _readable(),
               "slot": slot, "unsandboxed": options.unsandboxed}
    with tempfile.TemporaryDirectory(prefix=f"grade-{mode}-") as workdir:
        return run_plan(plan.cells, Path(workdir), _env(student, mode), sandbox, options.cell_timeout)


def _by_grade_id(plan, execution):
    return {c["grade_id"]: execution.cells.get(c["index"]) for c in plan.cells if c["grade_id"]}


def reference_results(root, assignment, notebook, student, options, slot):
    """grade_id -> CellResult of the reference run for this student (cached on disk)."""
    from .execute import CellResult
    source = Path(root) / "source" / assignment / f"{notebook}.ipynb"
    key = hashlib.sha256(source.read_bytes()).hexdigest()[:16]
    cache = Path(root) / ".grading_cache" / assignment / f"{notebook}-{key}"
    for name in ("_shared", student):
        if (cache / f"{name}.json").exists():
            return {g: CellResult(**c) for g, c in json.loads((cache / f"{name}.json").read_text()).items()}
    plan = reference_plan(read_notebook(source))
    execution = _run(plan, student, "judge", options, slot)
    results = _by_grade_id(plan, execution)
    cache.mkdir(parents=True, exist_ok=True)
    partial = cache / f".{student}.{os.getpid()}.tmp"
    partial.write_text(json.dumps({g: asdict(r) for g, r in results.items() if r}))
    partial.replace(cache / f"{'_shared' if not execution.student_id_used else student}.json")
    return results


def _grade_notebook(root, assignment, notebook, student, options, slot, result, report):
    """Scores (grade_id -> points) of one notebook; appends flags and report lines."""
    from .oracle import judge_test
    source_cells = read_notebook(Path(root) / "source" / assignment / f"{notebook}.ipynb")
    release_cells = read_notebook(Path(root) / "release" / assignment / f"{notebook}.ipynb")
    tests = reference_plan(source_cells).tests
    submitted = Path(root) / "submitted" / student / assignment / f"{notebook}.ipynb"
    try:
        cells = read_notebook(submitted) if submitted.exists() else None
    except UnreadableNotebook as exc:
        cells, problem = None, f"{notebook}.ipynb unreadable: {exc}"
    else:
        problem = None if cells is not None else f"{notebook}.ipynb missing"
    if problem:
        result.flags.append(problem)
        report.append(f"{problem}: 0 points for its {len(tests)} tests")
        return {gid: 0.0 for gid in tests}, problem
    plan = student_plan(source_cells, release_cells, cells)
    result.flags += [f"{notebook}: {flag}" for flag in plan.flags]
    reference = reference_results(root, assignment, notebook, student, options, slot)
    execution = _run(plan, student, "probe", options, slot)
    result.flags += [f"{notebook}: {flag}" for flag in execution.flags]
    mine = _by_grade_id(plan, execution)
    for cell in plan.cells:
        findings = getattr(execution.cells.get(cell["index"]), "guard", [])
        name = cell["grade_id"] or f"#{cell['index']} (added by the student)"
        result.flags += [f"{notebook}: cell {name}: {finding}" for finding in findings]
    scores = {}
    for gid, points in tests.items():
        verdict = judge_test(gid, points, mine.get(gid), reference.get(gid))
        scores[gid] = verdict.score
        if verdict.flag:
            result.flags.append(f"{notebook}: {verdict.flag}")
        score = "?" if verdict.score is None else f"{verdict.score:g}"
        report.append(f"{notebook} {gid}: {score}/{points:g}  {verdict.message}")
    return scores, None


def grade_submission(root, assignment, student, options=Options()):
    """SubmissionResult of one student's assignment; never raises for a bad submission."""
    result = SubmissionResult(assignment, student, "graded",
                              submission_hash=submission_hash(root, assignment, student))
    if not STUDENT_ID.fullmatch(student):
        return _failed(result, f"invalid student id {student!r}")
    report, problems = [], []
    try:
        with _slot() as slot:
            for source in sorted((Path(root) / "source" / assignment).glob("*.ipynb")):
                scores, problem = _grade_notebook(root, assignment, source.stem, student, options,
                                                  slot, result, report)
                result.scores[source.stem] = scores
                problems += [problem] if problem else []
    except Exception as exc:  # the grader's own failure: recorded for this student, others go on
        return _failed(result, f"grader error: {type(exc).__name__}: {exc}",
                       traceback.format_exc(limit=3))
    unjudged = [gid for s in result.scores.values() for gid, v in s.items() if v is None]
    if problems or unjudged:
        result.status = "failed"
        result.reason = "; ".join(problems + ([f"could not judge {unjudged}"] if unjudged else []))
    write_feedback(root, result, report)
    return result


def _failed(result, reason, detail=""):
    result.status, result.reason = "failed", reason
    if detail:
        result.flags.append(detail.strip().splitlines()[-1])
    return result


def write_feedback(root, result, report):
    """feedback/<student>/<assignment>/grading_report.txt: every test's verdict and the flags."""
    folder = Path(root) / "feedback" / result.student / result.assignment
    folder.mkdir(parents=True, exist_ok=True)
    lines = [f"{result.assignment} for {result.student}: {result.status}"
             + (f" ({result.reason})" if result.reason else ""), "", *report]
    if result.flags:
        lines += ["", "Integrity findings (your instructor sees these too):", *[f"- {f}" for f in result.flags]]
    (folder / "grading_report.txt").write_text("\n".join(lines) + "\n")


def _grade_in_process(root, assignment, student, options):
    """Task body for a process pool or a Dask worker: the result as a plain dict."""
    return asdict(grade_submission(root, assignment, student, options))


def _prepare_in_process(root, assignment, student, options):
    """Task body of ``course prepare``: the reference runs of one student id, into the cache."""
    with _slot() as slot:
        for source in sorted((Path(root) / "source" / assignment).glob("*.ipynb")):
            reference_results(root, assignment, source.stem, student, options, slot)
    return student


def prepare_references(root, assignment, students, options=Options(), workers=2):
    """Run and cache the reference solution for each student id before the submissions come in.

    Grading then runs only the students' notebooks. Yields each student id when done.
    """
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        for future in as_completed([pool.submit(_prepare_in_process, str(root), assignment, s, options)
                                    for s in students]):
            yield future.result()


def grade_class(root, assignment, students, options=Options(), workers=2, scheduler=None):
    """Yield (student, SubmissionResult) as each finishes, ``workers`` at a time.

    scheduler: address of a Dask distributed scheduler (its workers must see the same course
    folder); otherwise a local process pool. A task that dies is a failed result for that
    student only.
    """
    tasks = [(str(root), assignment, s, options) for s in students]
    if scheduler:
        from dask.distributed import Client, as_completed
        client = Client(scheduler)
        try:
            futures = {client.submit(_grade_in_process, *t, pure=False, key=f"grade-{assignment}-{t[2]}"): t[2]
                       for t in tasks}
            for future in as_completed(futures):
                yield futures[future], _result_of(future, assignment, futures[future])
        finally:
            client.close()
        return
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        futures = {pool.submit(_grade_in_process, *t): t[2] for t in tasks}
        for future in as_completed(futures):
            yield futures[future], _result_of(future, assignment, futures[future])


def _result_of(future, assignment, student):
    try:
        return SubmissionResult(**future.result())
    except Exception as exc:  # the worker process died or the task failed outside grade_submission
        return SubmissionResult(assignment, student, "failed", reason=f"grading task failed: "
                                f"{type(exc).__name__}: {exc}")
