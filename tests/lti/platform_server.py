"""A real LTI 1.3 platform for the tests, built on the PyPI package ``lti1p3platform`` (not our code),
served by the standard library's HTTP server. Runs in its own virtual environment:

    python platform_server.py            # prints "READY http://127.0.0.1:PORT" and serves until killed

The tests steer it with JSON requests to /control/… (which registration to use, which key to sign with,
what the next launch carries) and drive a browser-like client through /auth like a real LMS would.
Platform endpoints: /auth (OIDC authorization, answers with the auto-submitted id_token form),
/jwks (the platform's keyset), /token (OAuth 2 client credentials with a signed JWT assertion),
/deep_link_return (validates the tool's LtiDeepLinkingResponse with the tool's JWKS); LTI Dynamic Registration
as Moodle does it: /.well-known/openid-configuration and /register (checks the registration token and the tool's
client registration, answers with a new client_id and deployment_id, which the next launches then use).
"""
from __future__ import annotations

import html
import json
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

from jwcrypto.jwk import JWK
from lti1p3platform.ltiplatform import LTI1P3PlatformConfAbstract
from lti1p3platform.message_launch import LTIAdvantageMessageLaunchAbstract
from lti1p3platform.oidc_login import OIDCLoginAbstract
from lti1p3platform.registration import Registration
from lti1p3platform.request import Request

LOCK = threading.Lock()


def new_key() -> dict:
    key = JWK.generate(kty="RSA", size=2048)
    return {"private": key.export_to_pem(private_key=True, password=None).decode(), "public": key.export_to_pem().decode(),
            "kid": key.thumbprint()}


STATE: dict = {
    "issuer": None,           # set at start: this server's URL
    "client_id": "tool-client",
    "deployment_id": "deployment-1",
    "tool_url": None,         # the tool's base URL (…/lti/login, …/lti/launch, …/lti/jwks.json)
    "signing": None,          # the key that signs id_tokens
    "published": [],          # the keys listed at /jwks
    "id_token_expiration": 300,
    "launches": {},           # lti_message_hint → what the launch carries
    "deep_link_results": [],  # content items accepted at /deep_link_return
    "token_requests": [],
    "lineitems": [],          # created by the tool through AGS
    "scores": [],             # received through AGS: {"lineitem": id, **score}
    "members": {},            # NRPS: context id → members
    "preflight": {},          # lti_message_hint → the tool's login initiation URL (for the course page)
    "dynreg": {},             # dynamic registration: {"token", "issuer" (override), "fail", "no_deployment"}
    "registrations": [],      # client registrations received at /register
    "lineitem_queries": [],   # the query strings of GET /lineitems/… (AGS filters such as resource_link_id)
}


class LaunchRegistration(Registration):
    """Signs id_tokens as the library does, plus what a test asks of one launch: a platform clock
    ``clock_offset`` seconds off, and ``claims_override`` applied last (a value None removes the claim)."""

    launch: dict = {}

    def platform_encode_and_sign(self, payload, expiration=None):
        offset = int(self.launch.get("clock_offset") or 0)
        if expiration:
            issued = int(time.time()) + offset
            payload.update({"iat": issued, "exp": issued + expiration})
        for key, value in (self.launch.get("claims_override") or {}).items():
            if value is None:
                payload.pop(key, None)
            else:
                payload[key] = value
        return super().platform_encode_and_sign(payload, expiration=None)


class PlatformConf(LTI1P3PlatformConfAbstract):
    def init_platform_config(self, **kwargs):
        self.launch = kwargs.get("launch") or {}

    def get_registration_by_params(self, **kwargs) -> Registration:
        tool = STATE["tool_url"]
        reg = LaunchRegistration()
        reg.launch = self.launch
        reg.set_iss(STATE["issuer"]).set_client_id(STATE["client_id"])
        reg.set_deployment_id(self.launch.get("deployment_id") or STATE["deployment_id"])
        reg.set_oidc_login_url(f"{tool}/lti/login").set_launch_url(f"{tool}/lti/launch")
        reg.set_deeplink_launch_url(f"{tool}/lti/launch")
        reg.set_tool_key_set_url(f"{tool}/lti/jwks.json")
        reg.set_platform_private_key(STATE["signing"]["private"]).set_platform_public_key(STATE["signing"]["public"])
        return reg


class PlainRequest(Request):
    def build_metadata(self, request):
        return request


class OIDCLogin(OIDCLoginAbstract):
    def set_lti_message_hint(self, **kwargs):
        self._lti_message_hint = kwargs["hint"]

    def get_redirect(self, url: str) -> str:
        return url


