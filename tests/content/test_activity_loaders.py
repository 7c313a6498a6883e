"""Question banks, quizzes, rubrics, scenarios and certifications as content files."""
from __future__ import annotations

import shutil

import pytest
from sqlalchemy import select

from lms.certification.models import CertificationDefinition
from lms.content import check, sync
from lms.quizzes.models import Question, QuestionVersion, Quiz
from lms.roleplays.models import Rubric, RubricVersion, Scenario
from tests.conftest import TEST_CONTENT
from tests.content.test_loader import edit, messages


@pytest.fixture
def tree(tmp_path):
    shutil.copytree(TEST_CONTENT, tmp_path / "content")
    return tmp_path / "content"


def test_sync_loads_everything_and_is_idempotent(session, tree):
    problems, report = sync(session, tree)
    assert not problems
    assert report.created["questions"] == 7 and report.created["quizzes"] == 2
    assert report.created["rubrics"] == 1 and report.created["scenarios"] == 1 and report.created["certifications"] == 1
    _, again = sync(session, tree)
    assert not again.changed, again.lines()
    quiz = session.scalar(select(Quiz).where(Quiz.slug == "evaluacion-a"))
    assert quiz.module_slug == "semana-a" and quiz.settings["pass_mark"] == 80
    assert quiz.settings["draw"] == [{"questions": ["chat-30"]}, {"bank": "tiempos", "count": 1, "tags": ["semana-a"]}]
    assert quiz.settings["review"]["correct_answers"] == "after_close"
    scenario = session.scalar(select(Scenario).where(Scenario.slug == "chat-retraso"))
    assert scenario.situation == "Ana escribe por chat." and scenario.data["escalation"]["level"] == 2
    cert = session.scalar(select(CertificationDefinition))
    assert cert.validity_months == 12 and [r["type"] for r in cert.requirements] == ["lessons_completed", "quiz_passed", "roleplay_grade", "coverage"]


def test_editing_a_question_adds_a_version_and_keeps_the_old_one(session, tree):
    sync(session, tree)
    edit(tree / "quizzes/banks/tiempos.yaml", "text: ¿En cuánto tiempo se responde un chat?", "text: ¿En cuánto tiempo respondes un chat?")
    _, report = sync(session, tree)
    assert report.updated == {"questions": 1}
    question = session.scalar(select(Question).where(Question.slug == "chat-30"))
    versions = session.scalars(select(QuestionVersion).where(QuestionVersion.question_id == question.id).order_by(QuestionVersion.version)).all()
    assert question.current_version == 2
    assert [v.data["text"] for v in versions] == ["¿En cuánto tiempo se responde un chat?", "¿En cuánto tiempo respondes un chat?"]


def test_editing_a_rubric_adds_a_version(session, tree):
    sync(session, tree)
    edit(tree / "roleplays/rubrics/comunicacion.yaml", "1: Responde tarde.", "1: Responde fuera del tiempo estándar.")
    _, report = sync(session, tree)
    assert report.updated == {"rubrics": 1}
    rubric = session.scalar(select(Rubric))
    assert rubric.current_version == 2
    assert len(session.scalars(select(RubricVersion).where(RubricVersion.rubric_id == rubric.id)).all()) == 2


