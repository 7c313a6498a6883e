"""Learning events → xAPI statements queued in the durable outbox (kind ``xapi``).

Each ``record_*`` function builds the statement of one event and queues it in the caller's transaction;
the worker delivers it to the LRS (:mod:`lms.xapi.sender`).  The event's key names it (``lesson-completed:<user>:<lesson>``,
``quiz-graded:<attempt>:<n>``, ``roleplay-submitted:<submission>``, ``roleplay-graded:<submission>:<n>``,
``certification-issued:<record>``) and gives the statement its id, so recording an event twice queues it once.

A grade that changes (a trainer's override, a role-play grade edited after release) is a new event: its
statement (``…:<n+1>``) is queued together with one that voids the previous statement, as xAPI asks;
the same grade recorded again changes nothing.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from lms.accounts import services as accounts
from lms.certification import services as certification
from lms.core import outbox
from lms.core.outbox import OutboxMessage
from lms.quizzes import staff as quiz_staff
from lms.roleplays import services as roleplays
from lms.tracks import services as tracks
from lms.tracks.models import Lesson
from lms.xapi.statements import ATTEMPT_EXTENSION, Activity, Site, agent, duration, score, statement, statement_id, timestamp, voiding

KIND = "xapi"


def _key(event_key: str) -> str:
    return f"{KIND}:{event_key}"


def _queue(session: Session, event_key: str, payload: dict, at: datetime) -> bool:
    return outbox.enqueue(session, kind=KIND, dedupe_key=_key(event_key), payload={"statement": payload}, now=at)


def _actor(session: Session, site: Site, user_id: int) -> dict:
    user = accounts.get_user(session, user_id)
    return agent(site, user_id=user.id, name=user.name, email=user.email)


def _tracks_with_module(session: Session, user_id: int, module_slug: str | None) -> list[Activity]:
    """The agent's tracks that contain the module (the statement's grouping)."""
    if not module_slug:
        return []
    user = accounts.get_user(session, user_id)
    return [Activity("track", e.track.slug, e.track.title) for e in tracks.enrollments_of(session, user)
            if any(tm.module.slug == module_slug for tm in e.track.track_modules)]


def _versioned(session: Session, site: Site, prefix: str, build, at: datetime, queued_at: datetime) -> int:
    """Queue the statement of a grade that may change: nothing when the latest recorded one says the same
    (verb and result), else the next version plus a statement voiding the previous one. Returns how many were queued."""
    latest = session.scalar(select(OutboxMessage).where(OutboxMessage.kind == KIND, OutboxMessage.dedupe_key.like(_key(prefix) + ":%"))
                            .order_by(OutboxMessage.id.desc()).limit(1))
    old = latest.payload["statement"] if latest is not None else None
    number = int(latest.dedupe_key.rsplit(":", 1)[1]) + 1 if latest is not None else 1
    new = build(f"{prefix}:{number}")
    if old is not None and (old["verb"]["id"], old.get("result")) == (new["verb"]["id"], new.get("result")):
        return 0
    queued = int(_queue(session, f"{prefix}:{number}", new, queued_at))
    if queued and old is not None:
        queued += _queue(session, f"void:{old['id']}", voiding(site, voided=old, at=at), queued_at)
    return queued


# Events ------------------------------------------------------------------------------------

def record_lesson_completed(session: Session, site: Site, *, user_id: int, lesson_id: int, now: datetime,
                            queued_at: datetime | None = None) -> int:
    """An agent completed a lesson: ``completed`` the lesson, in its module, grouped by the agent's tracks."""
    lesson = session.get(Lesson, lesson_id)  # read-only: the signal carries the id, tracks has no lookup by id
    if lesson is None:
        return 0
    module = lesson.module
    st = statement(site, event_key=f"lesson-completed:{user_id}:{lesson_id}", actor=_actor(session, site, user_id),
                   verb="completed", activity=Activity("lesson", lesson.slug, lesson.title), at=now,
                   result={"completion": True}, parents=[Activity("module", module.slug, module.title)],
                   grouping=_tracks_with_module(session, user_id, module.slug))
    return int(_queue(session, f"lesson-completed:{user_id}:{lesson_id}", st, queued_at or now))


