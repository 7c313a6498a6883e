"""The list (own only, newest first, paginated, mark read), the header counter and the preferences page."""
from __future__ import annotations

import re
from datetime import timedelta

from lms.accounts import services as accounts
from lms.notifications import services
from lms.notifications.models import Notification
from tests.notifications.conftest import T0


def add(session, user, n=1, *, kind="certificate_issued", start=0):
    made = []
    for i in range(start, start + n):
        made.append(services.notify(session, user, kind, {"title": f"Certificado {i}", "expires": "2027-01-09"}, link="/certifications",
                                    key=f"test:{user.id}:{kind}:{i}", now=T0 + timedelta(minutes=i), email=False))
    session.commit()
    return made


def test_the_list_shows_only_my_notifications_newest_first_and_pages(client, auth, session, agent, make_user):
    other = make_user("agent", name="Otra Persona")
    add(session, agent, services.PAGE_SIZE + 2)
    add(session, other, 1, start=500)
    auth.login_as(agent)
    page = client.get("/notifications").get_data(as_text=True)
    titles = re.findall(r">Certificación obtenida: «Certificado (\d+)»</a>", page)
    assert titles == [str(i) for i in range(services.PAGE_SIZE + 1, 1, -1)]  # the newest 20, newest first
    assert "Certificado 500" not in page
    second = client.get("/notifications?page=2").get_data(as_text=True)
    assert re.findall(r">Certificación obtenida: «Certificado (\d+)»</a>", second) == ["1", "0"]
    assert client.get("/notifications?page=3").status_code == 404


def test_the_header_counts_unread_notifications_for_signed_in_users_only(client, auth, session, agent):
    assert "Notificaciones" not in client.get("/login").get_data(as_text=True)
    add(session, agent, 3)
    auth.login_as(agent)
    page = client.get("/").get_data(as_text=True)
    link = re.search(r'<a href="/notifications" class="notifications-link">(.*?)</a>', page, re.S).group(1)
    assert re.sub(r"<[^>]+>", "", link).strip() == "Notificaciones (3 sin leer)"


def test_marking_read_one_and_all_mine_only(client, auth, session, agent, make_user):
    other = make_user("agent")
    [theirs] = add(session, other, 1, start=100)
    first, second, third = add(session, agent, 3)
    auth.login_as(agent)
    assert client.post("/notifications/read", data={"notification_id": theirs.id}).status_code == 404
    session.refresh(theirs)
    assert theirs.read_at is None
    response = client.post("/notifications/read", data={"notification_id": first.id, "open": "1"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/certifications")
    assert client.post("/notifications/read", data={}).status_code == 400
    session.refresh(first)
    assert first.read_at is not None and services.unread_count(session, agent.id) == 2
    assert client.post("/notifications/read-all").status_code == 302
    assert services.unread_count(session, agent.id) == 0 and services.unread_count(session, other.id) == 1
    assert "Marcar todas como leídas" not in client.get("/notifications").get_data(as_text=True)


def test_preferences_page_saves_checkboxes(client, auth, session, agent):
    auth.login_as(agent)
    page = client.get("/account/notifications").get_data(as_text=True)
    assert page.count('type="checkbox"') == 7 and page.count("checked") == 7  # all on by default
    assert "Un formador ha calificado un role-play mío" in page
    response = client.post("/account/notifications", data={"roleplay_graded": "y", "certificate_issued": "y"})
    assert response.status_code == 302
    prefs = accounts.email_preferences(session, agent.id)
    assert {k for k, v in prefs.items() if v} == {"roleplay_graded", "certificate_issued"}
    assert client.get("/account/notifications").get_data(as_text=True).count("checked") == 2
    assert "/account/notifications" in client.get("/account").get_data(as_text=True)


def test_forms_need_the_csrf_token(app, client, auth, session, agent, monkeypatch):
    [mine] = add(session, agent, 1)
    auth.login_as(agent)
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    assert client.post("/account/notifications", data={"roleplay_graded": "y"}).status_code == 400
    assert all(accounts.email_preferences(session, agent.id).values())
    assert client.post("/notifications/read", data={"notification_id": mine.id}).status_code == 400
    assert client.post("/notifications/read-all").status_code == 400
    session.refresh(mine)
    assert mine.read_at is None
    page = client.get("/account/notifications").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    assert client.post("/account/notifications", data={"csrf_token": token}).status_code == 302
    assert not any(accounts.email_preferences(session, agent.id).values())
    assert session.query(Notification).filter_by(user_id=agent.id).count() == 1
