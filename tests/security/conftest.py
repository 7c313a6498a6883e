"""A world where every free-text field holds hostile input (see xss_corpus.py)."""
from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import os

import pytest
import yaml
from hypothesis import settings

from lms.api import services as api_tokens
from lms.certification import services as certs
from lms.content import sync as content_sync
from lms.core.clock import now_utc
from lms.quizzes import services as quizzes, staff as quiz_staff
from lms.roleplays import calibration as cal
from lms.roleplays import services as roleplays
from lms.tracks import services as tracks
from tests.conftest import TEST_CONTENT
from tests.security.xss_corpus import ALL, CORPUS, PAYLOADS

#: the suite explores the same examples on every run (CI never fails on a lucky draw); set
#: HYPOTHESIS_PROFILE=explore to search new ones, e.g. ``HYPOTHESIS_PROFILE=explore make test PYTEST_ARGS=tests/security``
settings.register_profile("suite", derandomize=True)
settings.register_profile("explore", derandomize=False)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "suite"))

T0 = datetime(2026, 1, 9, 9, 0, tzinfo=timezone.utc)
SHORT = [p for p in PAYLOADS if len(p) <= 200]


def _payload(name: str) -> str:
    return dict(CORPUS)[name]


def hostile_content_tree(root: Path) -> Path:
    """tests/content, with payloads in the lesson Markdown, the track/module/quiz texts and the questions."""
    shutil.copytree(TEST_CONTENT, root, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    lesson = root / "courses" / "lessons" / "semana-a" / "a-uno.md"
    text = lesson.read_text(encoding="utf-8")
    text = text.replace("title: Tiempos de respuesta", "title: " + yaml.safe_dump(_payload("script"), width=1000).strip().removesuffix("..."))
    text = text.replace("  - Recordar el tiempo de respuesta del chat.", "  - " + yaml.safe_dump(_payload("img-onerror"), width=1000).strip().removesuffix("..."))
    lesson.write_text(text + "\n\n" + ALL + "\n", encoding="utf-8")
    track = root / "courses" / "tracks" / "corto.yaml"
    data = yaml.safe_load(track.read_text(encoding="utf-8"))
    data["description"] = ALL
    track.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    module = root / "courses" / "modules" / "semana-a.yaml"
    data = yaml.safe_load(module.read_text(encoding="utf-8"))
    data["summary"] = ALL
    module.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    bank_path = root / "quizzes" / "banks" / "tiempos.yaml"
    bank = yaml.safe_load(bank_path.read_text(encoding="utf-8"))
    source = bank["questions"][0]["sources"]
    bank["questions"].append({
        "id": "hostil", "type": "single_choice", "tags": ["hostil"], "text": ALL, "explanation": ALL, "sources": source,
        "choices": [{"text": '"><b onmouseover=alert(document.cookie)>Chat: Menos de 30 segundos</b>', "correct": True, "feedback": ALL},
                    {"text": _payload("attr-breakout")},
                    {"text": _payload("svg-onload"), "feedback": _payload("a-javascript")},
                    {"text": _payload("template-jinja")}],
    })
    for q in bank["questions"]:
        if q["id"] == "redactar":
            q["guidance"] = ALL
            q["tags"] = ["semana-b", "hostil"]
    bank_path.write_text(yaml.safe_dump(bank, allow_unicode=True, sort_keys=False), encoding="utf-8")
    quiz = {"id": "hostil", "title": _payload("title-breakout"), "description": ALL, "module": "semana-a", "day": 1,
            "draw": [{"questions": ["hostil", "redactar"]}], "attempts_allowed": 5, "pass_mark": 50,
            "review": {"score": "immediately", "correct_answers": "immediately", "explanations": "immediately"}}
    (root / "quizzes" / "hostil.yaml").write_text(yaml.safe_dump(quiz, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return root


@dataclass
class HostileWorld:
    team: object
    other_teams: list
    agent: object
    agents: list
    trainer: object
    manager: object
    admin: object
    graded_attempt: object
    open_attempt: object
    submission: object
    open_submission: object
    record: object
    calibration: object
    api_token: str
    ids: dict = field(default_factory=dict)


@pytest.fixture
def hostile_world(session, tmp_path, make_user, make_team) -> HostileWorld:
    root = hostile_content_tree(tmp_path / "content")
    problems, _report = content_sync(session, root)
    assert not problems, [str(p) for p in problems]
    session.commit()
    team = make_team(_payload("script"))
    others = [make_team(_payload(n)) for n in ("attr-breakout", "template-jinja", "svg-onload")]
    trainer = make_user("trainer", name=_payload("img-onerror"), teams=[team, *others])
    manager = make_user("manager", name=_payload("a-javascript"), teams=[team, *others])
    admin = make_user("admin", name=_payload("template-config"))
    agent = make_user("agent", name=_payload("attr-breakout-single"), teams=[team])
    agents = [agent] + [make_user("agent", name=p, teams=[(team, *others)[i % 4]]) for i, p in enumerate(SHORT)]

    tracks.enroll(session, actor=manager, agent=agent, track=tracks.find_track(session, "corto"), start_date=date(2026, 1, 5), now=T0)
    tracks.complete_lesson(session, agent, tracks.get_lesson(session, "a-uno"), now=T0)
    # a graded attempt with an essay (answer, trainer feedback and an override reason: all hostile)
    hostile_quiz = quizzes.get_quiz(session, "hostil")
    attempt = quizzes.start_attempt(session, agent, hostile_quiz, now=T0)
    values = {}
    for slot in attempt.slots:
        if slot.question_version.data["type"] == "essay":
            values[f"q{slot.position}"] = [ALL]
        else:
            values[f"q{slot.position}"] = ["0"]
    quizzes.submit_attempt(session, attempt, agent, values, now=T0 + timedelta(minutes=1))
    essay = next(s for s in attempt.slots if s.question_version.data["type"] == "essay")
    quizzes.set_slot_score(session, attempt, essay, score=0.5, feedback=ALL, reason="", actor=trainer,
                           expected_revision=attempt.revision, now=T0 + timedelta(minutes=2))
    quizzes.set_slot_score(session, attempt, essay, score=1, feedback=ALL, reason=ALL, actor=trainer,
                           expected_revision=attempt.revision, now=T0 + timedelta(minutes=3))
    open_attempt = quizzes.start_attempt(session, agent, quizzes.get_quiz(session, "evaluacion-a"), now=now_utc())
    quizzes.save_answers(session, open_attempt, agent, {}, now=now_utc())
    # a role-play with hostile replies, hand-off note, rubric comments, overall and inline feedback, and an edit reason
    scenario = roleplays.get_scenario(session, "chat-retraso")
    submission = roleplays.start_practice(session, agent, scenario, now=T0)
    for text in (ALL[:5000], _payload("textarea-breakout")):
        roleplays.reply(session, submission, agent, thread="ana", text=text, now=T0)
    handoff = {"level": "2", "destination": _payload("a-data"), "context": ALL, "priority": ALL, "expectations": ALL, "timeline": ALL}
    roleplays.submit(session, submission, agent, escalation=handoff, now=T0)
    agent_turn = next(t.position for t in submission.turns if t.speaker == "agent")
    grade = roleplays.save_grade(session, submission, actor=trainer, levels={"tiempo": 3}, comments={"tiempo": ALL}, overall=ALL,
                                 inline=[{"turn": agent_turn, "text": ALL}], action="release", expected_revision=0, now=T0)
    roleplays.save_grade(session, submission, actor=trainer, levels={"tiempo": 4}, comments={"tiempo": ALL}, overall=ALL,
                         inline=[{"turn": agent_turn, "text": ALL}], action="draft", expected_revision=grade.revision,
                         reason=ALL, now=T0 + timedelta(minutes=5))
    calibration = cal.open_session(session, submission=submission, actor=trainer, title=_payload("iframe"), exemplar=False, now=T0)
    # a second submission of the agent, not yet graded (the grading form), and one in progress
    second = roleplays.start_practice(session, agent, scenario, now=T0)
    for text in (_payload("md-link"), _payload("svg-script")):
        roleplays.reply(session, second, agent, thread="ana", text=text, now=T0)
    roleplays.submit(session, second, agent, escalation={"level": "1", "destination": _payload("a-vbscript"), "context": ALL}, now=T0)
    open_submission = roleplays.start_practice(session, agent, scenario, now=T0)
    roleplays.reply(session, open_submission, agent, thread="ana", text=ALL[:5000], now=T0)
    # certification: a manual issue, a revocation and a reinstatement, each with a hostile reason
    definition = certs.get_definition(session, "proceso")
    record = certs.issue_manually(session, definition, agent, actor=admin, reason=ALL, now=T0)
    certs.revoke(session, record, actor=admin, reason=ALL, now=T0 + timedelta(minutes=1))
    certs.reinstate(session, record, actor=admin, reason=ALL, now=T0 + timedelta(minutes=2))
    quiz_staff.grant_accommodation(session, actor=manager, user_ids=[agent.id], time_multiplier=1.5, extra_attempts=1,
                                reason=_payload("style-expression"), now=T0)
    roleplays.assign(session, actor=trainer, scenario=scenario, team_id=team.id, user_id=None, due_date=date(2026, 1, 20), now=T0)
    token = api_tokens.create_token(session, name=_payload("img-onerror-noquotes"), scopes=list(api_tokens.SCOPES), expires_at=None,
                                    created_by=admin, now=T0).secret
    session.commit()
    world = HostileWorld(team=team, other_teams=others, agent=agent, agents=agents, trainer=trainer, manager=manager, admin=admin,
                         graded_attempt=attempt, open_attempt=open_attempt, submission=submission, open_submission=open_submission,
                         record=record, calibration=calibration, api_token=token)
    world.ids = {"second_submission": second.id, "grade": grade.id}
    return world


@pytest.fixture
def login(client, auth):
    """Sign the test client in as ``user`` (signing out whoever was signed in)."""

    def _login(user):
        auth.logout()
        auth.login_as(user)
        return client

    return _login

