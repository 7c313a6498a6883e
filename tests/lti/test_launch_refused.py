"""Launches the tool must refuse, each with a clear page: the JWT checks are pylti1p3's, against a real
platform's tokens and keyset."""
from __future__ import annotations

import requests

from tests.lti.conftest import error_text

LEARNER = "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"


def _claims(**extra):
    return dict(dict(user_id="alumno-x", roles=[LEARNER], name="Alumno X", resource_link_id="rl-x"), **extra)


def _launch(browser, platform, **claims):
    form = browser.auto_form(browser.start(platform, **claims))
    return form, browser.post_form(form, allow_redirects=False)


def test_wrong_audience_is_refused(platform, browser):
    _form, response = _launch(browser, platform, **_claims(extra_claims={"aud": "otra-herramienta"}))
    assert response.status_code == 403
    assert "azp" in error_text(response)  # the platform's azp (our client id) is not among the audiences
    _form, response = _launch(browser, platform, **_claims(claims_override={"aud": "otra-herramienta", "azp": None}))
    assert response.status_code == 403
    assert "no está registrada" in error_text(response)


def test_expired_token_is_refused(platform, browser):
    _form, response = _launch(browser, platform, **_claims(id_token_expiration=-120))
    assert response.status_code == 403
    assert "caducado" in error_text(response)


def test_a_replayed_id_token_is_refused(platform, browser):
    form, first = _launch(browser, platform, **_claims())
    assert first.status_code == 302, error_text(first)
    replay = browser.post_form(form, allow_redirects=False)
    assert replay.status_code == 403
    assert "ya se había usado" in error_text(replay)
    # a thief without the browser's state cookie fares no better
    thief = requests.post(form["action"], data=form["fields"], allow_redirects=False, timeout=10)
    assert thief.status_code in (400, 403)


def test_unknown_deployment_is_refused(platform, browser):
    _form, response = _launch(browser, platform, **_claims(deployment_id="despliegue-desconocido"))
    assert response.status_code == 403
    assert "despliegue" in error_text(response)


def test_tampered_token_is_refused(platform, browser):
    form = browser.auto_form(browser.start(platform, **_claims()))
    header, body, signature = form["fields"]["id_token"].split(".")
    form["fields"]["id_token"] = ".".join([header, body, signature[:-6] + ("AAAAAA" if not signature.endswith("AAAAAA") else "BBBBBB")])
    response = browser.post_form(form, allow_redirects=False)
    assert response.status_code == 403
    assert "firma" in error_text(response)


def test_rotated_platform_key_is_fetched_again_and_an_unpublished_key_is_refused(platform, browser):
    _form, before = _launch(browser, platform, **_claims())  # the keyset is now cached
    assert before.status_code == 302, error_text(before)

    platform.control("rotate", publish=True, keep_old=False)
    _form, after = _launch(type(browser)(browser.tool_url), platform, **_claims())
    assert after.status_code == 302, error_text(after)

    platform.control("rotate", publish=False)  # signs with a key its JWKS does not list
    _form, refused = _launch(type(browser)(browser.tool_url), platform, **_claims())
    assert refused.status_code == 403
    assert "firma" in error_text(refused) and "Unable to find public key" in error_text(refused)
    platform.control("rotate", publish=True)  # leave a published key for the next tests


def test_login_from_an_unknown_issuer_is_refused(platform, tool_url):
    response = requests.get(f"{tool_url}/lti/login", params={"iss": "https://desconocida.example.com", "login_hint": "x",
                                                             "lti1p3_new_window": "1", "target_link_uri": f"{tool_url}/lti/launch"},
                            allow_redirects=False, timeout=10)
    assert response.status_code == 403
    assert "no está registrada" in error_text(response)


def test_login_starts_with_the_cookie_check_page(platform, tool_url):
    response = requests.post(f"{tool_url}/lti/login", data={"iss": platform.url, "login_hint": "x",
                                                            "client_id": platform.client_id,
                                                            "target_link_uri": f"{tool_url}/lti/launch"}, timeout=10)
    assert response.status_code == 200
    assert 'id="lti-cookie-check"' in response.text and "lti1p3_new_window=1" in response.text
    assert "ventana nueva" in response.text  # the fallback when the frame may not keep cookies
    assert f"frame-ancestors 'self' {platform.url}" in response.headers["Content-Security-Policy"]


def test_launch_without_id_token_is_a_clear_400(tool_url):
    response = requests.post(f"{tool_url}/lti/launch", data={"state": "x"}, allow_redirects=False, timeout=10)
    assert response.status_code == 400
    assert "sesión del inicio" in error_text(response) or "incompleta" in error_text(response)
