"""The synthetic organisation generator writes a coherent organisation that the pages can read."""
from sqlalchemy import func, select

from lms.accounts.models import User
from lms.content import sync
from lms.core.clock import now_utc
from lms.demo.generate import Sizes, generate
from lms.quizzes.models import QuizAttempt
from tests.conftest import PROJECT, AuthActions


def test_generate_a_small_organisation_and_open_its_dashboard(app, session):
    problems, _ = sync(session, PROJECT)
    assert not problems
    counts = generate(session, Sizes(agents=60, teams=6, attempts=600, submissions=80), now=now_utc(), seed=3, prefix="t")
    session.commit()
    assert counts["teams"] == 6 and counts["users"] == 60 + 2 * 1 and counts["quiz_attempts"] == 600
    assert counts["roleplay_submissions"] == 80 == counts["roleplay_grades"] and counts["lesson_completions"] > 0
    assert session.scalar(select(func.count()).select_from(QuizAttempt)) == 600
    manager = session.scalar(select(User).where(User.email == "t-gerente1@example.com"))
    client = app.test_client()
    response = client.post("/login", data={"email": manager.email, "password": "org-synthetic-2026"})
    assert response.status_code == 302
    page = client.get("/manage/dashboard/").get_data(as_text=True)
    assert page.count("<tr>") >= 60 and "Embudo de certificación" in page
    assert client.get("/manage/dashboard/export.csv").status_code == 200
    AuthActions(client).logout()
    # the app goes on creating rows after the generator's explicit ids (PostgreSQL sequences moved past them)
    from lms.accounts import services as accounts

    accounts.create_team(session, "Equipo creado después")
    accounts.create_user(session, email="despues@example.com", name="Después", role="agent")
    session.commit()


def test_the_criterion_summaries_migration_backfills_what_the_site_keeps(databases, tmp_path):
    """Released grades written before the summaries existed: downgrading past the migration and upgrading again
    backfills exactly the rows the generator's rebuild (the site's own function) wrote."""
    from lms.core.db import Database
    from lms.migrations import downgrade, upgrade
    from lms.roleplays.models import CriterionSummary
    from tests.core.fault_setup import make_test_app

    url = databases.create("criterionbackfill")
    app = make_test_app(url, tmp_path)
    db = Database(url)

    def rows():
        with db.sessionmaker() as s:
            return sorted(s.execute(select(CriterionSummary.user_id, CriterionSummary.rubric_version_id, CriterionSummary.criterion_id,
                                           CriterionSummary.level_sum, CriterionSummary.grades)).all())

    try:
        with app.app_context(), db.sessionmaker() as session:
            sync(session, PROJECT)
            generate(session, Sizes(agents=30, teams=3, attempts=60, submissions=120), now=now_utc(), seed=5, prefix="m")
            session.commit()
        kept = rows()
        assert len({r.user_id for r in kept}) > 10 and sum(r.grades for r in kept) > 120  # several criteria per grade
        db.engine.dispose()
        downgrade(url, "8a1e0b7c2d04")
        upgrade(url)
        assert rows() == kept
    finally:
        db.engine.dispose()
