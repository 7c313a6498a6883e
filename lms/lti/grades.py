"""Assignment and Grade Services: results go back to the platform's gradebook through the durable
outbox (kind ``lti-score``), so a platform that is down gets them later and nothing is sent twice.

- a quiz attempt graded → its percentage as a score (FullyGraded); handed in with questions a trainer
  grades → Submitted / PendingManual;
- a role-play handed in → activityProgress Submitted / gradingProgress PendingManual;
- a role-play grade released → its percentage (FullyGraded).

A score goes to the resource links (with the AGS claim) that open that activity and that the agent launched
from (never to another course's placement of the same activity). Line items come from the launch's claim or
are looked up with the AGS ``resource_link_id`` filter and created when missing.
"""
from __future__ import annotations

import hashlib
from datetime import datetime

from sqlalchemy import bindparam, desc, exists, select
from sqlalchemy.orm import Session

from lms.core import outbox
from lms.core.db import get_session
from lms.lti import SCORED_LINKS_KEY
from lms.lti.models import LtiLaunchedLink, LtiPlatform, LtiResourceLink, LtiToolKey

# Queuing a score (on every graded quiz) needs no pylti1p3; only delivery (the outbox worker) imports it.

KIND = "lti-score"
SCORE_SCOPE = "https://purl.imsglobal.org/spec/lti-ags/scope/score"


_LINKS, _LAUNCHED = LtiResourceLink.__table__.c, LtiLaunchedLink.__table__.c
#: the AGS resource links that open a target and that the user launched from, with their platform and the user's sub
#: (built once: it runs on every graded quiz, for most agents finding none): what a score needs of them, as plain
#: columns of the tables (no ORM entities to set up for the rows)
_SCORED_LINKS = (select(_LINKS.id, _LINKS.resource_link_id, _LINKS.ags, LtiPlatform.__table__.c.id.label("platform_id"), _LAUNCHED.sub)
                 .join_from(LtiResourceLink.__table__, LtiLaunchedLink.__table__,
                            (_LAUNCHED.resource_link_pk == _LINKS.id) & (_LAUNCHED.user_id == bindparam("b_user_id")))
                 .join(LtiPlatform.__table__, LtiPlatform.__table__.c.id == _LINKS.platform_id)
                 .where(_LINKS.target == bindparam("b_target"), _LINKS.ags.is_not(None))
                 .order_by(_LINKS.id))


#: whether the user launched from any such link (read with a quiz's submission: lms/lti/__init__.py): the
#: same conditions as :data:`_SCORED_LINKS`, so that it is false exactly when that finds no row (its joins as nested
#: IN subqueries: a RETURNING clause names columns without their tables, and each subquery has one)
ANY_SCORED_LINK = exists().where(
    _LAUNCHED.user_id == bindparam("b_user_id"),
    _LAUNCHED.resource_link_pk.in_(select(_LINKS.id).where(
        _LINKS.target == bindparam("b_target"), _LINKS.ags.is_not(None),
        _LINKS.platform_id.in_(select(LtiPlatform.__table__.c.id)))))


def _no_scored_link(read_with_submission: dict | None) -> bool:
    """The submission read that the agent launched from no scored link of its quiz (None: not read with it)."""
    return read_with_submission is not None and not read_with_submission.get(SCORED_LINKS_KEY, True)


def queue_score(session: Session, *, user_id: int, target: str, event: str, now: datetime, label: str,
                score: float | None, activity: str, grading: str) -> int:
    """Queue the score for every AGS resource link that opens ``target`` and that the user launched from.
    ``event`` makes the dedupe key (one message per event and link). Returns how many were queued."""
    rows = session.execute(_SCORED_LINKS, {"b_user_id": user_id, "b_target": target}).all()
    queued = 0
    for link in rows:
        ags, sub = link.ags or {}, link.sub
        if SCORE_SCOPE not in (ags.get("scope") or []):
            continue
        payload = {"platform_id": link.platform_id, "resource_link_pk": link.id, "resource_link_id": link.resource_link_id,
                   "lineitems": ags.get("lineitems"), "lineitem": ags.get("lineitem"), "scope": ags.get("scope"),
                   "user_sub": sub, "user_id": user_id, "target": target, "label": label, "score_given": score,
                   "score_maximum": 100, "activity_progress": activity, "grading_progress": grading,
                   "timestamp": now.isoformat()}
        key = f"{KIND}:{link.id}:{sub}:{event}"
        if len(key) > 200:
            key = f"{KIND}:{hashlib.sha256(key.encode()).hexdigest()}"
        queued += outbox.enqueue(session, kind=KIND, dedupe_key=key, payload=payload, now=now)
    return queued


def on_attempt_graded(session: Session, attempt, now: datetime, read_with_submission: dict | None = None) -> None:
    if attempt.percent is None or attempt.quiz is None or _no_scored_link(read_with_submission):
        return
    queue_score(session, user_id=attempt.user_id, target=f"quiz:{attempt.quiz.slug}", now=now, label=attempt.quiz.title,
                event=f"attempt-{attempt.id}-r{attempt.revision}", score=round(float(attempt.percent), 2),
                activity="Completed", grading="FullyGraded")


