"""Hostile input in every free-text field, rendered on every page that shows it, parsed as HTML.

See xss_corpus.py for the payloads and for what makes a page fail.
"""
from __future__ import annotations

import json

import pytest

from lms.core.markdown import render_markdown
from tests.security.xss_corpus import ALL, CORPUS, PAYLOADS, assert_clean, html_problems, visible_text


def _pages(w) -> dict[str, list[tuple[str, str | None]]]:
    """role → (URL, a hostile string that must show on it as literal text, or None for Markdown-only pages)."""
    a, name = w.agent, w.agent.name
    sub, second, open_sub = w.submission.id, w.ids["second_submission"], w.open_submission.id
    graded, open_attempt, record = w.graded_attempt.id, w.open_attempt.id, w.record.id
    team = w.team.name
    staff = [
        ("/manage/dashboard/", name), (f"/manage/dashboard/?team={w.team.id}", name),
        (f"/manage/dashboard/agents/{a.id}", w.graded_attempt.quiz.title),
        ("/manage/teams", team), (f"/manage/teams/{w.team.id}", name), (f"/manage/agents/{a.id}", name),
        ("/manage/quizzes", w.graded_attempt.quiz.title), ("/manage/quizzes/hostil", name), ("/manage/grading", None),
        (f"/manage/attempts/{graded}", ALL.split("\n\n")[0]),  # the essay answer and the trainer's feedback
        ("/manage/roleplays/", name), (f"/manage/roleplays/{sub}", ALL.split("\n\n")[0]),
        (f"/manage/roleplays/{second}", name), ("/manage/roleplays/assign", team),
        ("/manage/certifications/", name), (f"/manage/certifications/agents/{a.id}", name),
        (f"/manage/certifications/records/{record}", ALL.split("\n\n")[0]),  # issue, revoke and reinstate reasons
        (f"/attempts/{graded}/review", ALL.split("\n\n")[0]), ("/lessons/a-uno", None), ("/tracks/corto", None),
        ("/search?q=" + CORPUS[0][1], None),
    ]
    return {
        "agent": [
            ("/", None), ("/tracks", None), ("/tracks/corto", None), ("/lessons/a-uno", None), ("/quizzes/hostil", None),
            ("/quizzes/evaluacion-a", None), (f"/attempts/{open_attempt}", None),
            (f"/attempts/{graded}/review", ALL.split("\n\n")[0]),  # the essay as written, the trainer's feedback
            ("/roleplays", None), ("/roleplays/chat-retraso", None), (f"/practice/{open_sub}", ALL.split("\n\n")[0]),
            (f"/practice/{sub}/result", ALL.split("\n\n")[0]), (f"/practice/{second}/result", dict(CORPUS)["md-link"]),
            ("/certifications", None), ("/account", name), ("/tracks/corto/calendar", None), ("/calendar/subscription", None),
            ("/search?q=" + CORPUS[0][1], None), ("/escalation?channel=" + CORPUS[9][1], None),
        ],
        "trainer": staff + [("/manage/roleplays/calibration", w.calibration.title),
                            (f"/manage/roleplays/calibration/{w.calibration.id}", ALL.split("\n\n")[0])],
        "manager": staff + [("/manage/accommodations", name), ("/manage/enroll/import", None)],
        "admin": staff + [
            ("/admin/users", name), (f"/admin/users/{a.id}", name), (f"/admin/users/{w.manager.id}", w.manager.name),
            ("/admin/users?q=" + CORPUS[0][1], None), ("/admin/teams", team), (f"/admin/teams/{w.team.id}", team),
            ("/manage/", None), ("/manage/api-tokens/", None), ("/admin/login-attempts", None), ("/manage/banks", None),
            ("/manage/roleplays/calibration", w.calibration.title),
        ],
    }


def test_every_page_that_shows_hostile_input_is_clean(client, login, hostile_world):
    w = hostile_world
    users = {"agent": w.agent, "trainer": w.trainer, "manager": w.manager, "admin": w.admin}
    problems, checked = [], 0
    for role, pages in _pages(w).items():
        login(users[role])
        for url, expected in pages:
            response = client.get(url)
            if response.status_code != 200:
                problems.append(f"{role} {url}: status {response.status_code}")
                continue
            body = response.get_data(as_text=True)
            problems += html_problems(body, where=f"{role} {url}")
            if expected is not None and expected not in visible_text(body):
                problems.append(f"{role} {url}: the hostile text {expected[:50]!r} is not shown literally")
            checked += 1
    assert problems == []
    assert checked >= 70


