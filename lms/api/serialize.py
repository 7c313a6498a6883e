"""Domain objects → the JSON documents of the OpenAPI description (schemas of the same names)."""
from __future__ import annotations

from datetime import date, datetime

from flask import current_app, url_for


def when(value: datetime | date | None) -> str | None:
    return value.isoformat() if value is not None else None


def team_ref(team) -> dict:
    return {"id": team.id, "name": team.name}


def user(user, memberships: list) -> dict:
    return {
        "id": user.id, "email": user.email, "name": user.name, "role": user.role, "active": user.is_active_user,
        "locale": user.locale, "created_at": when(user.created_at), "last_login_at": when(user.last_login_at),
        "teams": [dict(team_ref(team), membership=kind) for kind, team in memberships],
    }


def team(team, roster: list | None = None) -> dict:
    out = {"id": team.id, "name": team.name, "created_at": when(team.created_at)}
    if roster is not None:
        out["members"] = [{"id": u.id, "name": u.name, "email": u.email, "role": u.role, "active": u.is_active_user,
                           "membership": kind} for kind, u in roster]
    return out


def membership(team, user, kind: str) -> dict:
    return {"team_id": team.id, "user_id": user.id, "membership": kind}


def track_ref(track) -> dict:
    return {"slug": track.slug, "title": track.title}


def track(track) -> dict:
    return dict(track_ref(track), duration_days=track.duration_days, modules=[
        {"slug": tm.module.slug, "title": tm.module.title, "start_day": tm.start_day, "due_day": tm.due_day}
        for tm in track.track_modules])


def enrollment(enrollment) -> dict:
    return {"id": enrollment.id, "user_id": enrollment.user_id, "track": track_ref(enrollment.track),
            "start_date": when(enrollment.start_date), "enrolled_by_id": enrollment.enrolled_by_id,
            "created_at": when(enrollment.created_at), "updated_at": when(enrollment.updated_at)}


def _counts(progress) -> dict:
    return {"percent": progress.percent, "done": progress.done, "total": progress.total,
            "overdue": len(progress.overdue) if isinstance(progress.overdue, list) else progress.overdue}


def track_progress(progress) -> dict:
    return {
        "enrollment_id": progress.enrollment.id, "track": track_ref(progress.track), "state": progress.state.value,
        "start_date": when(progress.enrollment.start_date), "end_date": when(progress.end_date),
        **_counts(progress), "last_activity_at": when(progress.last_activity_at),
        "modules": [{"slug": m.module.slug, "title": m.module.title, "start_date": when(m.start_date),
                     "due_date": when(m.due_date), **_counts(m)} for m in progress.modules],
    }


def agent_progress(agent, progress: list, state: str) -> dict:
    moments = [p.last_activity_at for p in progress if p.last_activity_at is not None]
    return {"user_id": agent.id, "name": agent.name, "email": agent.email, "state": state,
            "last_activity_at": when(max(moments, default=None)), "tracks": [track_progress(p) for p in progress]}


def quiz_attempt(attempt) -> dict:
    return {
        "id": attempt.id, "user_id": attempt.user_id, "quiz": {"slug": attempt.quiz.slug, "title": attempt.quiz.title},
        "number": attempt.number, "state": attempt.state, "started_at": when(attempt.started_at),
        "submitted_at": when(attempt.submitted_at), "graded_at": when(attempt.graded_at), "score": attempt.score,
        "max_score": attempt.max_score, "percent": attempt.percent, "passed": attempt.passed, "pass_mark": attempt.pass_mark,
    }


def roleplay_grade(grade, submission) -> dict:
    rubric = grade.rubric_version.data
    return {
        "id": grade.id, "submission_id": submission.id, "user_id": submission.user_id,
        "scenario": {"slug": submission.scenario.slug, "title": submission.scenario.title, "mode": submission.scenario.mode},
        "attempt_number": submission.number, "score": grade.score, "passed": grade.passed,
        "submitted_at": when(submission.submitted_at), "released_at": when(grade.released_at), "grader_id": grade.grader_id,
        "rubric_version": grade.rubric_version.version,
        "criteria": [{"id": c["id"], "title": c["title"], "level": (grade.levels or {}).get(c["id"]),
                      "comment": (grade.comments or {}).get(c["id"])} for c in rubric["criteria"]],
        "overall_comment": grade.overall_comment or None,
    }


def certification_record(record, status: str) -> dict:
    definition = record.definition
    return {
        "id": record.id, "user_id": record.user_id,
        "certification": {"slug": definition.slug, "title": definition.title, "area": definition.area},
        "definition_version": record.definition_version, "status": status, "code": record.code,
        "verification_url": current_app.config["PUBLIC_URL"].rstrip("/") + url_for("certification.verify", code=record.code),
        "issued_at": when(record.issued_at), "expires_at": when(record.expires_at), "issued_by_id": record.issued_by_id,
        "issue_reason": record.issue_reason or None, "revoked_reason": record.revoked_reason,
        "evidence": [{"kind": e["kind"], "ref": e["ref"], "label": e["label"], "score": e.get("score"), "at": e.get("at")}
                     for e in record.evidence or []],
    }
