"""Starting texts for new content in the site: one per kind, and one per question type (the form of each type)."""
from __future__ import annotations

_CITE = """sources:
  - ref: documento/capitulo#seccion
    quote: "El texto exacto del pasaje"
"""

QUESTION_TYPES = {
    "single_choice": """text: ¿Pregunta con una sola respuesta correcta?
choices:
  - text: La respuesta correcta
    correct: true
  - text: Un distractor
    feedback: Por qué no es esta.
  - text: Otro distractor
""",
    "multiple_choice": """text: ¿Pregunta con varias respuestas correctas?
choices:
  - text: Correcta
    correct: true
  - text: También correcta
    correct: true
  - text: Incorrecta
""",
    "true_false": """text: Afirmación que es verdadera o falsa.
answer: true
""",
    "matching": """text: Relaciona cada elemento con su pareja.
pairs:
  - left: Elemento A
    right: Pareja de A
  - left: Elemento B
    right: Pareja de B
""",
    "ordering": """text: Ordena los pasos.
items:
  - Primero
  - Segundo
  - Tercero
""",
    "numeric": """text: ¿Qué número…?
answer: 80
tolerance: 0
unit: "%"
""",
    "short_text": """text: ¿Qué palabra…?
answers:
  - respuesta
""",
    "calculated": """text: De {total} contactos, {resueltos} se resolvieron en el primer contacto. ¿Qué FCR es, en %?
variables:
  total: {min: 100, max: 200, step: 10}
  resueltos: {min: 50, max: 100, step: 5}
formula: resueltos / total * 100
tolerance: 0.5
decimals: 1
unit: "%"
""",
    "essay": """text: Explica…
guidance: Qué debe contener una buena respuesta (para quien corrige).
min_words: 60
""",
    "scenario": """text: Lee el caso y responde.
situation: Un cliente escribe por chat…
parts:
  - id: parte-1
    type: true_false
    text: ¿Debe escalarse?
    answer: true
  - id: parte-2
    type: single_choice
    text: ¿A qué nivel?
    choices:
      - text: Nivel 2
        correct: true
      - text: Nivel 3
""",
    "escalation_drill": """text: Decide nivel, destino, resultado, prioridad y plazo de este ticket.
ticket:
  channel: chat
  current_level: 1
  hours_since_opening: 30
  hours_at_current_level: 26
  impact: alto
  complexity: tecnico
""",
}


def question(slug: str, kind: str) -> str:
    return f"id: {slug}\ntype: {kind}\ntags: []\n" + QUESTION_TYPES[kind] + \
        "explanation: Por qué la respuesta es la correcta, con la cita.\n" + _CITE


def quiz(slug: str) -> str:
    return f"""id: {slug}
title: Nueva evaluación
description: Qué evalúa.
module: semana-1-fundamentos
day: 4
draw:
  - bank: id-del-banco
    count: 5
shuffle_questions: true
shuffle_choices: true
time_limit_minutes: 20
attempts_allowed: 3
delay_between_attempts_minutes: 0
pass_mark: 80
grade_method: highest
review:
  score: immediately
  correct_answers: after_close
  explanations: immediately
"""


def rubric(slug: str) -> str:
    return f"""id: {slug}
title: Nueva rúbrica
description: Qué evalúa.
criteria:
  - id: criterio-1
    title: Primer criterio
    weight: 1
    critical: false
    levels:
      0: No lo hace.
      1: Lo intenta.
      2: Lo hace a medias.
      3: Lo hace bien.
      4: Lo hace de forma ejemplar.
    {_CITE.replace(chr(10), chr(10) + '    ').rstrip()}
"""


def certification(slug: str) -> str:
    return f"""id: {slug}
title: Nueva certificación
area: proceso
description: Qué certifica.
validity_months: 12
requirements:
  - type: quiz_passed
    quiz: id-de-la-evaluacion
    min_score: 80
{_CITE}"""


def bank(slug: str) -> str:
    return f"id: {slug}\ntitle: Nuevo banco\nquestions: []\n"


def scenario(slug: str) -> str:
    return f"""---
id: {slug}
title: Nuevo role-play
mode: chat
channel: chat
response_standard:
  seconds: 30
  source:
    ref: documento/capitulo#seccion
    quote: "El estándar de respuesta"
case:
  - ref: documento/capitulo#seccion
    quote: "El pasaje del que sale el caso"
customers:
  - id: cliente
    name: Nombre
    type: frustrado
    profile: Quién es y qué quiere.
    messages:
      - Primer mensaje del cliente.
objectives:
  - Lo que el agente debe conseguir.
rubric: id-de-la-rubrica
{_CITE}---

## Situación

Lo que lee el agente antes de empezar.

## Respuesta modelo

Una buena respuesta (solo la ven los formadores).
"""


NEW = {"quiz": quiz, "rubric": rubric, "certification": certification, "bank": bank, "scenario": scenario}
PATHS = {
    "quiz": "quizzes/{slug}.yaml",
    "rubric": "roleplays/rubrics/{slug}.yaml",
    "certification": "courses/certifications/{slug}.yaml",
    "bank": "quizzes/banks/{slug}.yaml",
    "scenario": "roleplays/{slug}.md",
}