def test_the_public_verification_page_shows_a_hostile_name_as_text(client, hostile_world):
    response = client.get(f"/verify/{hostile_world.record.code}")
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert_clean(body, "verify")
    assert hostile_world.agent.name in visible_text(body)
    for _name, payload in CORPUS[:12]:
        response = client.get("/verify/" + payload.replace("/", "%2F").replace("?", "%3F").replace("#", "%23"))
        assert response.status_code == 404
        assert_clean(response.get_data(as_text=True), f"verify {payload!r}")


def test_the_lesson_markdown_keeps_its_text_and_loses_its_code(client, login, hostile_world):
    login(hostile_world.agent)
    body = client.get("/lessons/a-uno").get_data(as_text=True)
    assert_clean(body, "lesson")
    text = visible_text(body)
    assert "clic" in text and "Cronometra tu próxima respuesta." in text  # the prose survives
    assert "{{7*7777}}" in text  # template syntax in content is text, never evaluated


def test_template_injection_renders_literally(client, login, hostile_world, make_user):
    payload = dict(CORPUS)["template-jinja"]
    someone = make_user("agent", name=payload, teams=[hostile_world.team])
    login(hostile_world.manager)
    body = client.get(f"/manage/agents/{someone.id}").get_data(as_text=True)
    assert payload in visible_text(body) and "54439" not in body


@pytest.mark.parametrize("name,payload", CORPUS, ids=[n for n, _ in CORPUS])
def test_markdown_renderer_neutralises_each_payload(name, payload):
    html = str(render_markdown(payload))
    assert html_problems(html, where=name, payloads=[payload]) == []
    assert html_problems(str(render_markdown("Texto\n\n" + payload + "\n\nmás texto")), where=name, payloads=[payload]) == []


def test_the_checker_catches_what_it_must():
    """The HTML checks above would fail on an unescaped page (the tests can fail)."""
    for bad in ('<p onclick="x()">a</p>', '<a href=" JaVa&#x09;script:alert(1)">x</a>', "<iframe></iframe>",
                '<script>alert(1)</script>', '<script src="https://evil.example/x.js"></script>', '<svg><script>x</script></svg>',
                '<form><button formaction="javascript:x">b</button></form>', '<object data="x"></object>',
                '<svg><a xlink:href="javascript:alert(1)">x</a></svg>', '<div style="width:expression(alert(1))">x</div>'):
        assert html_problems(f"<html><body>{bad}</body></html>", payloads=[]), bad
    assert html_problems("<p>" + PAYLOADS[0] + "</p>", payloads=[PAYLOADS[0]])
    assert html_problems("<p>54439</p>", payloads=[])
    assert html_problems('<script src="/static/js/quiz.js"></script>', payloads=[]) == []


def test_the_api_returns_hostile_text_as_json_strings(client, hostile_world):
    w = hostile_world
    headers = {"Authorization": f"Bearer {w.api_token}"}
    names = {}
    for path in ("/api/v1/users?limit=100", f"/api/v1/teams/{w.team.id}", "/api/v1/roleplay-grades", f"/api/v1/certifications/{w.record.id}",
                 "/api/v1/progress?limit=100", "/api/v1/quiz-results"):
        response = client.get(path, headers=headers)
        assert response.status_code == 200, (path, response.get_data(as_text=True)[:300])
        assert response.mimetype == "application/json" and response.headers["X-Content-Type-Options"] == "nosniff"
        document = json.loads(response.get_data(as_text=True))
        names[path] = document
    users = {u["id"]: u["name"] for u in names["/api/v1/users?limit=100"]["data"]}
    assert users[w.agent.id] == w.agent.name and users[w.admin.id] == w.admin.name  # byte for byte, not mangled
    assert names[f"/api/v1/teams/{w.team.id}"]["name"] == w.team.name
    (grade,) = [g for g in names["/api/v1/roleplay-grades"]["data"] if g["overall_comment"]]
    assert grade["overall_comment"] == ALL.strip()
