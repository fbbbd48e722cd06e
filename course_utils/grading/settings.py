"""Every setting of the course's instructor tools and grader, each declared once with its help.

Values come, last one winning, from: the defaults below; the course's ``nbgrader_config.py``
(nbgrader's own ``CourseDirectory.course_id``, ``CourseDirectory.db_url`` and
``Execute.timeout``, so stock nbgrader and ``course grade`` agree; anything else as
``c.CourseGrader.<name> = ...``); the command line (``course grade --help`` lists them all).

    settings = load_settings(root, workers=4)   # -> Settings
    settings.limits                              # -> sandbox.Limits for each sandboxed process
"""

from dataclasses import MISSING, dataclass, field, fields, replace
from pathlib import Path

from .sandbox import Limits

CONFIG_FILE = "nbgrader_config.py"
SECTION = "CourseGrader"  # c.CourseGrader.<setting> in nbgrader_config.py


def setting(default, help, term=False):
    """A setting with its help text; ``term``: a course policy set in nbgrader_config.py only (no option),
    so that stock nbgrader and ``course grade`` always apply the same values."""
    return field(default=default, metadata={"help": help, "term": term})


@dataclass(frozen=True)
class Settings:
    course_id: str = setting("course", "the nbgrader course id (nbgrader: CourseDirectory.course_id)")
    db_url: str = setting(
        "",
        "gradebook URL, e.g. postgresql://user@host/db "
        "(nbgrader: CourseDirectory.db_url; default sqlite:///<course>/gradebook.db)",
    )
    cell_timeout: float = setting(120.0, "seconds one cell may run (nbgrader: Execute.timeout)")
    judge_timeout: float = setting(
        30.0,
        "seconds the grader's judge may spend comparing one test's answers (a costlier answer scores 0 with a finding)",
    )
    run_seconds: float = setting(1800.0, "wall time of one notebook run, all its cells and crash re-runs included")
    max_crashes: int = setting(3, "times a notebook's process may die (each costs a re-run of the earlier cells)")
    max_cells: int = setting(2000, "cells of a submitted notebook that are run (the rest are dropped, reported)")
    workers: int = setting(2, "submissions graded at once on this machine")
    scheduler: str = setting(
        "", "address of a Dask scheduler whose workers see the course folder (default: local processes)"
    )
    unsandboxed: bool = setting(False, "run student code WITHOUT the sandbox (only where none can be set up)")
    zygote: bool = setting(
        True,
        "fork each notebook run into its new sandbox from one warm interpreter per worker "
        "(instead of starting an interpreter and its imports each time)",
    )
    # -- the term: due dates and the late policy, read by `course grade` and by stock nbgrader's
    #    AssignLatePenalties (course_utils.instructor.late_policy); set in nbgrader_config.py only
    due_dates: dict = field(
        default_factory=dict,
        metadata={
            "help": "assignment -> due date with its time zone, e.g. {'ps1': '2026-10-16 23:59 Europe/Berlin'} "
            "(written into the gradebook by `course due-dates` and by every `course grade`)",
            "term": True,
        },
    )
    late_grace_minutes: float = setting(
        15.0, "minutes after the due date during which a submission is not penalised (clock skew, slow uploads)", True
    )
    late_penalty_per_day: float = setting(
        0.1, "share of the points scored lost per started day (24 h) after the due date, beyond the grace", True
    )
    late_penalty_max: float = setting(0.5, "largest share of the points scored a late submission can lose", True)
    limits: Limits = field(default_factory=Limits, metadata={"help": "per-process limits (sandbox.Limits)"})

    def with_values(self, **values):
        """A copy with ``values`` set; names of ``Limits`` fields set the limits."""
        limit_names = {f.name for f in fields(Limits)}
        limits = {k: v for k, v in values.items() if k in limit_names}
        own = {k: v for k, v in values.items() if k not in limit_names}
        unknown = set(own) - {f.name for f in fields(self)}
        if unknown:
            raise ValueError(f"unknown settings {sorted(unknown)}")
        return replace(self, limits=replace(self.limits, **limits), **own)


def documented(term=False):
    """(name, default, help) of every setting, limits included, in declaration order.

    ``term=False``: the settings an option may override; ``term=True``: the term's policy
    (due dates, late policy), set in nbgrader_config.py only.
    """
    rows = [
        (f.name, f.default_factory() if f.default is MISSING else f.default, f.metadata["help"])
        for f in fields(Settings)
        if f.name != "limits" and f.metadata.get("term", False) == term
    ]
    return rows if term else rows + [(f.name, f.default, f.metadata["help"]) for f in fields(Limits)]


def _from_config_file(root):
    """Settings found in ``root``'s nbgrader_config.py, as a dict (empty without the file)."""
    path = Path(root) / CONFIG_FILE
    if not path.exists():
        return {}
    from traitlets.config.loader import PyFileConfigLoader

    config = PyFileConfigLoader(CONFIG_FILE, path=str(path.parent)).load_config()
    found = dict(config[SECTION]) if SECTION in config else {}
    nbgrader_names = {
        ("CourseDirectory", "course_id"): "course_id",
        ("CourseDirectory", "db_url"): "db_url",
        ("Execute", "timeout"): "cell_timeout",
    }
    for (section, name), ours in nbgrader_names.items():
        if section in config and name in config[section]:
            found[ours] = config[section][name]
    return found


def load_settings(root, **overrides):
    """Settings of the course in ``root``: defaults, then nbgrader_config.py, then ``overrides``.

    Overrides whose value is None are ignored (an option not given on the command line).
    """
    values = _from_config_file(root) | {k: v for k, v in overrides.items() if v is not None}
    settings = Settings().with_values(**values)
    if not settings.db_url:
        settings = replace(settings, db_url=f"sqlite:///{(Path(root) / 'gradebook.db').resolve()}")
    return settings