def on_attempt_submitted(session: Session, attempt, now: datetime, read_with_submission: dict | None = None) -> None:
    """Handed in with questions a trainer grades: the gradebook shows it submitted, waiting for the trainer."""
    if attempt.quiz is None or _no_scored_link(read_with_submission):
        return
    queue_score(session, user_id=attempt.user_id, target=f"quiz:{attempt.quiz.slug}", now=now, label=attempt.quiz.title,
                event=f"attempt-{attempt.id}-submitted", score=None, activity="Submitted", grading="PendingManual")


def on_roleplay_submitted(session: Session, submission, now: datetime) -> None:
    if submission.user_id is None:
        return
    queue_score(session, user_id=submission.user_id, target=f"roleplay:{submission.scenario.slug}", now=now,
                label=submission.scenario.title, event=f"submission-{submission.id}-submitted", score=None,
                activity="Submitted", grading="PendingManual")


def on_grade_released(session: Session, submission, now: datetime) -> None:
    if submission.user_id is None or submission.score is None:
        return
    queue_score(session, user_id=submission.user_id, target=f"roleplay:{submission.scenario.slug}", now=now,
                label=submission.scenario.title, event=f"submission-{submission.id}-r{submission.revision}",
                score=round(float(submission.score), 2), activity="Completed", grading="FullyGraded")


# -- delivery (the worker) -----------------------------------------------------------------------
def send_score(payload: dict) -> None:
    """Deliver one queued score. Reads the platform and the signing key with the worker's own session
    (a second connection would wait on the worker's write lock on SQLite); writes nothing."""
    from pylti1p3.assignments_grades import AssignmentsGradesService
    from pylti1p3.exception import LtiException
    from pylti1p3.grade import Grade
    from pylti1p3.lineitem import LineItem

    from lms.lti.tool import CachingServiceConnector, DatabaseToolConf, http_session

    session = get_session()
    platform = session.get(LtiPlatform, payload["platform_id"])
    if platform is None:
        raise outbox.Undeliverable("the LTI platform of this score is no longer registered")
    key = session.scalar(select(LtiToolKey).where(LtiToolKey.retired_at.is_(None)).order_by(desc(LtiToolKey.id)).limit(1))
    if key is None:
        raise RuntimeError("the tool has no signing key yet (flask --app lms lti show-config creates it)")
    registration = DatabaseToolConf(session, key.private_pem, key.public_pem).find_registration_by_params(
        platform.issuer, platform.client_id)
    ags = AssignmentsGradesService(CachingServiceConnector(registration, http_session()),
                                   {"scope": payload["scope"], "lineitems": payload["lineitems"],
                                    **({"lineitem": payload["lineitem"]} if payload.get("lineitem") else {})})
    grade = (Grade().set_user_id(payload["user_sub"]).set_timestamp(payload["timestamp"])
             .set_activity_progress(payload["activity_progress"]).set_grading_progress(payload["grading_progress"]))
    if payload.get("score_given") is not None:
        grade.set_score_given(payload["score_given"]).set_score_maximum(payload["score_maximum"])
    lineitem = None
    if not payload.get("lineitem"):
        lineitem = (LineItem().set_tag(payload["target"]).set_score_maximum(payload["score_maximum"])
                    .set_label(payload["label"]).set_resource_link_id(payload["resource_link_id"])
                    .set_resource_id(payload["target"]))
    try:
        if lineitem is not None:  # one line item per resource link (two links to one quiz are two columns)
            # looked up with the AGS filter (the platform answers with this link's items only), created when missing
            finder = AssignmentsGradesService(ags._service_connector, {
                "scope": payload["scope"], "lineitems": _with_query(payload["lineitems"], resource_link_id=payload["resource_link_id"])})
            found = finder.find_lineitem_satisfying(lambda item: (
                item.get("resourceLinkId") == payload["resource_link_id"] and item.get("tag") == payload["target"]))
            lineitem = found or ags.create_lineitem(lineitem)
        ags.put_grade(grade, lineitem)
    except LtiException as exc:
        response = getattr(exc, "response", None)
        detail = f" {response.text[:300]}" if response is not None else ""
        raise RuntimeError(f"the platform refused the score: {exc}{detail}") from exc


def _with_query(url: str, **params: str) -> str:
    from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query) if k not in params] + list(params.items())
    return urlunsplit(parts._replace(query=urlencode(query)))


def sender_factory(config) -> object:
    return send_score


def sync_status(session: Session, limit: int = 50) -> list[outbox.OutboxMessage]:
    """The latest score messages, for the admins' page."""
    return list(session.scalars(select(outbox.OutboxMessage).where(outbox.OutboxMessage.kind == KIND)
                                .order_by(desc(outbox.OutboxMessage.id)).limit(limit)))
