"""News from the quizzes domain for the domains above it."""
from datetime import datetime
from typing import NamedTuple

from blinker import Namespace

_signals = Namespace()

#: sent with (session, attempt=…, now=…) whenever an attempt's grade is set or changes; by a submission also with
#: ``read_with_submission={name: value}`` (what :func:`lms.quizzes.services.read_with_submission` asked for)
attempt_graded = _signals.signal("attempt-graded")

#: sent with (session, attempt=…, now=…, read_with_submission=…) when an attempt is handed in with questions a trainer
#: must still grade
attempt_awaiting_grading = _signals.signal("attempt-awaiting-grading")



class Figures(NamedTuple):
    """What an agent's summary row for a quiz says, before or after a change (see ``standing_changed``). A ``before``
    may leave the grade and the activity unread (None) where the change cannot have moved anything else."""

    grade: float | None
    passed: bool
    first_passed_at: datetime | None
    last_activity_at: datetime | None


#: no summary row yet
NO_FIGURES = Figures(None, False, None, None)

#: sent with (session, user_id=…, quiz=…, last_activity_at=…, grade_changed=…) whenever an agent's summary row for a quiz is
#: written (started, submitted, graded, overridden, abandoned); ``grade_changed``: its grade, pass or first pass moved.
#: When the grade moved it also carries ``before=`` and ``after=`` (:class:`Figures`: the row before and after the change,
#: read under the row's lock), so that listeners can move their own summaries by the difference.
#: The domains above keep their own summaries from it in the same transaction.
standing_changed = _signals.signal("standing-changed")
