"""News from the quizzes domain for the domains above it."""
from blinker import Namespace

_signals = Namespace()

#: sent with (session, attempt=…, now=…) whenever an attempt's grade is set or changes
attempt_graded = _signals.signal("attempt-graded")