@pytest.mark.parametrize(
    ("path", "old", "new", "expected"),
    [
        # a key that contradicts its cited quote (the number is not in the source)
        ("quizzes/banks/tiempos.yaml", "      - text: Menos de 30 segundos\n        correct: true",
         "      - text: Menos de 20 segundos\n        correct: true",
         "quizzes/banks/tiempos.yaml:4: question 'chat-30': the key states 20 but no cited quote says 20"),
        ("quizzes/banks/tiempos.yaml", "answer: 80", "answer: 90", "question 'nivel1-numero': the key states 90"),
        ("quizzes/banks/tiempos.yaml", "text: El email se responde en menos de 2 horas.", "text: El email se responde en menos de 4 horas.",
         "question 'email-vf': the key states 4"),
        ("quizzes/banks/tiempos.yaml", "      - text: Menos de 2 horas\n", "      - text: Menos de 2 horas\n        correct: true\n",
         "a single_choice question needs exactly one correct choice, has 2"),
        ("quizzes/banks/tiempos.yaml", "type: ordering", "type: sorting", "unknown type 'sorting'"),
        ("quizzes/banks/tiempos.yaml", "formula: resueltos / total * 100", "formula: resueltos / total * 100 + __import__('os')",
         "question 'calc-porcentaje': Call is not allowed"),
        ("quizzes/banks/tiempos.yaml", "formula: resueltos / total * 100", "formula: resueltos / totales * 100",
         "question 'calc-porcentaje': unknown variable 'totales'"),
        ("quizzes/banks/tiempos.yaml", "constraints: [resueltos <= total]", "constraints: [resueltos > 500]",
         "no numbers meeting the constraints"),
        ("quizzes/banks/tiempos.yaml", "rubric: comunicacion", "rubric: no-existe", "question 'redactar': unknown rubric 'no-existe'"),
        ("quizzes/banks/tiempos.yaml", "        type: short_text", "        type: essay", "parts[1]: type 'essay' cannot be a scenario part"),
        ("quizzes/evaluacion-a.yaml", "    count: 1", "    count: 5", "quizzes/evaluacion-a.yaml:7: draw[2]: wants 5 questions but bank 'tiempos' has only 1 with tags ['semana-a']"),
        ("quizzes/evaluacion-a.yaml", "questions: [chat-30]", "questions: [chat-99]", "draw[1]: unknown question 'chat-99'"),
        ("quizzes/evaluacion-a.yaml", "module: semana-a", "module: semana-z", "quizzes/evaluacion-a.yaml:3: unknown module 'semana-z'"),
        ("quizzes/evaluacion-a.yaml", "day: 4", "day: 6", "day 6 falls after the module's due day in track 'corto'"),
        ("quizzes/evaluacion-a.yaml", "pass_mark: 80", "pass_mark: 180", "'pass_mark' must be a percentage between 1 and 100"),
        ("roleplays/rubrics/comunicacion.yaml", "      4: Responde a tiempo, saluda y usa el nombre.\n", "",
         "criterion 'tiempo': 'levels' needs a descriptor for each level 0, 1, 2, 3 and 4"),
        ("roleplays/rubrics/comunicacion.yaml", "    pass_level: 2\n", "", "criterion 'tiempo' is critical: say its 'pass_level'"),
        ("roleplays/chat-retraso.md", "mode: chat", "mode: surge", "surge mode needs 2 or 3 customers"),
        ("roleplays/chat-retraso.md", "type: frustrado", "type: enfadado", "'type' must be one of satisfecho, frustrado, confundido, exigente"),
        ("roleplays/chat-retraso.md", "rubric: comunicacion", "rubric: otra", "roleplays/chat-retraso.md:34: unknown rubric 'otra'"),
        ("roleplays/chat-retraso.md", "## Respuesta modelo", "## Otra cosa", "the body needs a non-empty '## Respuesta modelo' section"),
        ("roleplays/chat-retraso.md", "  level: 2\n", "", "a required escalation needs its 'level' and 'destination'"),
        ("courses/certifications/proceso.yaml", "quiz: evaluacion-a", "quiz: evaluacion-z", "requirements[2]: unknown quiz 'evaluacion-z'"),
        ("courses/certifications/proceso.yaml", "scenarios: [chat-retraso]", "scenarios: [nada]", "requirements[3]: unknown scenario 'nada'"),
        ("courses/certifications/proceso.yaml", "channels: [chat]", "channels: [fax]", "unknown channel 'fax'"),
        ("courses/certifications/proceso.yaml", "area: proceso", "area: ventas", "'area' must be one of"),
        ("courses/certifications/proceso.yaml", "quiz: repaso", "quiz: repasox",
         "courses/certifications/proceso.yaml:23: recertification.requirements[1]: unknown quiz 'repasox'"),
        ("courses/certifications/proceso.yaml", "    - type: quiz_passed\n      quiz: repaso", "    - type: lessons_completed\n      modules: [semana-a]",
         "recertification.requirements[1]: unknown type 'lessons_completed' (known: quiz_passed, roleplay_grade, coverage)"),
        ("courses/certifications/proceso.yaml", "  window_days: 60", "  window_days: soon", "recertification: 'window_days' must be"),
    ],
)
def test_problems_are_reported_with_file_and_line(tree, path, old, new, expected):
    edit(tree / path, old, new)
    found = messages(check(tree))
    assert any(expected in m for m in found), found


def test_invalid_quiz_content_writes_nothing(session, tree):
    edit(tree / "quizzes/banks/tiempos.yaml", "answer: 80", "answer: 90")
    problems, report = sync(session, tree)
    assert problems and not report.changed
    assert session.scalar(select(Question)) is None


def test_revision_impact_lists_what_cites_a_changed_section_and_the_certifications_on_it(app, session, tree):
    sync(session, tree)
    session.commit()
    runner = app.test_cli_runner()
    result = runner.invoke(args=["content", "check", "--root", str(tree)])
    assert result.exit_code == 0 and "Revision impact" not in result.output
    # the handbook is revised: the resolution target changes wording
    edit(tree / "courses/reference/manual/01-estandares.md", "- **Nivel 1**: 80% resuelto en 24 horas",
         "- **Nivel 1**: 80% resuelto en 24 horas\n- **Nivel 2**: 80% resuelto en 72 horas")
    result = runner.invoke(args=["content", "check", "--root", str(tree)])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    revised = [line for line in lines if "revised: manual/estandares#resolucion" in line]
    assert revised and all(item in revised[0] for item in (
        "lesson a-dos", "question nivel1-numero", "question calc-porcentaje", "scenario chat-retraso", "certification proceso"))
    parent = [line for line in lines if "revised: manual/estandares#estandares-de-tiempo" in line]
    assert parent and "lesson b-uno" in parent[0]  # a parent section's text includes its subsections
    assert any(line.strip().startswith("rests on them:") and "certification proceso" in line for line in lines)
    assert "manual/estandares#respuesta-inicial" not in result.output  # untouched section
    # sync prints the impact once, records the new hashes, and the next check is clean
    result = runner.invoke(args=["content", "sync", "--root", str(tree)])
    assert "revised: manual/estandares#resolucion" in result.output
    result = runner.invoke(args=["content", "check", "--root", str(tree)])
    assert "Revision impact" not in result.output
