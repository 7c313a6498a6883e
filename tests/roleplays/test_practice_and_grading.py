"""Practice in each channel mode, grading with the rubric, release, return, history, locking, calibration."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from lms.core.errors import Conflict, InvalidInput
from lms.roleplays import calibration as cal
from lms.roleplays import services

T0 = datetime(2026, 1, 9, 9, 0, tzinfo=timezone.utc)


@pytest.fixture
def scenario(session, content):
    return services.get_scenario(session, "chat-retraso")


def practise(session, agent, scenario, replies=("Hola, Ana. Soy Luis. Entiendo tu frustración: reviso tu pedido ahora.",
                                                "He revisado el pedido: lo paso a Logística y mañana te escribo. Gracias, Ana.")):
    submission = services.start_practice(session, agent, scenario, now=T0)
    for n, text in enumerate(replies):
        services.reply(session, submission, agent, thread="ana", text=text, now=T0 + timedelta(seconds=20 * (n + 1) + 10 * n))
    return submission


def test_chat_practice_times_each_reply_against_the_standard(session, agent, scenario):
    submission = services.start_practice(session, agent, scenario, now=T0)
    assert [t.text for t in submission.turns] == ["¿Dónde está mi pedido?"]
    services.reply(session, submission, agent, thread="ana", text="Hola, Ana.", now=T0 + timedelta(seconds=12))
    assert [(t.speaker, t.seconds) for t in submission.turns] == [("customer", None), ("agent", 12.0), ("customer", None)]
    services.reply(session, submission, agent, thread="ana", text="Te ayudo.", now=T0 + timedelta(seconds=60))
    assert submission.turns[-1].seconds == 48.0
    with pytest.raises(Conflict):
        services.reply(session, submission, agent, thread="ana", text="¿Algo más?", now=T0 + timedelta(seconds=70))
    with pytest.raises(InvalidInput):
        services.reply(session, submission, agent, thread="otro", text="x", now=T0)


def test_submit_fixes_the_rubric_version_and_runs_the_precheck(session, agent, scenario):
    submission = practise(session, agent, scenario)
    services.submit(session, submission, agent, escalation={"level": "2", "destination": "Logística", "context": "Pedido retrasado",
                                                            "priority": "Alta", "expectations": "Respuesta mañana", "timeline": "24 h"}, now=T0)
    assert submission.state == "submitted" and submission.rubric_version_id is not None
    assert submission.precheck["criteria"]["escalamiento"] == 4
    assert submission.precheck["criteria"]["tiempos"] is not None
    with pytest.raises(Conflict):
        services.submit(session, submission, agent, escalation=None, now=T0)


def test_submit_needs_every_message_answered_and_a_valid_level(session, agent, scenario):
    submission = services.start_practice(session, agent, scenario, now=T0)
    with pytest.raises(InvalidInput, match="Responde a todos"):
        services.submit(session, submission, agent, escalation=None, now=T0)
    services.reply(session, submission, agent, thread="ana", text="Hola", now=T0)
    services.reply(session, submission, agent, thread="ana", text="Adiós", now=T0)
    with pytest.raises(InvalidInput, match="nivel"):
        services.submit(session, submission, agent, escalation={"level": "9"}, now=T0)


def test_a_retry_never_overwrites_an_earlier_practice(session, agent, scenario):
    first = practise(session, agent, scenario)
    services.submit(session, first, agent, escalation=None, now=T0)
    second = services.start_practice(session, agent, scenario, now=T0 + timedelta(hours=1))
    assert second.id != first.id and second.number == 2 and first.state == "submitted"


def levels(**overrides):
    return {"tiempo": 3} | overrides


def test_grading_draft_release_return_with_history_and_locking(session, agent, trainer, scenario):
    submission = practise(session, agent, scenario)
    services.submit(session, submission, agent, escalation=None, now=T0)
    assert services.visible_grade(session, submission) is None
    draft = services.save_grade(session, submission, actor=trainer, levels=levels(), comments={"tiempo": "Bien"}, overall="Buen trabajo",
                                inline=[{"turn": 1, "text": "Saluda antes"}, {"turn": 0, "text": "no es del agente"}], action="draft",
                                expected_revision=0, now=T0)
    assert draft.state == "draft" and services.visible_grade(session, submission) is None  # agents never see drafts
    assert draft.inline_comments == [{"turn": 1, "text": "Saluda antes"}]
    assert draft.score == 75.0 and draft.passed is True
    stale = draft.revision
    services.save_grade(session, submission, actor=trainer, levels=levels(tiempo=4), comments={}, overall="", inline=[], action="release",
                        expected_revision=stale, now=T0)
    assert submission.grade_state == "released" and submission.score == 100.0
    with pytest.raises(Conflict, match="Otra persona"):
        services.save_grade(session, submission, actor=trainer, levels=levels(tiempo=1), comments={}, overall="", inline=[],
                            action="draft", expected_revision=stale, now=T0)
    with pytest.raises(InvalidInput, match="motivo"):
        services.save_grade(session, submission, actor=trainer, levels=levels(tiempo=1), comments={}, overall="", inline=[],
                            action="release", expected_revision=draft.revision, now=T0)
    services.save_grade(session, submission, actor=trainer, levels=levels(tiempo=1), comments={}, overall="", inline=[],
                        action="release", expected_revision=draft.revision, reason="Revisado con el equipo", now=T0)
    assert submission.score == 25.0 and submission.passed is False  # the critical criterion (pass level 2) failed
    history = services.grade_history(session, draft)
    assert [e.kind for e in history] == ["draft", "release", "release"]
    assert history[-1].before["score"] == 100.0 and history[-1].after["score"] == 25.0 and history[-1].reason == "Revisado con el equipo"


def test_critical_criterion_fails_the_role_play_whatever_the_score():
    rubric = {"criteria": [{"id": "a", "weight": 3}, {"id": "b", "critical": True, "pass_level": 3}]}
    score, passed, failed = services.rubric_score(rubric, {"a": 4, "b": 2})
    assert score == pytest.approx(87.5) and not passed and failed == ["b"]


def test_return_for_another_try_is_visible_to_the_agent(session, agent, trainer, scenario):
    submission = practise(session, agent, scenario)
    services.submit(session, submission, agent, escalation=None, now=T0)
    with pytest.raises(InvalidInput, match="Falta el nivel"):
        services.save_grade(session, submission, actor=trainer, levels={}, comments={}, overall="", inline=[], action="return",
                            expected_revision=0, now=T0)
    grade = services.save_grade(session, submission, actor=trainer, levels=levels(tiempo=1), comments={}, overall="Repite el saludo",
                                inline=[], action="return", expected_revision=0, now=T0)
    assert services.visible_grade(session, submission) == grade and submission.grade_state == "returned"


def test_grading_an_unsubmitted_practice_is_refused(session, agent, trainer, scenario):
    submission = services.start_practice(session, agent, scenario, now=T0)
    with pytest.raises(Conflict):
        services.save_grade(session, submission, actor=trainer, levels=levels(), comments={}, overall="", inline=[], action="draft",
                            expected_revision=0, now=T0)


def test_krippendorff_alpha_against_hand_computed_values():
    # two trainers, three criteria: [4,4], [3,2], [1,1]  → Do = (0 + 2 + 0)/6 = 1/3 ;
    # values 4,4,3,2,1,1: Σ_{i<j} (a-b)² = 23 + 23 + 9 + 2 = 57, ordered pairs 114 → De = 114 / 30 = 3.8 → alpha = 1 - (1/3)/3.8
    assert cal.krippendorff_alpha_interval([[4, 4], [3, 2], [1, 1]]) == pytest.approx(1 - (1 / 3) / 3.8)
    assert cal.krippendorff_alpha_interval([[2, 2], [3, 3]]) == pytest.approx(1.0)
    assert cal.krippendorff_alpha_interval([[2]]) is None
    assert cal.pair_agreement([2, 2, 3]) == pytest.approx((1 / 3, 1.0))


def test_calibration_blind_grades_agreement_agreed_grade_drift_and_qualification(session, agent, make_user, scenario):
    lead, second, newcomer = make_user("trainer"), make_user("trainer"), make_user("trainer")
    sessions = []
    agreed = (3, 1)  # a good exemplar and a deficient one: the set spans the scale
    for n in range(2):
        submission = practise(session, agent, scenario)
        services.submit(session, submission, agent, escalation=None, now=T0)
        calibration = cal.open_session(session, submission=submission, actor=lead, title=f"Ejemplo {n}", exemplar=True, now=T0)
        cal.grade_blind(session, calibration, actor=lead, levels={"tiempo": agreed[n]}, now=T0)
        cal.grade_blind(session, calibration, actor=second, levels={"tiempo": agreed[n] + 2 if n else 1}, now=T0)
        with pytest.raises(Conflict):
            cal.grade_blind(session, calibration, actor=second, levels={"tiempo": 2}, now=T0)
        agreement = cal.agreement(session, calibration)
        assert agreement.criteria[0].exact == 0 and agreement.criteria[0].divergent
        cal.close_session(session, calibration, actor=lead, levels={"tiempo": agreed[n]}, now=T0 + timedelta(days=n))
        sessions.append(calibration)
    assert cal.standing(session, lead.id).qualified and cal.standing(session, lead.id).drift == {"tiempo": 0}
    second_standing = cal.standing(session, second.id)
    assert not second_standing.qualified and second_standing.drift == {"tiempo": 0}  # −2 and +2: no drift, no agreement
    # a new trainer qualifies by grading the exemplars close to the agreed grades
    assert not cal.standing(session, newcomer.id).qualified
    for n, calibration in enumerate(sessions):
        cal.grade_blind(session, calibration, actor=newcomer, levels={"tiempo": agreed[n]}, now=T0)
    assert cal.standing(session, newcomer.id).qualified


def test_anchor_transcripts_import_for_calibration(app, session, content, tmp_path):
    path = tmp_path / "anchors.yaml"
    path.write_text("- id: ancla-1\n  channel: chat\n  customer_type: frustrado\n  opening_message: ¿Dónde está mi pedido?\n"
                    "  turns:\n    - {speaker: agent, text: 'Hola, soy Luis. Reviso tu pedido.', seconds: 12}\n", encoding="utf-8")
    result = app.test_cli_runner().invoke(args=["roleplays", "import-transcripts", str(path)])
    assert result.exit_code == 0, result.output
    anchors = services.anchors(session)
    assert [a.anchor_label for a in anchors] == ["ancla-1"] and anchors[0].scenario.slug == "chat-retraso"
    assert [t.speaker for t in anchors[0].turns] == ["customer", "agent"] and anchors[0].precheck["score"] >= 0
