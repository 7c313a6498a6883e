"""Deep linking: a trainer picks content on our page and the platform (lti1p3platform) verifies the
signed LtiDeepLinkingResponse against our JWKS; the placed link then opens that content."""
from __future__ import annotations

import re

from tests.lti.conftest import error_text, parse

INSTRUCTOR = "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"
LEARNER = "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"


def _deep_link_launch(browser, platform, roles, sub):
    form = browser.auto_form(browser.start(platform, user_id=sub, roles=roles, name=sub, deep_link=True))
    return browser.post_form(form, allow_redirects=False)


def test_trainer_picks_content_and_the_platform_accepts_the_signed_response(platform, browser, tool_url):
    landed = _deep_link_launch(browser, platform, [INSTRUCTOR], "prof-dl")
    assert landed.status_code == 302 and landed.headers["Location"] == "/lti/deep-link", error_text(landed)
    page = browser.http.get(tool_url + "/lti/deep-link", timeout=10)
    assert page.status_code == 200
    for value in ("track:corto", "lesson:a-uno", "quiz:evaluacion-a", "roleplay:chat-retraso"):
        assert f'value="{value}"' in page.text, value
    csrf = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"', page.text)
    token = next(g for g in csrf.groups() if g)

    refused = browser.http.post(tool_url + "/lti/deep-link", data={"csrf_token": token, "target": "lesson:no-existe"}, timeout=10)
    assert "Elige al menos un contenido" in refused.text

    answer = browser.http.post(tool_url + "/lti/deep-link", data={"csrf_token": token,
                                                                 "target": ["lesson:a-uno", "quiz:evaluacion-a"]}, timeout=10)
    assert answer.status_code == 200
    assert f"form-action 'self' {platform.url}" in answer.headers["Content-Security-Policy"]
    form = next(f for f in parse(answer.text).forms if "JWT" in f["fields"])
    assert form["action"] == f"{platform.url}/deep_link_return" and set(form["fields"]) == {"JWT"}

    verified = browser.http.post(form["action"], data=form["fields"], timeout=30)  # the platform checks our signature
    assert verified.status_code == 200, verified.text
    items = verified.json()["content_items"]
    assert [(i["type"], i["url"], i["custom"]) for i in items] == [
        ("ltiResourceLink", f"{tool_url}/lti/launch", {"target": "lesson:a-uno"}),
        ("ltiResourceLink", f"{tool_url}/lti/launch", {"target": "quiz:evaluacion-a"}),
    ]
    assert [i["title"] for i in items][0].endswith("Tiempos de respuesta")

    # the selection is used up
    again = browser.http.get(tool_url + "/lti/deep-link", timeout=10)
    assert again.status_code == 400

    # the placed link carries its target as a custom parameter: a trainer lands on the quiz's results
    launch = browser.auto_form(browser.start(platform, user_id="prof-dl", roles=[INSTRUCTOR], resource_link_id="placed-1",
                                             custom=items[1]["custom"]))
    opened = browser.post_form(launch, allow_redirects=False)
    assert opened.status_code == 302 and opened.headers["Location"] == "/manage/quizzes/evaluacion-a"


def test_a_learner_cannot_open_the_content_picker(platform, browser):
    refused = _deep_link_launch(browser, platform, [LEARNER], "alumno-dl")
    assert refused.status_code == 403
    assert "formadores" in error_text(refused)
