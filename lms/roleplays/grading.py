"""Rubric criteria graded from the engine's facts (see :mod:`lms.roleplays.precheck`): levels 0-4 with evidence, critical
faults flagged and capped, and the band (house banding, roleplays/README.md «Pre-check»).

The criteria live along their seams: the shared facts and patterns in :mod:`lms.roleplays.grade_facts`, the
conversation criteria every channel has in :mod:`lms.roleplays.grade_conversation`, the escalation rubric's in
:mod:`lms.roleplays.grade_escalation`, the e-mail, complaint, social and compliance ones in
:mod:`lms.roleplays.grade_channels`. This module maps a rubric's criteria to them, grades and bands."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from lms.roleplays.engine import text as T
from lms.roleplays.grade_channels import (action, body, calm, complaint_steps, confidentiality, investigation, private,  # noqa: F401
                                          public_reply, reception, record_use, subject, writing, _compliance)
from lms.roleplays.grade_conversation import (closing, clarity, correctness, email_greeting, empathy, followup, greeting,  # noqa: F401
                                              listening, solution, timing, _mean)
from lms.roleplays.grade_escalation import (escalation, escalation_need, five_elements, handoff, informed,  # noqa: F401
                                            level_and_destination)
from lms.roleplays.grade_facts import _made, _progress, _q, jargon, unexplained_acronyms  # noqa: F401

#: house banding of a score (percentage of level 4): the lowest score of each band — the same cuts as the grade's bands
#: (roleplays/calibration/README.md «Score and banding»: deficiente < 50, regular 50–75, bueno 75–90, excelente ≥ 90)
BANDS = (("excelente", 90), ("bueno", 75), ("regular", 50), ("deficiente", 0))
#: the highest score of the two failing bands
DEFICIENT_TOP, REGULAR_TOP = 49, 74
#: critical faults and the highest score they leave (the top of the band they put the role-play in)
FAULT_CAPS = {"incumplimiento": DEFICIENT_TOP, "problema_sin_resolver": DEFICIENT_TOP, "nivel_de_escalamiento_distinto": REGULAR_TOP,
              "destino_de_escalamiento_distinto": REGULAR_TOP, "promesa_sin_autoridad": REGULAR_TOP, "escalo_sin_necesidad": REGULAR_TOP,
              "venta_a_cliente_molesto": REGULAR_TOP, "respuestas_repetidas": REGULAR_TOP, "resuelto_sin_autoridad": REGULAR_TOP,
              "resuelto_en_falso": REGULAR_TOP}
#: the criteria that grade a fault: when the rubric has one of them as a critical criterion, that criterion failing makes
#: the band deficiente «sea cual sea la nota», so the fault does not cap the score as well (it stays the weighted mean)
FAULT_CRITERIA = {"incumplimiento": ("guion-aprobado", "confidencialidad", "cumplimiento")}
CRITICAL_FLAGS = ("incumplimiento", "nivel_de_escalamiento_distinto", "destino_de_escalamiento_distinto", "promesa_sin_autoridad",
                  "problema_sin_resolver")


@lru_cache(maxsize=4)
def _library(root: str) -> dict:
    from lms.content.registry import Problems
    from lms.roleplays.engine.model import load_library

    problems = Problems()
    library = load_library(Path(root), problems, None)
    if library is None:
        raise RuntimeError("roleplays/moves.yaml is missing or invalid: run flask --app lms content check")
    return library


def library() -> dict:
    """The move library of the content root (the project's own when that root has none, e.g. a test tree)."""
    from lms.roleplays.engine.model import LIBRARY_FILE

    try:
        from flask import current_app

        root = Path(current_app.config["CONTENT_ROOT"])
    except (RuntimeError, KeyError):
        root = None
    if root is None or not (root / LIBRARY_FILE).exists():
        root = Path(__file__).resolve().parents[2]
    return _library(str(root))


def band_of(score: float) -> str:
    return next(name for name, low in BANDS if score >= low)


def general_rubric(t) -> dict:
    """The handbook's standards as a rubric, for transcripts of no scenario (critical: solution, escalation, compliance)."""
    context = T.fold(" ".join([t.context or "", *t.objectives]))
    compliance = any(word in context for word in ("dato", "titular", "identidad", "grabacion", "guion", "cumplimiento", "confidencial",
                                                   "seguridad", "privacidad", "regulad", "financier"))
    criteria = [
        {"id": "saludo", "title": "Saludo e identificación", "weight": 1},
        {"id": "escucha", "title": "Escucha activa", "weight": 1},
        {"id": "empatia", "title": "Empatía", "weight": 1},
        {"id": "claridad", "title": "Claridad", "weight": 1},
        {"id": "solucion", "title": "Solución con pasos concretos", "weight": 2, "critical": True, "pass_level": 2},  # nosec B105  # a rubric level
        {"id": "escalamiento", "title": "Escalamiento", "weight": 1, "critical": True, "pass_level": 2},  # nosec B105  # a rubric level
        {"id": "cierre", "title": "Cierre", "weight": 1},
        {"id": "tiempos", "title": "Tiempos de respuesta", "weight": 1},
    ]
    if compliance:
        criteria.append({"id": "cumplimiento", "title": "Cumplimiento", "weight": 2, "critical": True, "pass_level": 2})  # nosec B105  # a rubric level
    return {"title": "Estándares del manual", "criteria": criteria}


# Aspects: each (facts) → (level or None, evidence), from the grade_* modules ------------------------------------------

ASPECTS = {
    "saludo": greeting, "escucha-activa": listening, "escucha": listening, "empatia": empathy, "tono-y-empatia": empathy,
    "servicio-y-empatia": empathy, "claridad": clarity, "solucion": solution, "resolucion": solution,
    "informacion-correcta": correctness, "cierre": closing, "tiempos": timing, "tiempo": timing, "atencion": timing,
    "escalamiento": escalation, "nivel-y-destino": level_and_destination, "necesidad-y-criterio": escalation_need,
    "nota-de-transferencia": handoff, "cliente-informado": informed, "seguimiento": followup,
    "comunicacion": five_elements, "comunicacion-efectiva": complaint_steps, "recepcion": reception,
    "investigacion": investigation, "calma": calm, "respuesta-publica": public_reply, "paso-a-privado": private,
    "asunto": subject, "cuerpo": body, "accion": action, "buenas-practicas": writing, "uso-de-la-ficha": record_use,
    "guion-aprobado": _compliance("guion-aprobado", 1), "confidencialidad": _compliance("confidencialidad"), "cumplimiento": _compliance(None, 0, True),
    "atencion-y-cierre": _mean(greeting, closing),
}
#: stock-phrase criteria: without progress on the customer's problem they earn at most 1
STOCK = ("saludo", "empatia", "tono-y-empatia", "servicio-y-empatia", "cierre", "escucha-activa", "escucha", "recepcion",
         "atencion-y-cierre", "comunicacion", "comunicacion-efectiva", "calma", "respuesta-publica")


def grade(facts, rubric: dict):
    from lms.roleplays.precheck import Result

    facts.moves_library = facts.moves_library if hasattr(facts, "moves_library") else library()["moves"]
    criteria, evidence, titles, flags = {}, {}, {}, set()
    if not facts.replies:
        for c in rubric["criteria"]:
            criteria[c["id"]], evidence[c["id"]], titles[c["id"]] = 0, ["Sin respuestas: el mensaje del cliente se quedó sin contestar"], c["title"]
        return Result(0, criteria, ["sin_respuestas"], "deficiente", evidence, titles, [], _missed(facts))
    progress = _progress(facts)
    ids = {c["id"] for c in rubric["criteria"]}
    # critical faults are flagged whatever the rubric grades: the escalation decision, promises, compliance
    for aspect, names in ((escalation, ("escalamiento", "nivel-y-destino", "necesidad-y-criterio")), (solution, ("solucion", "resolucion")),
                          (confidentiality, ("confidencialidad", "cumplimiento", "guion-aprobado")),
                          (empathy, ("empatia", "tono-y-empatia", "servicio-y-empatia"))):
        if not ids & set(names):
            aspect(facts, flags)
    for c in rubric["criteria"]:
        fn = ASPECTS.get(c["id"]) or _mean(solution, clarity, empathy)
        level, ev = fn(facts, flags)
        if level is not None and c["id"] in STOCK and not progress:
            level = min(level, 1)
            ev = ev + ["No cuenta: ninguna respuesta hace avanzar el problema del cliente"]
        for move_id in facts.scenario_moves:
            move = facts.moves_library.get(move_id) or {}
            if move.get("criterion") != c["id"] or level is None:
                continue
            made = _made(facts, move_id)
            if move["kind"] == "good" and not made:
                level = min(level, 2)
                ev = ev + [f"Falta: {move['title']}"]
            elif move["kind"] == "bad" and made:
                level = min(level, 1)
                ev = ev + [f"{move['title']}: {_q(made[0][1])}"]
            elif move["kind"] == "good" and made:
                ev = ev + [f"{move['title']}: {_q(made[0][1])}"]
        criteria[c["id"]], evidence[c["id"]], titles[c["id"]] = level, ev, c["title"]
    # critical criteria failing fail the role-play; critical faults cap the score like they do
    weights = {c["id"]: c.get("weight", 1) for c in rubric["criteria"]}
    present = {k: v for k, v in criteria.items() if v is not None}
    total = sum(weights[k] for k in present)
    score = round(100 * sum(weights[k] * v for k, v in present.items()) / (4 * total)) if total else 0
    critical_ids = {c["id"] for c in rubric["criteria"] if c.get("critical")}
    for flag in flags:
        if critical_ids & set(FAULT_CRITERIA.get(flag, ())):
            continue
        score = min(score, FAULT_CAPS.get(flag, 100))
    failed_critical = [c["id"] for c in rubric["criteria"] if c.get("critical") and criteria.get(c["id"]) is not None
                       and criteria[c["id"]] < (c.get("pass_level") or 0)]
    band = band_of(score)
    if failed_critical:
        band = "deficiente"  # the role-play fails whatever the score; the score stays the rubric's weighted mean
    met = [{"title": m["title"], "quote": m["quote"], "source": m.get("source")} for m in facts.met.values()]
    return Result(score, criteria, sorted(flags), band, evidence, titles, met, _missed(facts))


def _missed(facts) -> list[dict]:
    return [{"title": n["title"], "source": n.get("source")} for n in facts.needs if n["id"] not in facts.met]


def combine(results: list, rubric: dict | None):
    """Surge: each conversation graded apart; the lowest level per criterion (response times over all of them)."""
    from lms.roleplays.precheck import Result

    first = results[0]
    criteria, evidence = {}, {}
    for cid in first.criteria:
        levels = [r.criteria.get(cid) for r in results if r.criteria.get(cid) is not None]
        criteria[cid] = min(levels) if levels else None
        evidence[cid] = [e for r in results for e in r.evidence.get(cid, [])]
    weights = {c["id"]: c.get("weight", 1) for c in (rubric or {}).get("criteria", [])} or {cid: 1 for cid in criteria}
    present = {k: v for k, v in criteria.items() if v is not None}
    total = sum(weights.get(k, 1) for k in present)
    score = min([round(100 * sum(weights.get(k, 1) * v for k, v in present.items()) / (4 * total)) if total else 0]
                + [r.score for r in results])
    flags = sorted({f for r in results for f in r.flags})
    band = "deficiente" if any(r.band == "deficiente" for r in results) else band_of(score)
    return Result(score, criteria, flags, band, evidence, first.titles, [m for r in results for m in r.met],
                  [m for r in results for m in r.missed])
