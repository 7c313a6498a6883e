"""News from the role-plays domain for the domains above it."""
from blinker import Namespace

_signals = Namespace()

#: sent with (session, submission=…, now=…) when a grade is released (or a released grade changes)
grade_released = _signals.signal("grade-released")

#: sent with (session, submission=…, now=…) when an agent hands a practice in (once per submission)
submitted = _signals.signal("submitted")

#: sent with (session, submission=…, now=…) when a trainer returns a practice for another try (once per return)
grade_returned = _signals.signal("grade-returned")
