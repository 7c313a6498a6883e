"""Two trainers grade the same practice at once: the second one's levels and comments survive the conflict, shown
beside the first one's, and nothing is overwritten behind anyone's back."""
from __future__ import annotations

import re
from datetime import datetime, timezone

from lms.roleplays import services

T0 = datetime(2026, 1, 9, 9, 0, tzinfo=timezone.utc)


def _submitted(session, agent):
    scenario = services.get_scenario(session, "chat-retraso")
    submission = services.start_practice(session, agent, scenario, now=T0)
    for text in ("Hola, Ana. Soy Luis. Reviso tu pedido.", "Gracias, Ana. Queda resuelto."):
        if any(v.awaiting for v in services.threads(submission)):
            services.reply(session, submission, agent, thread="ana", text=text, now=T0)
    services.submit(session, submission, agent, escalation=None, now=T0)
    session.commit()
    return submission


def test_the_second_trainer_keeps_what_they_typed_beside_the_first_trainers_grade(client, auth, agent, trainer, make_user, team,
                                                                                  content, session):
    other = make_user("trainer", name="Elena Formadora", teams=[team])
    submission = _submitted(session, agent)
    url = f"/manage/roleplays/{submission.id}"
    # both open the page (revision 0); Elena saves first
    auth.login_as(other)
    assert client.post(url, data={"revision": "0", "level-tiempo": "2", "comment-tiempo": "Tarda en contestar",
                                  "overall": "Repasar los tiempos", "action": "draft"}).status_code == 302
    client.post("/logout")
    auth.login_as(trainer)
    response = client.post(url, data={"revision": "0", "level-tiempo": "4", "comment-tiempo": "Responde a tiempo en todo",
                                      "overall": "Muy buen trabajo", "inline-1": "Buen saludo", "action": "draft"})
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert "Recarga la página" not in page  # reloading would lose what was typed: the page says what to do instead
    assert "Elena Formadora guardó esta calificación mientras la editabas" in page
    # this trainer's levels and comments are still in the form…
    assert re.search(r'name="level-tiempo" value="4"\s+checked', page)
    assert ">Responde a tiempo en todo</textarea>" in page and ">Muy buen trabajo</textarea>" in page and ">Buen saludo</textarea>" in page
    # …and the other trainer's are beside them
    assert "nivel 2" in page and "Tarda en contestar" in page and "Repasar los tiempos" in page
    grade = services.grade_for(session, submission)
    session.refresh(grade)
    assert grade.levels == {"tiempo": 2} and grade.overall_comment == "Repasar los tiempos"  # nothing overwritten
    # saving again from that page (it carries the current revision) replaces the other version knowingly
    revision = re.search(r'name="revision" value="(\d+)"', page).group(1)
    assert revision == str(grade.revision)
    assert client.post(url, data={"revision": revision, "level-tiempo": "4", "overall": "Muy buen trabajo", "action": "draft"}).status_code == 302
    session.refresh(grade)
    assert grade.levels == {"tiempo": 4}


def test_a_missing_level_keeps_the_comments_typed(client, auth, agent, trainer, content, session):
    submission = _submitted(session, agent)
    auth.login_as(trainer)
    response = client.post(f"/manage/roleplays/{submission.id}", data={"revision": "0", "comment-tiempo": "Rápido",
                                                                       "overall": "Sin nivel todavía", "action": "release"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Falta el nivel" in page and ">Rápido</textarea>" in page and ">Sin nivel todavía</textarea>" in page
