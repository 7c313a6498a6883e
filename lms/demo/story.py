"""The certification part of the demo: calibrated trainers, an agent one lesson away from a
certificate, and an agent whose certificate is due for renewal.

- Tomás (formador@) and Elena (formadora@) have graded the four qualification exemplars (excellent,
  mediocre, deficient and a trap: ``data/exemplars.yaml``) in agreement with the agreed levels, so their role-play
  grades count towards certification. A new trainer who clicks the same level everywhere does not qualify.
- Pablo (agente8@) has done everything the product certification asks for except the last lesson of
  month 2: when he completes it, the certificate is issued automatically.
- Irene (agente9@) holds a product certificate issued before the site (by the admin, with the reason)
  that expires within 60 days: her recertification path is open.
"""
from __future__ import annotations

import random
from pathlib import Path
from datetime import datetime, timedelta


from lms.accounts import services as accounts
from lms.certification import services as certification
from lms.quizzes import services as quizzes
from lms.quizzes import simulate
from lms.roleplays import calibration
from lms.roleplays import services as roleplays
from lms.tracks import services as tracks

#: the qualification exemplars: four answers to one role-play spanning the rubric's scale, with agreed levels
EXEMPLARS_FILE = Path(__file__).parent / "data" / "exemplars.yaml"
#: Pablo's graded role-plays: the two the product certification asks for
PABLO_ROLEPLAYS = ("informe-consulta-garantia", "crm-plan-40-horas-upgrade")
CERTIFICATION = "certificacion-producto"


def agent_replies(scenario) -> list[str]:
    return [text.replace("**", "") for _thread, speaker, text in roleplays.exemplar_turns(scenario.exemplar)
            if speaker.lower().startswith("agente")]


def practise(session, agent, scenario, started: datetime):
    """Answer a chat/phone role-play with its model answer and hand it in; returns the submission (or None)."""
    submission = roleplays.start_practice(session, agent, scenario, now=started)
    moment = started

    def waiting():  # a customer whose conversation has reached its ending only takes an optional goodbye
        return [v for v in roleplays.threads(submission) if v.awaiting is not None and not getattr(v, "ending", None)]

    for text in agent_replies(scenario):
        if not waiting():
            break
        moment += timedelta(seconds=25)
        roleplays.reply(session, submission, agent, thread=waiting()[0].customer["id"], text=text, now=moment)
    if waiting():
        return None
    return roleplays.submit(session, submission, agent, escalation=None, now=moment)


def top_levels(session, submission) -> dict[str, int]:
    rubric = roleplays.rubric_of(session, submission)
    return {criterion["id"]: 4 for criterion in rubric["criteria"]}


def exemplar_set() -> dict:
    """The exemplars file: {scenario, exemplars: [{title, seconds, replies ('model' or a list), agreed: {criterion: [level, why]}}]}."""
    import yaml  # demo data only: not at start-up

    return yaml.safe_load(EXEMPLARS_FILE.read_text(encoding="utf-8"))


def exemplar_transcript(scenario, exemplar: dict) -> dict:
    """An exemplar as an anchor transcript (precheck format): the customer's messages and the exemplar's replies."""
    customer = scenario.data["customers"][0]
    replies = agent_replies(scenario) if exemplar["replies"] == "model" else exemplar["replies"]
    turns = []
    for n, text in enumerate(replies):
        turns.append({"speaker": "agent", "text": text, "seconds": exemplar["seconds"][n]})
        if n + 1 < len(customer["messages"]):
            turns.append({"speaker": "customer", "text": customer["messages"][n + 1]})
    return {"id": scenario.slug, "channel": scenario.channel, "customer_type": customer["type"],
            "opening_message": customer["messages"][0], "turns": turns}


