"""News from the tracks domain for the domains above it."""
from blinker import Namespace

_signals = Namespace()

#: sent with (session, user_id=…, lesson_id=…, now=…) when an agent completes a lesson
lesson_completed = _signals.signal("lesson-completed")
