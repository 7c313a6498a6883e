"""Question statistics show the stems as the agents saw them: Markdown rendered and sanitized (issue #17)."""
from __future__ import annotations

from tests.quizzes.test_manage import cohort  # noqa: F401  (the fixture)


def test_stems_and_wrong_answers_render_markdown(client, auth, trainer, session, cohort):  # noqa: F811
    _, _, attempts = cohort
    version = next(s.question_version for s in attempts[0].slots if s.question_version.data["id"] == "chat-30")
    version.data = dict(version.data, text="¿Cuál es el **tiempo** de respuesta del `chat`? <script>alert(1)</script>")
    session.commit()
    auth.login_as(trainer)
    html = client.get("/manage/quizzes/evaluacion-a").get_data(as_text=True)
    assert "<strong>tiempo</strong>" in html and "<code>chat</code>" in html
    assert "**tiempo**" not in html and "<script>alert(1)" not in html