def calibrate(session, trainers: list, now: datetime) -> list[str]:
    """The exemplar sessions, graded blind by every demo trainer at the agreed levels; the lead's grade carries the
    reason of each agreed level (shown beside the agreement once a trainer has graded)."""
    if all(calibration.standing(session, t.id).qualified for t in trainers):
        return []
    lead = trainers[-1]
    data = exemplar_set()
    scenario = roleplays.get_scenario(session, data["scenario"])
    for n, exemplar in enumerate(data["exemplars"]):
        moment = now - timedelta(days=20 - n)
        anchor = calibration.import_anchor(session, exemplar["title"], exemplar_transcript(scenario, exemplar),
                                           scenario_slug=scenario.slug, now=moment)
        session_ = calibration.open_session(session, submission=anchor, actor=lead, title=exemplar["title"], exemplar=True, now=moment)
        levels = {criterion: level for criterion, (level, _why) in exemplar["agreed"].items()}
        for trainer in trainers:
            grade = calibration.grade_blind(session, session_, actor=trainer, levels=levels, now=moment)
            if trainer is lead:
                grade.comments = {criterion: why for criterion, (_level, why) in exemplar["agreed"].items()}
        calibration.close_session(session, session_, actor=lead, levels=levels, now=moment + timedelta(hours=1))
    return [f"calibration: {len(data['exemplars'])} exemplar sessions spanning the scale, graded in agreement "
            "(the demo trainers are qualified)"]


def pass_quizzes(session, agent, trainer, now: datetime) -> None:
    """The two quizzes the product certification asks for, answered in full (essays given full marks)."""
    rng = random.Random(8)  # nosec B311  # a reproducible demo story, not security
    for slug, days_ago in (("evaluacion-semana-1", 64), ("evaluacion-final-certificacion", 3)):
        started = now - timedelta(days=days_ago, minutes=40)
        attempt = quizzes.start_attempt(session, agent, quizzes.get_quiz(session, slug), now=started)
        quizzes.submit_attempt(session, attempt, agent, simulate.answer_attempt(attempt, 1.0, rng), now=started + timedelta(minutes=20))
        for slot in attempt.slots:
            if slot.score is None:  # essays: the trainer gives full marks
                quizzes.set_slot_score(session, attempt, slot, score=slot.points, feedback="Respuesta completa y bien estructurada.",
                                       reason="", actor=trainer, expected_revision=attempt.revision, now=started + timedelta(days=1))


def nearly_certified(session, agent, trainer, admin, now: datetime) -> list[str]:
    """Everything the product certification asks for but the last lesson of month 2."""
    track = tracks.find_track(session, "onboarding-3-meses")
    if any(e.track_id == track.id for e in tracks.enrollments_of(session, agent)):
        return []
    start = (now - timedelta(days=70)).date()
    tracks.enroll(session, actor=admin, agent=agent, track=track, start_date=start, now=now - timedelta(days=70))
    track = tracks.get_track(session, "onboarding-3-meses")
    lessons = [lesson for tm in track.track_modules if tm.module.slug in ("semana-1-fundamentos", "mes-2-especializacion")
               for lesson in tm.module.lessons if not lesson.is_archived]
    for n, lesson in enumerate(lessons[:-1]):
        tracks.complete_lesson(session, agent, lesson, now=now - timedelta(days=65 - n))
    pass_quizzes(session, agent, trainer, now)
    for n, slug in enumerate(PABLO_ROLEPLAYS):
        scenario = roleplays.get_scenario(session, slug)
        submission = practise(session, agent, scenario, now - timedelta(days=10 - n))
        roleplays.save_grade(session, submission, actor=trainer, levels=top_levels(session, submission), comments={},
                             overall="Muy buena práctica: estructura completa y tono adecuado.", inline=[], action="release",
                             expected_revision=0, now=now - timedelta(days=9 - n))
    return [f"{agent.email}: everything for {CERTIFICATION} but the last lesson of mes-2-especializacion"]


def due_for_renewal(session, agent, admin, now: datetime) -> list[str]:
    """A product certificate issued 310 days ago (expires within 60 days): the recertification path opens."""
    if certification.records_of(session, agent.id):
        return []
    definition = certification.get_definition(session, CERTIFICATION)
    certification.issue_manually(session, definition, agent, actor=admin, now=now - timedelta(days=310),
                                 reason="Certificación obtenida antes de usar la plataforma (datos de demostración).")
    certification.open_due_paths(session, now=now)
    return [f"{agent.email}: {CERTIFICATION} issued 310 days ago, recertification open"]


def load_story(session, now: datetime) -> list[str]:
    trainers = [accounts.find_user_by_email(session, e) for e in ("formador@demo.lms", "formadora@demo.lms")]
    admin = accounts.find_user_by_email(session, "admin@demo.lms")
    done = calibrate(session, trainers, now)
    done += nearly_certified(session, accounts.find_user_by_email(session, "agente8@demo.lms"), trainers[0], admin, now)
    done += due_for_renewal(session, accounts.find_user_by_email(session, "agente9@demo.lms"), admin, now)
    return done