class MessageLaunch(LTIAdvantageMessageLaunchAbstract):
    def render_launch_form(self, launch_data, **kwargs) -> str:
        return (f'<form id="launch" method="post" action="{html.escape(launch_data["launch_url"])}">'
                f'<input type="hidden" name="id_token" value="{html.escape(launch_data["id_token"])}">'
                f'<input type="hidden" name="state" value="{html.escape(launch_data["state"])}">'
                '</form><script>document.getElementById("launch").submit();</script>')


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):  # quiet
        pass

    def _send(self, status: int, body, content_type="application/json", headers=None):
        data = (body if isinstance(body, str) else json.dumps(body)).encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def _body(self) -> bytes:
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def _form(self) -> dict:
        return dict(parse_qsl(self._body().decode()))

    def do_GET(self):
        url = urlsplit(self.path)
        query = dict(parse_qsl(url.query))
        if url.path == "/jwks":
            keys = [dict(Registration.get_jwk(k["public"]), kid=k["kid"]) for k in STATE["published"]]
            return self._send(200, {"keys": keys})
        if url.path == "/auth":
            return self._auth(query)
        if url.path.startswith("/course/"):  # a course page that shows the tool in an iframe, as an LMS does
            src = STATE["preflight"].get(url.path.rsplit("/", 1)[-1])
            if src is None:
                return self._send(404, {"error": "unknown launch"})
            return self._send(200, '<!doctype html><title>Curso</title><h1>Curso de la plataforma</h1>'
                                   f'<iframe id="tool" name="tool" src="{html.escape(src)}" width="1000" height="700"></iframe>',
                              content_type="text/html")
        if url.path.startswith("/lineitems/"):
            if not self._authorised("https://purl.imsglobal.org/spec/lti-ags/scope/lineitem"):
                return None
            STATE["lineitem_queries"].append(url.query)
            items = [i for i in STATE["lineitems"] if i["id"].startswith(f"{STATE['issuer']}{url.path}/")]
            if query.get("resource_link_id"):  # the AGS filters
                items = [i for i in items if i.get("resourceLinkId") == query["resource_link_id"]]
            if query.get("tag"):
                items = [i for i in items if i.get("tag") == query["tag"]]
            return self._send(200, items, content_type="application/vnd.ims.lis.v2.lineitemcontainer+json")
        if url.path.startswith("/memberships/"):
            if not self._authorised("https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"):
                return None
            context = url.path.rsplit("/", 1)[-1]
            return self._send(200, {"id": f"{STATE['issuer']}{url.path}", "context": {"id": context},
                                    "members": STATE["members"].get(context, [])},
                              content_type="application/vnd.ims.lti-nrps.v2.membershipcontainer+json")
        if url.path == "/.well-known/openid-configuration":
            return self._openid_configuration()
        if url.path == "/control/state":
            state = {k: STATE[k] for k in ("issuer", "client_id", "deployment_id", "deep_link_results", "token_requests",
                                           "lineitems", "scores", "registrations", "lineitem_queries")}
            return self._send(200, dict(state, signing_public=STATE["signing"]["public"]))
        return self._send(404, {"error": "not found"})

    def do_POST(self):
        url = urlsplit(self.path)
        if url.path == "/auth":
            return self._auth(self._form())
        if url.path == "/deep_link_return":
            return self._deep_link_return(self._form())
        if url.path == "/token":
            return self._token(self._form())
        if url.path == "/register":
            return self._register(json.loads(self._body() or b"{}"))
        if url.path.startswith("/lineitems/"):
            return self._ags_post(url.path, json.loads(self._body() or b"{}"))
        if url.path.startswith("/control/"):
            return self._control(url.path[len("/control/"):], json.loads(self._body() or b"{}"))
        return self._send(404, {"error": "not found"})

    # -- test control ------------------------------------------------------------------------------
    def _control(self, what: str, data: dict):
        with LOCK:
            if what == "config":
                for key in ("client_id", "deployment_id", "tool_url", "id_token_expiration", "refuse_scores",
                            "declared_lineitem"):
                    if key in data:
                        STATE[key] = data[key]
                return self._send(200, {"issuer": STATE["issuer"]})
            if what == "dynreg":
                STATE["dynreg"] = data
                return self._send(200, {"openid_configuration": f"{STATE['issuer']}/.well-known/openid-configuration"})
            if what == "members":
                STATE["members"][data["context_id"]] = data["members"]
                return self._send(200, {"ok": True})
            if what == "rotate":
                key = new_key()
                STATE["signing"] = key
                if data.get("publish", True):
                    STATE["published"] = ([key] + STATE["published"]) if data.get("keep_old", True) else [key]
                return self._send(200, {"kid": key["kid"]})
            if what == "launch":
                hint = uuid.uuid4().hex
                STATE["launches"][hint] = data
                conf = PlatformConf(launch=data)
                login = OIDCLogin(PlainRequest({}), conf)
                login.set_lti_message_hint(hint=hint)
                url = login.initiate_login(data.get("user_id", "user-1"))
                STATE["preflight"][hint] = url
                return self._send(200, {"url": url, "hint": hint, "course_page": f"{STATE['issuer']}/course/{hint}"})
        return self._send(404, {"error": "unknown control"})

    # -- platform endpoints --------------------------------------------------------------------------
    def _auth(self, params: dict):
        launch_spec = STATE["launches"].get(params.get("lti_message_hint") or "")
        if launch_spec is None:
            return self._send(400, {"error": "unknown lti_message_hint"})
        conf = PlatformConf(launch=launch_spec)
        conf.get_registration()
        request = PlainRequest({"method": "POST", "form_data": params, "get_data": params})
        launch = MessageLaunch(request, conf)
        launch.set_id_token_expiration(int(launch_spec.get("id_token_expiration") or STATE["id_token_expiration"]))
        launch.set_user_data(launch_spec.get("user_id", "user-1"), launch_spec.get("roles", []),
                             full_name=launch_spec.get("name"), email_address=launch_spec.get("email"))
        if launch_spec.get("resource_link_id"):
            launch.set_resource_link_claim(launch_spec["resource_link_id"], title=launch_spec.get("title"))
        if launch_spec.get("context_id"):
            launch.set_launch_context_claim(launch_spec["context_id"], context_title=launch_spec.get("context_title"))
        if launch_spec.get("custom"):
            launch.set_custom_parameters_claim(launch_spec["custom"])
        if launch_spec.get("deep_link"):
            launch.set_dl(f"{STATE['issuer']}/deep_link_return", title="Elegir contenido",
                          accept_types=set(launch_spec.get("accept_types") or ["ltiResourceLink"]),
                          extra_data=launch_spec.get("dl_data", {"accept_multiple": True}))
        if launch_spec.get("ags"):
            context = launch_spec.get("context_id") or "curso"
            launch.set_ags(f"{STATE['issuer']}/lineitems/{context}", launch_spec.get("lineitem"))
        if launch_spec.get("nrps"):
            launch.set_nrps(f"{STATE['issuer']}/memberships/{launch_spec.get('context_id') or 'curso'}")
        if launch_spec.get("extra_claims"):
            launch.set_extra_claims(launch_spec["extra_claims"])
        try:
            page = launch.lti_launch()
        except Exception as exc:  # noqa: BLE001 - the test reads the reason
            return self._send(400, {"error": f"{type(exc).__name__}: {exc}"})
        return self._send(200, page, content_type="text/html")

    # -- dynamic registration ------------------------------------------------------------------------
    def _openid_configuration(self):
        issuer = STATE["issuer"]
        return self._send(200, {
            "issuer": STATE["dynreg"].get("issuer") or issuer,
            "authorization_endpoint": f"{issuer}/auth", "token_endpoint": f"{issuer}/token",
            "jwks_uri": f"{issuer}/jwks", "registration_endpoint": f"{issuer}/register",
            "token_endpoint_auth_methods_supported": ["private_key_jwt"],
            "token_endpoint_auth_signing_alg_values_supported": ["RS256"],
            "scopes_supported": ["openid", "https://purl.imsglobal.org/spec/lti-ags/scope/score",
                                 "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"],
            "response_types_supported": ["id_token"], "subject_types_supported": ["public", "pairwise"],
            "id_token_signing_alg_values_supported": ["RS256"], "claims_supported": ["sub", "iss", "name", "email"],
            "https://purl.imsglobal.org/spec/lti-platform-configuration": {
                "product_family_code": "moodle", "version": "4.3",
                "messages_supported": [{"type": "LtiResourceLinkRequest"}, {"type": "LtiDeepLinkingRequest"}]},
        })

    def _register(self, body: dict):
        spec = STATE["dynreg"]
        if (self.headers.get("Authorization") or "") != f"Bearer {spec.get('token')}":
            return self._send(401, {"error": "invalid registration token"})
        if spec.get("fail"):
            return self._send(400, {"error": "invalid_client_metadata", "error_description": spec["fail"]})
        tool = body.get("https://purl.imsglobal.org/spec/lti-tool-configuration") or {}
        missing = [k for k in ("redirect_uris", "initiate_login_uri", "jwks_uri", "client_name", "scope") if not body.get(k)]
        missing += [k for k in ("domain", "target_link_uri", "messages", "claims") if not tool.get(k)]
        if missing or body.get("token_endpoint_auth_method") != "private_key_jwt":
            return self._send(400, {"error": "invalid_client_metadata", "error_description": f"missing {missing}"})
        with LOCK:
            client_id = "dyn-" + uuid.uuid4().hex[:10]
            deployment_id = str(len(STATE["registrations"]) + 1)
            STATE["registrations"].append(body)
            STATE["client_id"], STATE["deployment_id"] = client_id, deployment_id
        answer = dict(body, client_id=client_id)
        answer["https://purl.imsglobal.org/spec/lti-tool-configuration"] = dict(
            tool, **({} if spec.get("no_deployment") else {"deployment_id": deployment_id}))
        return self._send(200, answer)

    def _deep_link_return(self, form: dict):
        conf = PlatformConf()
        conf.get_registration()
        try:
            items = conf.validate_deeplinking_resp(form)
        except Exception as exc:  # noqa: BLE001
            return self._send(400, {"error": f"{type(exc).__name__}: {exc}"})
        import jwt

        claims = jwt.decode(form["JWT"], options={"verify_signature": False})  # verified just above
        with LOCK:
            STATE["deep_link_results"].append(items)
        return self._send(200, {"content_items": items, "claims": claims})

    def _authorised(self, *scopes: str) -> bool:
        """The bearer token must be one /token issued (signed by this platform) with one of the scopes."""
        conf = PlatformConf()
        conf.get_registration()
        token = (self.headers.get("Authorization") or "").removeprefix("Bearer ").strip()
        try:
            ok = bool(token) and conf.validate_token(token, allowed_scopes=list(scopes))
        except Exception:  # noqa: BLE001
            ok = False
        if not ok:
            self._send(401, {"error": "invalid or missing access token"})
        return ok

    def _ags_post(self, path: str, body: dict):
        parts = path.strip("/").split("/")  # lineitems/<context>[/<n>/scores]
        with LOCK:
            if len(parts) == 2:
                if not self._authorised("https://purl.imsglobal.org/spec/lti-ags/scope/lineitem"):
                    return None
                if body.get("scoreMaximum") is None or not body.get("label"):
                    return self._send(400, {"error": "a line item needs label and scoreMaximum"})
                item = dict(body, id=f"{STATE['issuer']}{path}/{len(STATE['lineitems']) + 1}")
                STATE["lineitems"].append(item)
                return self._send(201, item, content_type="application/vnd.ims.lis.v2.lineitem+json")
            if len(parts) == 4 and parts[3] == "scores":
                if not self._authorised("https://purl.imsglobal.org/spec/lti-ags/scope/score"):
                    return None
                lineitem = f"{STATE['issuer']}/{'/'.join(parts[:3])}"
                if not any(i["id"] == lineitem for i in STATE["lineitems"]) and lineitem != STATE.get("declared_lineitem"):
                    return self._send(404, {"error": "unknown line item"})
                if STATE.get("refuse_scores"):
                    return self._send(503, {"error": "gradebook temporarily unavailable"})
                missing = [k for k in ("userId", "activityProgress", "gradingProgress", "timestamp") if k not in body]
                if missing:
                    return self._send(400, {"error": f"missing {missing}"})
                STATE["scores"].append(dict(body, lineitem=lineitem))
                return self._send(204, "", content_type="text/plain")
        return self._send(404, {"error": "not found"})

    def _token(self, form: dict):
        conf = PlatformConf()
        conf.get_registration()
        try:
            token = conf.get_access_token(form)
        except Exception as exc:  # noqa: BLE001
            return self._send(400, {"error": f"{type(exc).__name__}: {exc}"})
        with LOCK:
            STATE["token_requests"].append(form.get("scope"))
        return self._send(200, token)


def main() -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    STATE["issuer"] = f"http://127.0.0.1:{server.server_port}"
    key = new_key()
    STATE["signing"], STATE["published"] = key, [key]
    print(f"READY {STATE['issuer']}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    sys.exit(0)


if __name__ == "__main__":
    main()
