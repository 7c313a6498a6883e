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
    assert services._criterion_averages(session, ids) == expected
    assert services._criterion_averages(session, ids[1:2]) == roleplays.criterion_averages(session, ids[1:2])
    assert services._criterion_averages(session, []) == []
    chart = {c.title: c for c in services.team_charts(session, agents, T0.date(), T0 + timedelta(days=2))}
    rows = dict(chart["Criterios de role-play más débiles (nivel medio, 0-4)"].rows)
    assert rows == {expected[0][0]: "2"}
    auth.login_as(manager)
    page = client.get(f"/manage/dashboard/?team={team.id}").get_data(as_text=True)
    assert "Criterios de role-play más débiles" in page and "Agente 2" in page
