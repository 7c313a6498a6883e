"""GIFT and Aiken, as Moodle writes and reads them; the whole bank round-trips."""
from __future__ import annotations

import yaml

from lms.content import sync
from lms.quizzes import staff
from lms.quizzes.formats import aiken, bank_yaml, detect_format, gift
from lms.quizzes.question_types import REGISTRY
from tests.conftest import PROJECT

MOODLE_SAMPLE = r"""
// question: 1 name: Grant's tomb
::Grant::Who's buried in Grant's tomb?{~Grant ~Jefferson =no one}

$CATEGORY: tom/soporte/Tiempos

// true/false in its spellings
::TF1:: Grant is buried in Grant's tomb.{F}

::TF2:: The sun rises in the east.{TRUE#No, it rises in the east.#Right.}

::TF3:: Water is wet.{T}

::Short::Two plus two equals {=four =4}

::Wild::Name the technique {=parafrase* =paraphrase}

::Match:: Match the channel with its standard. {
 =Chat -> 30 s
 =Email -> 2 h
 = -> 1 semana
}

::Missing:: Moodle costs {~lots of money =nothing ~a small amount} to download.

::Num1:: When was Ulysses S. Grant born?{#1822}

::Num2:: What is pi to two decimals?{#3.14:0.005}

::Range:: Pick a number from 1 to 5 {#1..5}

::Several:: When was Grant born? {#
  =1822:0
  =%50%1821:2
}

::Weights:: Which are primes? {
 ~%50%2#Yes
 ~%50%3
 ~%-100%4#No
}

::Feedback:: What's 2+2? {=4#Right! ~3#Off by one ~5#Too much ####Two and two make four.}

::Escapes:: Which symbol opens a block\: \{ or \}? {=\{ ~\}}

::Fmt::[markdown]**Bold** question {=yes ~no}

::Essay:: Write a short apology e-mail.{}

This line has no answers, so it is a description.
"""


def by_title(report):
    return {q["id"]: q for q in report.questions}


def test_reads_every_moodle_gift_form():
    report = gift.parse(MOODLE_SAMPLE)
    assert report.errors == []
    q = by_title(report)
    assert q["grant"]["type"] == "single_choice" and [c.get("correct", False) for c in q["grant"]["choices"]] == [False, False, True]
    assert q["tf1"] == q["tf1"] | {"type": "true_false", "answer": False}
    assert q["tf2"]["answer"] is True and q["tf3"]["answer"] is True
    assert q["short"]["type"] == "short_text" and q["short"]["answers"] == ["four", "4"]
    assert q["wild"]["answers"] == ["parafrase*", "paraphrase"]
    assert q["match"]["pairs"] == [{"left": "Chat", "right": "30 s"}, {"left": "Email", "right": "2 h"}]
    assert q["match"]["distractors"] == ["1 semana"]
    assert q["missing"]["text"] == "Moodle costs _____ to download." and q["missing"]["type"] == "single_choice"
    assert (q["num1"]["answer"], q["num1"]["tolerance"]) == (1822, 0)
    assert (q["num2"]["answer"], q["num2"]["tolerance"]) == (3.14, 0.005)
    assert (q["range"]["answer"], q["range"]["tolerance"]) == (3, 2)
    assert q["several"]["answer"] == 1822
    assert q["weights"]["type"] == "multiple_choice" and [c.get("correct", False) for c in q["weights"]["choices"]] == [True, True, False]
    assert q["weights"]["choices"][2]["feedback"] == "No"
    assert q["feedback"]["explanation"] == "Two and two make four." and q["feedback"]["choices"][1]["feedback"] == "Off by one"
    assert q["escapes"]["text"] == "Which symbol opens a block: { or }?" and q["escapes"]["choices"][0]["text"] == "{"
    assert q["fmt"]["text"] == "**Bold** question"
    assert q["essay"]["type"] == "essay"
    assert report.category == "tom/soporte/Tiempos" and "tiempos" in q["tf1"]["tags"]
    notes = " ".join(str(message) for _, message in report.notes)
    assert "descripción" in notes
    assert q["several"]["graded_answers"] == [{"answer": 1822, "tolerance": 0, "credit": 100},
                                              {"answer": 1821, "tolerance": 2, "credit": 50}]


def test_unreadable_questions_are_reported_with_their_line():
    text = "::A:: Fine {=yes ~no}\n\n::B:: Broken {~a ~b}\n\n::D:: Bad number {#abc}\n\n::C:: Unclosed {=x ~y\n"
    report = gift.parse(text)
    assert [q["id"] for q in report.questions] == ["a"]
    lines = {line: str(message) for line, message in report.errors}
    assert "no hay respuesta correcta" in lines[3] and "no es una respuesta numérica" in lines[5] and "no se cierra" in lines[7]


