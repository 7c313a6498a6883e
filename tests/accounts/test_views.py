import io

from sqlalchemy import select

from lms.accounts.models import User
from tests.conftest import PASSWORD


def test_login_with_wrong_password_says_so_generically(client, agent):
    response = client.post("/login", data={"email": agent.email, "password": "nope nope"})
    assert response.status_code == 200
    assert "Correo o contraseña incorrectos." in response.get_data(as_text=True)
    response = client.post("/login", data={"email": "nadie@example.com", "password": "nope nope"})
    assert "Correo o contraseña incorrectos." in response.get_data(as_text=True)


def test_login_redirects_only_to_local_next(client, agent):
    response = client.post("/login?next=https://evil.example/x", data={"email": agent.email, "password": PASSWORD})
    assert response.headers["Location"] == "/"
    client.post("/logout")
    response = client.post("/login?next=/tracks", data={"email": agent.email, "password": PASSWORD})
    assert response.headers["Location"] == "/tracks"


def test_logout_ends_the_session_on_the_server(client, auth, agent):
    auth.login_as(agent)
    cookie = client.get_cookie("session")
    assert client.get("/account").status_code == 200
    auth.logout()
    # replay the cookie captured before logout: it no longer works
    client.set_cookie("session", cookie.value)
    response = client.get("/account")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_password_change_requires_the_current_password(client, auth, agent, session):
    auth.login_as(agent)
    response = client.post("/account", data={"pw-current_password": "wrong one", "pw-new_password": "nueva frase larga", "pw-confirm": "nueva frase larga"})
    assert "La contraseña actual no es correcta." in response.get_data(as_text=True)
    response = client.post("/account", data={"pw-current_password": PASSWORD, "pw-new_password": "nueva frase larga", "pw-confirm": "nueva frase larga"})
    assert response.status_code == 302
    assert client.get("/account").status_code == 200  # this browser stays signed in
    client.post("/logout")
    assert auth.login(agent.email, "nueva frase larga").status_code == 302


def test_admin_creates_user_and_resets_password(client, auth, admin, team, session):
    auth.login_as(admin)
    response = client.post("/admin/users/new", data={
        "email": "nuevo@example.com", "name": "Nuevo", "role": "agent", "password": "frase de inicio", "teams": [team.id],
    })
    assert response.status_code == 302
    user = session.scalar(select(User).where(User.email == "nuevo@example.com"))
    assert user is not None and user.role == "agent"
    page = client.post(f"/admin/users/{user.id}/reset-password", follow_redirects=True).get_data(as_text=True)
    assert "Nueva contraseña para nuevo@example.com" in page


def test_admin_user_form_reports_bad_input_without_saving(client, auth, admin, session):
    auth.login_as(admin)
    page = client.post("/admin/users/new", data={"email": "x@example.com", "name": "X", "role": "agent", "password": "corta"}).get_data(as_text=True)
    assert "al menos 8 caracteres" in page
    assert session.scalar(select(User).where(User.email == "x@example.com")) is None


def test_admin_csv_upload_reports_lines(client, auth, admin, session):
    auth.login_as(admin)
    data = {"file": (io.BytesIO(b"email,name,role\nok@example.com,Ok,agent\nmal,Mal,agent\n"), "users.csv")}
    page = client.post("/admin/users/import", data=data, content_type="multipart/form-data").get_data(as_text=True)
    assert "No se ha importado nada" in page and "«mal» no es una dirección de correo válida." in page
    assert session.scalar(select(User).where(User.email == "ok@example.com")) is None
    data = {"file": (io.BytesIO(b"email,name,role\nok@example.com,Ok,agent\nmal,Mal,agent\n"), "users.csv"), "skip_invalid": "y"}
    page = client.post("/admin/users/import", data=data, content_type="multipart/form-data").get_data(as_text=True)
    assert "1 fila importada" in page
    assert session.scalar(select(User).where(User.email == "ok@example.com")) is not None


def test_deactivating_a_user_ends_their_sessions(app, client, auth, admin, agent):
    other = app.test_client()
    from tests.conftest import AuthActions
    AuthActions(other).login_as(agent)
    assert other.get("/account").status_code == 200
    auth.login_as(admin)
    client.post(f"/admin/users/{agent.id}", data={"name": agent.name, "role": "agent"})  # is_active unchecked
    assert other.get("/account").status_code == 302


def test_admin_cannot_demote_themself(client, auth, admin):
    auth.login_as(admin)
    page = client.post(f"/admin/users/{admin.id}", data={"name": admin.name, "role": "agent", "is_active": "y"}, follow_redirects=True).get_data(as_text=True)
    assert "No puedes quitarte a ti mismo" in page


def test_csrf_is_required_when_enabled(app, agent):
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        client = app.test_client()
        response = client.post("/login", data={"email": agent.email, "password": PASSWORD})
        assert response.status_code == 400
        page = client.get("/login").get_data(as_text=True)
        token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
        response = client.post("/login", data={"email": agent.email, "password": PASSWORD, "csrf_token": token})
        assert response.status_code == 302
    finally:
        app.config["WTF_CSRF_ENABLED"] = False


def test_admin_adds_and_removes_team_members(client, auth, admin, team, make_user, session):
    from lms.accounts import services

    newcomer = make_user("trainer")
    auth.login_as(admin)
    page = client.post(f"/admin/teams/{team.id}/members", data={"email": newcomer.email}, follow_redirects=True).get_data(as_text=True)
    assert "añadido a Equipo Norte" in page
    assert newcomer.id in [u.id for u in services.team_members(session, team, "trainer")]
    page = client.post(f"/admin/teams/{team.id}/members", data={"email": "nadie@example.com"}, follow_redirects=True).get_data(as_text=True)
    assert "No existe ningún usuario" in page
    client.post(f"/admin/teams/{team.id}/members/{newcomer.id}/remove")
    session.expire_all()
    assert services.team_members(session, team, "trainer") == []
