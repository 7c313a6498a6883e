"""News from the quizzes domain for the domains above it."""
from blinker import Namespace

_signals = Namespace()

#: sent with (session, attempt=…, now=…) whenever an attempt's grade is set or changes
attempt_graded = _signals.signal("attempt-graded")

#: sent with (session, attempt=…, now=…) when an attempt is handed in with questions a trainer must still grade
attempt_awaiting_grading = _signals.signal("attempt-awaiting-grading")

#: sent with (session, user_id=…, quiz=…, last_activity_at=…, grade_changed=…) whenever an agent's summary row for a quiz is
#: written (started, submitted, graded, overridden, abandoned); ``grade_changed``: its grade, pass or first pass moved.
#: The domains above keep their own summaries from it in the same transaction.
standing_changed = _signals.signal("standing-changed")
