from lms.accounts import services
from lms.core.clock import now_utc


def test_create_user_command(app, session):
    result = app.test_cli_runner().invoke(args=[
        "users", "create", "--email", "first.admin@example.com", "--name", "First", "--role", "admin", "--password", "frase inicial larga",
    ])
    assert result.exit_code == 0, result.output
    user = services.find_user_by_email(session, "first.admin@example.com")
    assert user.role == "admin"
    assert services.authenticate(session, user.email, "frase inicial larga", now=now_utc()) is not None


def test_create_user_command_refuses_weak_password(app, session):
    result = app.test_cli_runner().invoke(args=[
        "users", "create", "--email", "w@example.com", "--name", "W", "--role", "agent", "--password", "123456",
    ])
    assert result.exit_code != 0 and "al menos 8" in result.output
    assert services.find_user_by_email(session, "w@example.com") is None


def test_import_command_reports_file_and_line(app, session, tmp_path):
    path = tmp_path / "users.csv"
    path.write_text("email,name,role\nbien@example.com,Bien,agent\nmal@,Mal,agent\n", encoding="utf-8")
    result = app.test_cli_runner().invoke(args=["users", "import", str(path)])
    assert result.exit_code == 1
    assert f"{path}:3:" in result.output and "nothing imported" in result.output
    assert services.find_user_by_email(session, "bien@example.com") is None
    result = app.test_cli_runner().invoke(args=["users", "import", str(path), "--skip-invalid"])
    assert result.exit_code == 0 and "imported 1 user(s), skipped 1 bad row(s)" in result.output


def test_reset_password_command(app, session, agent):
    result = app.test_cli_runner().invoke(args=["users", "reset-password", agent.email])
    assert result.exit_code == 0
    new_password = result.output.strip().rsplit(": ", 1)[1]
    session.expire_all()
    assert services.authenticate(session, agent.email, new_password, now=now_utc()) is not None
    result = app.test_cli_runner().invoke(args=["users", "reset-password", "nadie@example.com"])
    assert result.exit_code != 0 and "no user" in result.output


def test_teams_commands(app, session, agent):
    runner = app.test_cli_runner()
    assert runner.invoke(args=["teams", "create", "Soporte Lima"]).exit_code == 0
    result = runner.invoke(args=["teams", "add", "Soporte Lima", agent.email])
    assert result.exit_code == 0, result.output
    team = services.find_team_by_name(session, "Soporte Lima")
    assert [u.id for u in services.team_members(session, team, "agent")] == [agent.id]