def test_aiken_as_moodle_reads_it():
    text = ("¿Cuál es el tiempo de respuesta del chat?\nA. Menos de 30 segundos\nB) Menos de 2 horas\nC. Menos de 1 hora\nANSWER: A\n\n"
            "Pregunta sin respuesta\nA. x\nB. y\n\nOtra\nA. uno\nB. dos\nANSWER: C\n")
    report = aiken.parse(text)
    assert len(report.questions) == 1
    q = report.questions[0]
    assert q["type"] == "single_choice" and q["choices"][0] == {"text": "Menos de 30 segundos", "correct": True}
    assert [line for line, _ in report.errors] == [7, 14]
    assert detect_format("x.txt", text) == "aiken" and detect_format("x.txt", MOODLE_SAMPLE) == "gift"


def test_the_whole_bank_round_trips_through_gift_and_aiken(session):
    problems, _ = sync(session, PROJECT)
    assert not problems
    questions = staff.exportable_questions(session)
    assert len(questions) >= 150
    text, skipped = gift.export(questions)
    report = gift.parse(text)
    assert report.errors == []
    back = {q["id"]: q for q in report.questions}
    exported = [q for q in questions if q["id"] not in skipped]
    assert {REGISTRY[q["type"]].name for q in questions if q["id"] in skipped} <= {"ordering", "calculated", "scenario", "escalation_drill"}
    assert set(back) == {q["id"] for q in exported}
    for original in exported:
        again = back[original["id"]]
        for key in ("type", "text", "explanation", "sources", "choices", "answer", "answers", "pairs", "distractors", "tolerance"):
            if key in original:
                want, got = original[key], again.get(key)
                if isinstance(want, str):
                    want, got = want.strip(), (got or "").strip()
                assert got == want, (original["id"], key)
        assert set(original.get("tags", [])) <= set(again.get("tags", []))
    # Aiken: the single-choice questions
    text, skipped = aiken.export(questions)
    report = aiken.parse(text)
    assert report.errors == []
    singles = [q for q in questions if q["type"] == "single_choice"]
    assert len(report.questions) == len(singles)
    for original, again in zip(singles, report.questions):
        assert [c["text"] for c in again["choices"]] == [" ".join(str(c["text"]).split()) for c in original["choices"]]
        assert [bool(c.get("correct")) for c in again["choices"]] == [bool(c.get("correct")) for c in original["choices"]]


def test_cli_export_then_import_writes_a_bank_file_that_loads(app, session, tmp_path):
    sync(session, PROJECT)
    session.commit()
    runner = app.test_cli_runner()
    out = tmp_path / "escalamiento.gift"
    result = runner.invoke(args=["quizzes", "export", "--format", "gift", "--bank", "escalamiento", str(out)])
    assert result.exit_code == 0, result.output
    assert "exported" in result.output
    target = tmp_path / "copia.yaml"
    result = runner.invoke(args=["quizzes", "import", str(out), "--bank", "copia", "--output", str(target)])
    assert result.exit_code == 0, result.output
    data = yaml.safe_load(target.read_text(encoding="utf-8"))
    assert data["id"] == "copia" and len(data["questions"]) >= 10 and all(q["sources"] for q in data["questions"])
    bad = tmp_path / "bad.gift"
    bad.write_text("::ok:: Fine {=a ~b}\n\n::x:: Broken {~a ~b}\n", encoding="utf-8")
    result = runner.invoke(args=["quizzes", "import", str(bad), "--output", str(tmp_path / "bad.yaml")])
    assert result.exit_code == 1 and f"{bad}:3: no hay respuesta correcta" in result.output
    assert not (tmp_path / "bad.yaml").exists()
    result = runner.invoke(args=["quizzes", "import", str(bad), "--output", str(tmp_path / "bad.yaml"), "--skip-invalid"])
    assert result.exit_code == 0 and "wrote 1 question(s)" in result.output


def test_imported_bank_yaml_is_valid_content_once_cited(tmp_path):
    report = gift.parse("// lms-source: manual/estandares#respuesta-inicial | Chat: Menos de 30 segundos\n"
                        "::chat:: ¿Tiempo de respuesta del chat? {=Menos de 30 segundos ~Menos de 2 horas ####Así lo fija el manual.}\n")
    text = bank_yaml("importado", report)
    import shutil

    from lms.content import check
    from tests.conftest import TEST_CONTENT

    tree = tmp_path / "c"
    shutil.copytree(TEST_CONTENT, tree)
    (tree / "quizzes/banks/importado.yaml").write_text(text, encoding="utf-8")
    assert [str(p) for p in check(tree)] == []