def record_attempt_graded(session: Session, site: Site, *, attempt, now: datetime, queued_at: datetime | None = None,
                          read_with_submission: dict | None = None) -> int:
    """A quiz attempt was graded (or its grade changed): ``passed``/``failed`` the quiz with the score.
    (``read_with_submission``: sent with a submission for other listeners; not used here.)"""
    if attempt.score is None or attempt.passed is None:
        return 0
    quiz = attempt.quiz
    parents = []
    if quiz.module_slug:
        parents = [Activity("module", quiz.module_slug, tracks.module_titles(session).get(quiz.module_slug, quiz.module_slug))]
    result = {"score": score(attempt.score, attempt.max_score), "success": bool(attempt.passed), "completion": True,
              "duration": duration(attempt.submitted_at - attempt.started_at) if attempt.submitted_at else None}

    def build(event_key: str) -> dict:
        return statement(site, event_key=event_key, actor=_actor(session, site, attempt.user_id),
                         verb="passed" if attempt.passed else "failed", activity=Activity("quiz", quiz.slug, quiz.title),
                         at=now, result=result, parents=parents, grouping=_tracks_with_module(session, attempt.user_id, quiz.module_slug),
                         extensions={ATTEMPT_EXTENSION: attempt.number})

    return _versioned(session, site, f"quiz-graded:{attempt.id}", build, now, queued_at or now)


def record_submitted(session: Session, site: Site, *, submission, now: datetime, queued_at: datetime | None = None) -> int:
    """An agent handed a role-play in: ``submitted`` the scenario, with the time it took."""
    if submission.user_id is None:
        return 0  # an anchor transcript for calibration, nobody's practice
    scenario = submission.scenario
    st = statement(site, event_key=f"roleplay-submitted:{submission.id}", actor=_actor(session, site, submission.user_id),
                   verb="submitted", activity=Activity("roleplay", scenario.slug, scenario.title), at=now,
                   result={"completion": True, "duration": duration(submission.submitted_at - submission.started_at)
                           if submission.submitted_at else None},
                   extensions={ATTEMPT_EXTENSION: submission.number})
    return int(_queue(session, f"roleplay-submitted:{submission.id}", st, queued_at or now))


def record_grade_released(session: Session, site: Site, *, submission, now: datetime, queued_at: datetime | None = None) -> int:
    """A trainer released a role-play grade (or changed a released one): ``passed``/``failed`` with the rubric
    score (0-100), the grader as instructor and a reference to the submission's statement."""
    if submission.user_id is None or submission.score is None:
        return 0
    scenario = submission.scenario
    grade = roleplays.grade_for(session, submission)
    instructor = _actor(session, site, grade.grader_id) if grade is not None and grade.grader_id else None
    verb = "scored" if submission.passed is None else ("passed" if submission.passed else "failed")
    result = {"score": score(submission.score, 100.0), "success": submission.passed, "completion": True}

    def build(event_key: str) -> dict:
        return statement(site, event_key=event_key, actor=_actor(session, site, submission.user_id), verb=verb,
                         activity=Activity("roleplay", scenario.slug, scenario.title), at=now, result=result,
                         instructor=instructor, extensions={ATTEMPT_EXTENSION: submission.number},
                         statement_ref=statement_id(site, f"roleplay-submitted:{submission.id}"))

    return _versioned(session, site, f"roleplay-graded:{submission.id}", build, now, queued_at or now)


def record_issued(session: Session, site: Site, *, record, now: datetime, queued_at: datetime | None = None) -> int:
    """A certification record was issued (or renewed): ``earned`` the certification, with its expiry and
    public verification page; parent = the track it certifies, when it names one."""
    definition = record.definition
    parents = []
    track = tracks.find_track(session, definition.track_slug) if definition.track_slug else None
    if track is not None:
        parents = [Activity("track", track.slug, track.title)]
    extensions = {site.extension("expires-at"): timestamp(record.expires_at), site.extension("verification-url"): site.iri("verify", record.code)}
    st = statement(site, event_key=f"certification-issued:{record.id}", actor=_actor(session, site, record.user_id), verb="earned",
                   activity=Activity("certification", definition.slug, definition.title), at=now,
                   result={"completion": True, "success": True, "extensions": extensions}, parents=parents,
                   extensions={site.extension("renewal"): record.issue_reason == certification.RENEWAL_REASON})
    return int(_queue(session, f"certification-issued:{record.id}", st, queued_at or now))


# Backfill ----------------------------------------------------------------------------------

