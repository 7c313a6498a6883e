"""The attempt lifecycle: in_progress → submitted → graded, or in_progress → abandoned.

``submitted`` is a resting state only while a trainer still has to grade an essay;
an automatically graded attempt goes straight on to ``graded``.
"""
from __future__ import annotations

import enum


class AttemptState(str, enum.Enum):
    in_progress = "in_progress"
    submitted = "submitted"
    graded = "graded"
    abandoned = "abandoned"


TRANSITIONS = {
    AttemptState.in_progress: {AttemptState.submitted, AttemptState.abandoned},
    AttemptState.submitted: {AttemptState.graded},
    AttemptState.graded: {AttemptState.graded},  # overrides re-grade
    AttemptState.abandoned: set(),
}


def can_move(current: str, target: AttemptState) -> bool:
    return target in TRANSITIONS[AttemptState(current)]


#: seconds after the deadline during which a submission still counts (network latency)
GRACE_SECONDS = 30
