"""What the pilot week found in the lessons, held: the 24-hour boundary, the weekly report called what it is (a
simulation), and the 30-second greeting not stretched over e-mail."""
from __future__ import annotations

import re

import yaml

from tests.conftest import PROJECT

LESSONS = PROJECT / "courses" / "lessons"


def _flat(text: str) -> str:
    return " ".join(text.replace("**", "").split())


def test_exactly_24_hours_is_not_more_than_24_hours():
    text = _flat((LESSONS / "semana-2-practica" / "s2-estandares-de-tiempo.md").read_text(encoding="utf-8"))
    assert "ya superó las 24 horas" not in text
    assert "lleva exactamente 24 horas, y el manual dice «> 24 horas», así que todavía no se cumple" in text


def test_no_lesson_calls_the_simulated_weekly_report_real():
    real = re.compile(r"(documento|informe|ejemplo) (semanal )?real\b|informe semanal real", re.IGNORECASE)
    for path in LESSONS.rglob("*.md"):
        text = _flat(path.read_text(encoding="utf-8"))
        if "informe semanal" in text.lower():
            assert not real.search(text), (path.name, real.search(text).group(0))
    reading = _flat((LESSONS / "mes-2-especializacion" / "m2-lectura-de-informe-semanal.md").read_text(encoding="utf-8"))
    assert "Es una simulación" in reading and "Simulación de actividades y registro semanal" in reading


def test_the_30_second_greeting_is_not_a_rule_for_every_channel():
    for path in LESSONS.rglob("*.md"):
        front = yaml.safe_load(path.read_text(encoding="utf-8").split("---")[1])
        for rule in front.get("house_rules") or []:
            text = _flat(rule["text"])
            if "30 segundos" in text:
                assert "todos los canales" not in text, path.name
    channels = (LESSONS / "semana-1-fundamentos" / "s1-canales-de-atencion.md").read_text(encoding="utf-8")
    assert "email «Menos de 2 horas»" in _flat(channels)