def backfill(session: Session, site: Site, *, now: datetime, since: datetime | None = None, batch: int = 200) -> Counter:
    """Queue the statements of past events (every agent's completions, graded attempts, submitted and graded
    role-plays, certificates), each at its own time; events already recorded are skipped (same ids).
    Returns how many statements were queued per event kind."""
    counts: Counter = Counter()
    agent_ids = [u.id for u in accounts.list_users(session, role="agent")]

    def fresh(at: datetime | None) -> bool:
        return at is not None and (since is None or at >= since)

    for start in range(0, len(agent_ids), batch):
        ids = agent_ids[start:start + batch]
        for user_id, done in tracks.completions_by_user(session, ids).items():
            for lesson_id, at in done.items():
                if fresh(at):
                    counts["lesson"] += record_lesson_completed(session, site, user_id=user_id, lesson_id=lesson_id, now=at, queued_at=now)
        for attempt in quiz_staff.attempts_for(session, None, ids, states=("graded",)):
            if fresh(attempt.graded_at):
                counts["quiz"] += record_attempt_graded(session, site, attempt=attempt, now=attempt.graded_at, queued_at=now)
        for user_id in ids:
            for submission in roleplays.submissions_of(session, user_id):
                if fresh(submission.submitted_at):
                    counts["roleplay-submitted"] += record_submitted(session, site, submission=submission, now=submission.submitted_at,
                                                                     queued_at=now)
                grade = roleplays.grade_for(session, submission) if submission.grade_state == "released" else None
                if grade is not None and fresh(grade.updated_at):
                    counts["roleplay-graded"] += record_grade_released(session, site, submission=submission, now=grade.updated_at,
                                                                       queued_at=now)
        for record in certification.records_for(session, ids):
            if fresh(record.issued_at):
                counts["certification"] += record_issued(session, site, record=record, now=record.issued_at, queued_at=now)
        session.flush()
    return counts


# The queue ---------------------------------------------------------------------------------

@dataclass
class QueueStatus:
    counts: dict[str, int]
    #: pending and due: the worker's next pass sends them
    due: int
    oldest_pending: datetime | None
    #: when the first pending statement that is not due yet is retried
    next_attempt: datetime | None
    last_sent: datetime | None
    errors: list[OutboxMessage] = field(default_factory=list)


def queue_status(session: Session, *, now: datetime, errors: int = 10) -> QueueStatus:
    """How many statements are pending (and due), sent and failed; the latest delivery errors."""
    counts = {"pending": 0, "sent": 0, "failed": 0}
    counts.update(dict(session.execute(select(OutboxMessage.status, func.count()).where(OutboxMessage.kind == KIND)
                                       .group_by(OutboxMessage.status)).all()))
    pending = (OutboxMessage.kind == KIND) & (OutboxMessage.status == "pending")
    oldest = session.scalar(select(func.min(OutboxMessage.created_at)).where(pending))
    due = session.scalar(select(func.count()).where(pending, OutboxMessage.next_attempt_at <= now))
    next_attempt = session.scalar(select(func.min(OutboxMessage.next_attempt_at)).where(pending, OutboxMessage.next_attempt_at > now))
    last_sent = session.scalar(select(func.max(OutboxMessage.sent_at)).where(OutboxMessage.kind == KIND))
    failing = list(session.scalars(select(OutboxMessage).where(OutboxMessage.kind == KIND, OutboxMessage.status != "sent",
                                                               OutboxMessage.last_error.is_not(None))
                                   .order_by(OutboxMessage.id.desc()).limit(errors)))
    return QueueStatus(counts=counts, due=due, oldest_pending=oldest, next_attempt=next_attempt, last_sent=last_sent, errors=failing)


def retry(session: Session, *, now: datetime) -> int:
    """Queue the failed statements again (attempts start over) and make the waiting ones due now, e.g. after
    the LRS or its credentials were fixed. Returns how many statements were touched."""
    failed = session.execute(update(OutboxMessage).where(OutboxMessage.kind == KIND, OutboxMessage.status == "failed")
                             .values(status="pending", attempts=0, next_attempt_at=now).execution_options(synchronize_session=False)).rowcount
    waiting = session.execute(update(OutboxMessage).where(OutboxMessage.kind == KIND, OutboxMessage.status == "pending",
                                                          OutboxMessage.next_attempt_at > now)
                              .values(next_attempt_at=now).execution_options(synchronize_session=False)).rowcount
    session.flush()
    return failed + waiting
