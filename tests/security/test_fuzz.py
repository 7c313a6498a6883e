"""Fuzzing (hypothesis): the Markdown sanitizer and every importer, with arbitrary text and with valid
samples mutated at random.

The sanitizer's output never holds a script, an event handler or a dangerous URL. An importer either
returns its result or reports the problem the way it documents (GIFT/Aiken: ``ImportReport.errors``;
CSV imports: ``CsvImportResult.errors``; content files: ``ContentFileError`` / the problems of
``content.check``): any other exception fails the test.
"""
from __future__ import annotations

import shutil

from flask_babel.speaklater import LazyString
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lms.accounts import services as accounts
from lms.content import check as content_check
from lms.content.files import ContentFileError, parse_yaml, read_front_matter
from lms.core.clock import now_utc
from lms.core.markdown import render_markdown
from lms.quizzes.formats import ImportReport, detect_format, read_questions
from lms.tracks import services as tracks
from tests.conftest import TEST_CONTENT
from tests.security.xss_corpus import PAYLOADS, html_problems

FAST = settings(max_examples=150, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
DB = settings(max_examples=40, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
FILES = settings(max_examples=30, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])

# Strategies ------------------------------------------------------------------------------------------------

_TOKENS = ["<", ">", "</", "/>", '"', "'", "=", " ", "\t", "\n", "\x00", "&", "&#", "&#x", ";", ":", "(", ")", "[", "]", "!", "`",
           "<!--", "-->", "<![CDATA[", "]]>", "script", "SCRIPT", "img", "svg", "iframe", "a", "href", "src", "onerror", "onload",
           "ONCLICK", "style", "javascript", "java\tscript", "JaVaScRiPt", "vbscript", "data", "text/html", "base64", "alert(1)",
           "expression", "url", "x", "xlink:href", "formaction", "object", "embed", "math", "mglyph", "noscript", "template",
           "#", "*", "_", "{{", "}}", "%", "\u202e", "\u00a0", "é"]
html_ish = st.lists(st.sampled_from(_TOKENS) | st.text(max_size=4), max_size=60).map("".join)


@st.composite
def mutated(draw, samples: list[str]):
    """A valid sample with a few random edits: deleted, duplicated, swapped or inserted pieces."""
    text = draw(st.sampled_from(samples))
    for _ in range(draw(st.integers(1, 4))):
        if not text:
            text = draw(st.text(max_size=20))
            continue
        i = draw(st.integers(0, len(text)))
        j = draw(st.integers(i, min(len(text), i + 40)))
        op = draw(st.sampled_from(["delete", "insert", "duplicate", "swap-lines", "replace"]))
        if op == "delete":
            text = text[:i] + text[j:]
        elif op == "insert":
            text = text[:i] + draw(st.text(max_size=12) | st.sampled_from(_TOKENS + PAYLOADS)) + text[i:]
        elif op == "duplicate":
            text = text[:j] + text[i:j] + text[j:]
        elif op == "replace":
            text = text[:i] + draw(st.sampled_from(["{", "}", "=", "~", "#", ":", "-", "\n", "\n\n", ",", ";", '"', "---"])) + text[j:]
        else:
            lines = text.split("\n")
            a, b = draw(st.integers(0, len(lines) - 1)), draw(st.integers(0, len(lines) - 1))
            lines[a], lines[b] = lines[b], lines[a]
            text = "\n".join(lines)
    return text


# Markdown ----------------------------------------------------------------------------------------------------

def _unsafe(text: str) -> list[str]:
    html = str(render_markdown(text))
    return html_problems(html, payloads=[], check_injection=False)


@FAST
@given(st.text(max_size=300))
def test_markdown_output_is_safe_for_any_text(text):
    assert _unsafe(text) == []


@FAST
@given(html_ish)
def test_markdown_output_is_safe_for_html_like_soup(text):
    assert _unsafe(text) == []


@FAST
@given(mutated(PAYLOADS))
def test_markdown_output_is_safe_for_mutated_payloads(text):
    assert _unsafe(text) == []


# GIFT and Aiken ------------------------------------------------------------------------------------------------

GIFT_SAMPLES = [
    """// id: chat-30
// tags: semana-a
// source: manual/estandares#respuesta-inicial | Chat: Menos de 30 segundos
$CATEGORY: $course$/Tiempos

::Chat::¿En cuánto tiempo se responde un chat? {
  =Menos de 30 segundos#Correcto
  ~Menos de 2 horas#No
  ~Menos de 1 hora
  ####El manual fija 30 segundos.
}

::VF::El email se responde en menos de 2 horas. {TRUE#Sí####Así lo dice el manual.}

::Num::¿Qué porcentaje de casos de nivel 1 se resuelve en 24 horas? {#80:0.5}

::Multi::Elige los canales escritos. {
  ~%50%Chat
  ~%50%Email
  ~%-100%Teléfono
}

::Corta::¿Cuántos segundos? {=30 =treinta}

::Empareja::Relaciona. {
  =Chat -> 30 segundos
  =Email -> 2 horas
}

::Ensayo::[markdown]Escribe la **respuesta**. {}

::Rango::Un número {#1..10}
""",
    "Pregunta con \\{llaves\\} y \\= escapadas {=sí ~no}\n\n::T::[html]<b>negrita</b> {T}\n",
]
AIKEN_SAMPLES = [
    """¿En cuánto tiempo se responde un chat?
A. Menos de 30 segundos
B. Menos de 2 horas
C) Menos de 1 hora
ANSWER: A

El email se responde en...
A. menos de 2 horas
B. menos de 1 día
ANSWER: B
""",
]


def _read(text: str, fmt: str) -> ImportReport:
    report = read_questions(text, fmt)
    assert isinstance(report, ImportReport)
    for line, message in report.errors:
        # messages are translated when shown (lazy strings): in the reader's language, never empty
        assert isinstance(line, int) and isinstance(message, (str, LazyString)) and str(message)
    for question in report.questions:
        assert question["id"] and "type" in question
    return report


def test_the_samples_are_valid():
    for sample in GIFT_SAMPLES:
        report = _read(sample, "gift")
        assert report.questions and not report.errors, report.errors
    for sample in AIKEN_SAMPLES:
        report = _read(sample, "aiken")
        assert len(report.questions) == 2 and not report.errors, report.errors


@FAST
@given(st.text(max_size=400) | html_ish)
def test_gift_and_aiken_read_any_text(text):
    _read(text, "gift")
    _read(text, "aiken")
    detect_format("x.txt", text)


@FAST
@given(mutated(GIFT_SAMPLES))
def test_gift_reads_mutated_files(text):
    _read(text, "gift")


@FAST
@given(mutated(AIKEN_SAMPLES))
def test_aiken_reads_mutated_files(text):
    _read(text, "aiken")


# CSV imports ---------------------------------------------------------------------------------------------------

USER_SAMPLES = ["email,name,role,team,password\nana@example.com,Ana Pérez,agent,Equipo Norte,una frase larga de verdad\n"
                "bea@example.com,Bea,trainer,Equipo Norte,\ncarla@example.com,\"Carla, la jefa\",manager,,\n",
                "email;name;role\nana@example.com;Ana;agent\n"]
ENROLL_SAMPLES = ["email,track,start_date\n{agent},corto,2026-02-02\n{agent},largo,02/03/2026\n", "email\ttrack\tstart_date\n{agent}\tcorto\t2026-01-05\n"]
csv_cells = st.text(max_size=12) | st.sampled_from(["agent", "admin", "=1+1", "\x00", "x" * 250, '"', ",", ";", "\n", "corto",
                                                  "2026-02-31", "31/12/2026", "@", "a@b.c", "ana@example.com"])
csv_soup = st.lists(st.lists(csv_cells, max_size=6).map(",".join), max_size=5).map("\n".join)


def _check_result(result):
    assert isinstance(result, accounts.CsvImportResult)
    for line, message in result.errors:
        # messages are translated when shown (lazy strings): in the reader's language, never empty
        assert isinstance(line, int) and isinstance(message, (str, LazyString)) and str(message)
    assert result.ok == (not result.errors)


def _in_savepoint(session, call):
    savepoint = session.begin_nested()
    try:
        return call()
    finally:
        if savepoint.is_active:
            savepoint.rollback()
        session.expire_all()


def test_user_csv_import_reports_problems_and_never_crashes(session, content):
    @DB
    @given(text=st.sampled_from(["email,name,role,team,password\n", "email,name,role\n"]).flatmap(lambda h: csv_soup.map(lambda b: h + b))
           | mutated(USER_SAMPLES) | st.text(max_size=200), skip=st.booleans())
    def run(text, skip):
        _check_result(_in_savepoint(session, lambda: accounts.import_users_csv(session, text, skip_invalid=skip)))

    run()


def test_enrollment_csv_import_reports_problems_and_never_crashes(session, content, agent, manager):
    samples = [s.format(agent=agent.email) for s in ENROLL_SAMPLES]

    @DB
    @given(text=csv_soup.map(lambda b: "email,track,start_date\n" + b) | mutated(samples) | st.text(max_size=200), skip=st.booleans())
    def run(text, skip):
        _check_result(_in_savepoint(session, lambda: tracks.import_enrollments_csv(session, text, actor=manager, now=now_utc(),
                                                                                   skip_invalid=skip)))

    run()


# Content files -------------------------------------------------------------------------------------------------

LESSON = (TEST_CONTENT / "courses" / "lessons" / "semana-a" / "a-uno.md").read_text(encoding="utf-8")
YAML_SAMPLES = [(TEST_CONTENT / "quizzes" / "evaluacion-a.yaml").read_text(encoding="utf-8"),
                (TEST_CONTENT / "courses" / "tracks" / "corto.yaml").read_text(encoding="utf-8"),
                (TEST_CONTENT / "courses" / "certifications" / "proceso.yaml").read_text(encoding="utf-8")]


@FAST
@given(st.text(max_size=300) | mutated(YAML_SAMPLES) | st.sampled_from(["&a [*a, *a]", "!!python/object:os.system x", "? [a]\n: b",
                                                                       "a: &x 1\nb: *y", "--- !!binary ZZZ", "{a: 1, a: 2}"]))
def test_yaml_content_is_read_or_refused_with_a_located_error(text):
    try:
        parse_yaml(text, "fuzz.yaml")
    except ContentFileError as exc:
        assert exc.error.path == "fuzz.yaml" and exc.error.line >= 1 and exc.error.message


def test_front_matter_and_whole_content_trees_are_checked_without_crashing(tmp_path):
    root = tmp_path / "content"
    shutil.copytree(TEST_CONTENT, root, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    lesson = root / "courses" / "lessons" / "semana-a" / "a-uno.md"
    quiz = root / "quizzes" / "evaluacion-a.yaml"
    original_quiz = quiz.read_text(encoding="utf-8")

    @FILES
    @given(text=mutated([LESSON]) | st.text(max_size=200), quiz_text=st.none() | mutated([original_quiz]),
           raw=st.none() | st.binary(max_size=40))
    def run(text, quiz_text, raw):
        if raw is not None:
            lesson.write_bytes(raw)
        else:
            lesson.write_text(text, encoding="utf-8")
        quiz.write_text(quiz_text if quiz_text is not None else original_quiz, encoding="utf-8")
        try:
            meta, body, line = read_front_matter(lesson, "a-uno.md")
            assert isinstance(body, str) and line >= 2
        except ContentFileError as exc:
            assert exc.error.message
        for problem in content_check(root):
            assert problem.path and problem.line >= 1 and problem.message

    run()
