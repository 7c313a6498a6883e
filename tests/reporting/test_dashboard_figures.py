"""The team dashboard's figures read in SQL give what the domains' own functions give."""
from datetime import datetime, timedelta, timezone

from lms.reporting import services
from lms.roleplays import services as roleplays
from tests.api.helpers import grade, practice

T0 = datetime(2026, 1, 9, 9, 0, tzinfo=timezone.utc)


def test_weakest_criteria_match_the_role_play_averages(client, auth, session, content, team, manager, trainer, make_user):
    agents = [make_user("agent", name=f"Agente {n}", teams=[team]) for n in range(3)]
    for n, (agent, levels) in enumerate(zip(agents, ([1, 3], [4], [0, 2]))):
        for k, level in enumerate(levels):
            grade(session, practice(session, agent, T0 + timedelta(hours=n, minutes=k)), trainer, "release", level,
                  T0 + timedelta(hours=n, minutes=k + 30))
    grade(session, practice(session, agents[0], T0 + timedelta(days=1)), trainer, "draft", 0, T0 + timedelta(days=1))  # not released
    session.commit()
    ids = [a.id for a in agents]
    expected = roleplays.criterion_averages(session, ids)
    assert expected and expected[0][1:] == (2.0, 5)  # (1 + 3 + 4 + 0 + 2) / 5: the draft is not counted
    assert roleplays.summed_criterion_averages(session, ids) == expected  # the sums kept on write
    assert roleplays.summed_criterion_averages(session, ids[1:2]) == roleplays.criterion_averages(session, ids[1:2])
    assert roleplays.summed_criterion_averages(session, []) == []
    chart = {c.title: c for c in services.team_charts(session, agents, T0.date(), T0 + timedelta(days=2))}
    rows = dict(chart["Criterios de role-play más débiles (nivel medio, 0-4)"].rows)
    assert rows == {expected[0][0]: "2"}
    auth.login_as(manager)
    page = client.get(f"/manage/dashboard/?team={team.id}").get_data(as_text=True)
    assert "Criterios de role-play más débiles" in page and "Agente 2" in page


def test_criterion_sums_follow_every_change_of_a_released_grade(session, content, team, trainer, make_user):
    """Given, edited after release (with a reason), returned, released again: the per-agent sums always match the
    grades; the rebuild command's function writes the same rows."""
    from sqlalchemy import select

    from lms.roleplays.models import CriterionSummary

    agent, other = (make_user("agent", teams=[team]) for _ in range(2))
    first = grade(session, practice(session, agent, T0), trainer, "release", 1, T0)
    grade(session, practice(session, other, T0), trainer, "release", 4, T0)
    draft = grade(session, practice(session, agent, T0 + timedelta(hours=1)), trainer, "draft", 0, T0)
    ids = [agent.id, other.id]

    def sums():
        session.flush()
        return sorted(session.execute(select(CriterionSummary.user_id, CriterionSummary.criterion_id, CriterionSummary.level_sum,
                                             CriterionSummary.grades)).all())

    def check():
        assert roleplays.summed_criterion_averages(session, ids) == roleplays.criterion_averages(session, ids)
        assert roleplays.summed_criterion_averages(session, [agent.id]) == roleplays.criterion_averages(session, [agent.id])

    assert sums() == [(agent.id, "tiempo", 1, 1), (other.id, "tiempo", 4, 1)]  # the draft counts for nothing
    check()
    edit = dict(actor=trainer, comments={}, overall="", inline=[], now=T0 + timedelta(hours=2))
    roleplays.save_grade(session, roleplays.get_submission(session, first.submission_id),
                         levels={"tiempo": 3}, action="draft", expected_revision=first.revision, reason="Revisado.", **edit)
    assert sums() == [(agent.id, "tiempo", 3, 1), (other.id, "tiempo", 4, 1)]  # an edit of a released grade
    check()
    roleplays.save_grade(session, roleplays.get_submission(session, draft.submission_id), levels={"tiempo": 2}, action="release",
                         expected_revision=draft.revision, **edit)
    assert sums() == [(agent.id, "tiempo", 5, 2), (other.id, "tiempo", 4, 1)]
    check()
    roleplays.save_grade(session, roleplays.get_submission(session, first.submission_id), levels={"tiempo": 3}, action="return",
                         expected_revision=first.revision, reason="Repetir la práctica.", **edit)
    assert sums() == [(agent.id, "tiempo", 2, 1), (other.id, "tiempo", 4, 1)]  # withdrawn: returned to the agent
    check()
    before = sums()
    assert roleplays.rebuild_criterion_summaries(session) == 2 and sums() == before


