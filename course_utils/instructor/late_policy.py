"""The course's late policy, applied alike by stock nbgrader and by ``course grade``.

Policy (numbers are settings in ``grading/settings.py``, set in ``nbgrader_config.py`` as
``c.CourseGrader.late_grace_minutes``, ``late_penalty_per_day`` and ``late_penalty_max``):
a submission collected within the grace period after the due date is on time; after that,
each started day (24 h) late costs ``late_penalty_per_day`` of the points the notebook
scored, at most ``late_penalty_max`` of them. Extensions given in the gradebook move the
due date (nbgrader's ``total_seconds_late`` accounts for them).

- stock ``nbgrader autograde``: ``c.AssignLatePenalties.plugin_class`` names ``CourseLatePolicy``;
- ``course grade``: ``Store`` calls ``LatePolicy.penalty`` with the same arguments and clamps
  the result to [0, score] as nbgrader's ``AssignLatePenalties`` does.

Due dates are ``c.CourseGrader.due_dates = {assignment: "YYYY-MM-DD HH:MM <zone>"}``;
``parse_due_date`` turns one into the naive UTC datetime the gradebook stores.
"""

import math
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from nbgrader.plugins import LateSubmissionPlugin

from ..grading.settings import SECTION, Settings

DAY = 86400.0
POLICY_SETTINGS = ("late_grace_minutes", "late_penalty_per_day", "late_penalty_max")


@dataclass(frozen=True)
class LatePolicy:
    grace_minutes: float = Settings.late_grace_minutes
    per_day: float = Settings.late_penalty_per_day
    max_share: float = Settings.late_penalty_max

    @classmethod
    def from_settings(cls, settings):
        """The policy of a ``grading.settings.Settings``."""
        return cls(settings.late_grace_minutes, settings.late_penalty_per_day, settings.late_penalty_max)

    @classmethod
    def from_config(cls, config):
        """The policy of a traitlets config (the ``CourseGrader`` section of nbgrader_config.py)."""
        section = config[SECTION] if SECTION in config else {}
        given = {name: section[name] for name in POLICY_SETTINGS if name in section}
        return cls.from_settings(Settings().with_values(**given))

    def days_late(self, seconds_late):
        """Started days late counted from the due date; 0 within the grace period."""
        if seconds_late is None or seconds_late <= self.grace_minutes * 60:
            return 0
        return math.ceil(seconds_late / DAY)

    def share(self, seconds_late):
        """The share of the points scored that is lost."""
        return min(self.max_share, self.per_day * self.days_late(seconds_late))

    def penalty(self, score, seconds_late):
        """Points lost by a notebook that scored ``score`` and was ``seconds_late`` late."""
        return (score or 0.0) * self.share(seconds_late)

    def describe(self):
        """The policy in one sentence (README, feedback, report)."""
        days = math.ceil(self.max_share / self.per_day) if self.per_day > 0 else 0
        return (
            f"Submissions up to {self.grace_minutes:g} minutes after the due date are on time; after that, "
            f"each started day late costs {self.per_day:.0%} of the points scored, "
            f"at most {self.max_share:.0%} (reached after {days} days)."
        )


_ZONE = re.compile(r"^(?P<when>\d{4}-\d\d-\d\d[ T]\d\d:\d\d(?::\d\d)?)\s+(?P<zone>[A-Za-z_]+(?:/[A-Za-z_+-]+)*)$")


def parse_due_date(text):
    """Naive UTC datetime of ``'2026-10-16 23:59 Europe/Berlin'`` or ``'2026-10-16T23:59:00+02:00'``.

    A due date without a time zone is refused: it would mean different instants on the
    grader's machine and in the students' time zone.
    """
    text = str(text).strip()
    match = _ZONE.match(text)
    try:
        if match:
            when = datetime.fromisoformat(match["when"]).replace(tzinfo=ZoneInfo(match["zone"]))
        else:
            when = datetime.fromisoformat(text)
    except (ValueError, ZoneInfoNotFoundError) as exc:
        raise ValueError(
            f"due date {text!r} is not 'YYYY-MM-DD HH:MM <time zone>' "
            f"(e.g. '2026-10-16 23:59 Europe/Berlin') nor ISO 8601 with an offset: {exc}"
        ) from None
    if when.tzinfo is None:
        raise ValueError(f"due date {text!r} has no time zone: write e.g. '{text} Europe/Berlin' or '{text} UTC'")
    return when.astimezone(timezone.utc).replace(tzinfo=None)


class CourseLatePolicy(LateSubmissionPlugin):
    """nbgrader's LateSubmissionPlugin applying the course's ``LatePolicy`` (see the module doc).

    nbgrader_config.py: ``c.AssignLatePenalties.plugin_class = "course_utils.instructor.late_policy.CourseLatePolicy"``.
    """

    def late_submission_penalty(self, student_id, score, total_seconds_late):
        policy = LatePolicy.from_config(self.config)
        penalty = policy.penalty(score, total_seconds_late)
        self.log.info(
            "%s: %.0f s late, %d started day(s) after the grace period: penalty %g of %g points",
            student_id,
            total_seconds_late,
            policy.days_late(total_seconds_late),
            penalty,
            score or 0.0,
        )
        return penalty