def test_rubric_titles_are_read_once_per_version_content(app, session, content, team, trainer, make_user):
    """The weakest criteria's titles come from a per-process cache keyed by the rubric version's id, content hash and
    moment: warm, the sums are one statement; a version whose key differs (another database's version of the same id)
    is read again, never answered from the cache."""
    from sqlalchemy import event, select

    from lms.core.db import get_db
    from lms.roleplays.models import RubricVersion

    agent = make_user("agent", teams=[team])
    grade(session, practice(session, agent, T0), trainer, "release", 2, T0)
    session.flush()
    statements = []

    def listener(conn, cursor, statement, *args):
        if not statement.startswith(("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO SAVEPOINT")):
            statements.append(statement)

    roleplays.CRITERION_TITLES.clear()
    expected = roleplays.criterion_averages(session, [agent.id])
    assert expected and expected[0][1:] == (2.0, 1)
    engine = get_db(app).engine
    event.listen(engine, "before_cursor_execute", listener)
    try:
        cold = roleplays.summed_criterion_averages(session, [agent.id])
        warm_from = len(statements)
        warm = roleplays.summed_criterion_averages(session, [agent.id])
        counts = [warm_from, len(statements) - warm_from]
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    assert cold == warm == expected
    assert counts == [2, 1]
    # the same id with other content: its new titles, not the cached ones
    for version in session.scalars(select(RubricVersion)):
        version.data = {**version.data, "criteria": [dict(c, title=c["title"] + " (v2)") for c in version.data["criteria"]]}
        version.content_hash = "f" * 64
    session.flush()
    assert roleplays.summed_criterion_averages(session, [agent.id]) == [(expected[0][0] + " (v2)", 2.0, 1)]


def test_weakest_criteria_cached_under_the_agents_stamps_follow_every_change(app, client, auth, session, content, team, manager,
                                                                            trainer, make_user):
    """The team page caches its weakest criteria under its agents' stamps: shown again, the sums cost no statement; a
    grade released, edited or withdrawn for one of them, a rebuild, or another set of agents shows the new figures."""
    from sqlalchemy import event, select

    from lms.core.db import get_db
    from lms.roleplays.models import CriterionSummary

    agents = [make_user("agent", name=f"Agente {n}", teams=[team]) for n in range(2)]
    first = grade(session, practice(session, agents[0], T0), trainer, "release", 1, T0)
    grade(session, practice(session, agents[1], T0), trainer, "release", 3, T0)
    session.commit()
    stamps = dict(session.execute(select(CriterionSummary.user_id, CriterionSummary.stamp)).all())
    assert set(stamps) == {a.id for a in agents} and all(stamps.values())  # random, never 0
    roleplays.CRITERION_AVERAGES.clear()
    statements = []

    def listener(conn, cursor, statement, *args):
        if "sum(roleplay_criterion_summaries.level_sum)" in statement:  # the grouped sums
            statements.append(statement)

    def page():
        return client.get(f"/manage/dashboard/?team={team.id}").get_data(as_text=True)

    def weakest(html):  # the chart's table: "<th>criterion</th><td>mean</td>"
        chart = html.split("Criterios de role-play más débiles", 1)[1].split("</table>", 1)[0]
        return chart.split("<tbody>", 1)[1] if "<tbody>" in chart else chart

    auth.login_as(manager)
    engine = get_db(app).engine
    event.listen(engine, "before_cursor_execute", listener)
    try:
        shown = weakest(page())
        assert len(statements) == 1 and weakest(page()) == shown and len(statements) == 1  # shown again: from the cache
        assert ">2<" in shown  # (1 + 3) / 2
        edit = dict(actor=trainer, comments={}, overall="", inline=[], now=T0 + timedelta(hours=2))
        roleplays.save_grade(session, roleplays.get_submission(session, first.submission_id), levels={"tiempo": 4}, action="draft",
                             expected_revision=first.revision, reason="Revisado.", **edit)
        session.commit()
        assert ">3.5<" in weakest(page()) and len(statements) == 2  # an edit of a released grade: a new stamp
        roleplays.rebuild_criterion_summaries(session)
        session.commit()
        assert ">3.5<" in weakest(page()) and len(statements) == 3  # a rebuild: new stamps, summed again
        third = make_user("agent", name="Agente 3", teams=[team])
        grade(session, practice(session, third, T0), trainer, "release", 0, T0)
        session.commit()
        assert ">2.33<" in weakest(page()) and len(statements) == 4  # another set of agents
        assert weakest(page()) == weakest(page()) and len(statements) == 4
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    ids = [a.id for a in agents] + [third.id]
    assert roleplays.summed_criterion_averages(session, ids, {i: None for i in ids}) == roleplays.criterion_averages(session, ids)


def test_a_team_page_shown_again_is_computed_once_and_shows_every_change(app, client, auth, session, content, team, manager,
                                                                         trainer, admin, make_user, monkeypatch):
    """The team page keeps its rows, charts and table under the data they are computed from: shown again with nothing
    changed, nothing is summed, drawn or written again; a lesson done, a grade released, a certificate, a new name:
    each shows on the next view; the other language has charts of its own."""
    from datetime import date

    from flask_babel import force_locale
    from sqlalchemy import select

    from lms.accounts.models import User
    from lms.certification import services as certs
    from lms.reporting import table
    from lms.tracks import services as tracks

    agents = [make_user("agent", name=f"Agente {n}", teams=[team]) for n in range(2)]
    for agent in agents:
        tracks.enroll(session, actor=manager, agent=agent, track=tracks.find_track(session, "largo"), start_date=date(2026, 1, 5), now=T0)
    grade(session, practice(session, agents[0], T0), trainer, "release", 2, T0)
    session.commit()
    services.TEAM_VIEWS.clear()
    table._WRITTEN.clear()
    computed = []
    real_charts, real_rows = services.team_charts, table._agent_rows
    monkeypatch.setattr(services, "team_charts", lambda *a, **k: computed.append("charts") or real_charts(*a, **k))
    monkeypatch.setattr(table, "_agent_rows", lambda *a, **k: computed.append("rows") or real_rows(*a, **k))
    auth.login_as(manager)

    def page():
        response = client.get(f"/manage/dashboard/?team={team.id}")
        assert response.status_code == 200
        return response.get_data(as_text=True)

    def row(html, name):  # the agent's <tr>
        return html.split(f">{name}</a>", 1)[1].split("</tr>", 1)[0]

    first = page()
    assert computed == ["charts", "rows"] and page() == first and computed == ["charts", "rows"]  # shown again: kept
    assert "0%" in row(first, "Agente 1")
    tracks.complete_lesson(session, agents[1], tracks.get_lesson(session, "a-uno"), now=T0)  # a summary rewritten
    session.commit()
    second = page()
    assert second != first and "0%" not in row(second, "Agente 1").split("</progress>", 1)[0]
    grade(session, practice(session, agents[1], T0), trainer, "release", 4, T0)  # a released score
    session.commit()
    third = page()
    assert row(third, "Agente 1") != row(second, "Agente 1") and "100%" in row(third, "Agente 1")
    assert ">0</a>" in row(third, "Agente 0").split("<td>")[-2]  # no certificate yet
    certs.issue_manually(session, certs.get_definition(session, "proceso"), agents[0], actor=admin, reason="Prueba", now=T0)
    session.commit()
    assert ">1</a>" in row(page(), "Agente 0").split("<td>")[-2]  # a certificate
    agents[0].name = "Agente Cero"
    session.commit()
    assert ">Agente Cero</a>" in page() and ">Agente 0</a>" not in page()  # a new name
    before = len(computed)
    page(), page()
    assert len(computed) == before  # and kept again
    # the other language: its own charts (their titles), the same figures
    read = services.first_agents(session, select(User.id, User.name).where(User.id.in_([a.id for a in agents])).subquery(),
                                 T0, 10)
    charts = {}
    for language in ("es", "en", "es"):
        with app.test_request_context("/"), force_locale(language):
            charts.setdefault(language, []).append(services.dashboard_with_charts(session, read, date(2026, 1, 20), T0)[1])
    assert [c.title for c in charts["en"][0]][0] == "Group progress against plan (%)"
    assert [c.title for c in charts["es"][0]][0] == "Avance del grupo frente a lo previsto (%)" and charts["es"][1] is charts["es"][0]
    assert [[v for _l, v in c.rows] for c in charts["en"][0]] == [[v for _l, v in c.rows] for c in charts["es"][0]]
