"""«Probar el role-play»: a draft scenario's customers played on the server, as ``roleplays simulate`` plays them.

The draft is compiled with the very checks it goes through when saved (:func:`lms.authoring.tree.collect_files`, the
content loaders over the published content with the draft in place), so the customer model, its needs, moves, mood
and endings are those of the draft, not of the published version. Nothing is stored: the page sends the whole list
of replies each time and gets every turn back (:func:`lms.roleplays.engine.simulation.run`).
"""
from __future__ import annotations

import copy
import hashlib
from collections import OrderedDict
from dataclasses import dataclass, field

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lms.authoring import services, tree
from lms.authoring.models import Draft
from lms.content.export import export_texts
from lms.core.audit import AuditEvent

#: the most replies (in all) and characters in one reply the page may send
MAX_REPLIES = 200
MAX_REPLY = 5000
#: compiled drafts, by (database, last publish, path, text): compiling the whole tree takes seconds, and the
#: page asks again at every reply; a publish (an audit event) or an edit of the draft makes a new key
_COMPILED: OrderedDict = OrderedDict()
_CACHE_SIZE = 8


@dataclass
class TryOut:
    problems: list[tree.FieldProblem] = field(default_factory=list)  # the draft's problems: no simulation
    error: str = ""             # the replies are not playable (e.g. a conversation already ended)
    result: dict | None = None  # exactly what simulation.run answers
    customers: list[dict] = field(default_factory=list)  # {id, name, type, opening, needs: {id: title}, moves: {id: title}}
    mood_labels: dict = field(default_factory=dict)

    def as_json(self) -> dict:
        out: dict = {"ok": self.result is not None}
        if self.problems:
            out["problems"] = [p.as_dict() for p in self.problems]
        if self.error:
            out["error"] = self.error
        if self.result is not None:
            out |= {"simulation": self.result, "customers": self.customers, "mood_labels": self.mood_labels}
        return out


def compile_draft(session: Session, draft: Draft) -> tuple[tuple[dict, dict | None] | None, list[tree.FieldProblem]]:
    """((scenario data, rubric data) as ``roleplays simulate`` gets them, None) or (None, the draft's problems)."""
    last_publish = session.scalar(select(func.max(AuditEvent.id)).where(AuditEvent.kind == "content_published"))
    key = (str(session.get_bind().engine.url), last_publish, draft.path, hashlib.sha256(draft.text.encode("utf-8")).hexdigest())
    if key not in _COMPILED:
        _COMPILED[key] = _compile(session, draft)
        while len(_COMPILED) > _CACHE_SIZE:
            _COMPILED.popitem(last=False)
    _COMPILED.move_to_end(key)
    return copy.deepcopy(_COMPILED[key])


def _compile(session: Session, draft: Draft):
    published = export_texts(session)
    collected, errors = tree.collect_files(session, services.files_of(session, draft, published), published)
    if errors:
        return None, tree.problems_for(errors, draft.path, draft.text, markdown=True)
    items = collected.get("roleplays")
    scenario = next((s for s in items.scenarios.values() if s.path == draft.path), None) if items else None
    if scenario is None:
        return None, [tree.FieldProblem("", 0, _("El borrador no es un escenario de role-play."))]
    rubric = items.rubrics.get(scenario.rubric)
    data = scenario.data | {"mode": scenario.mode, "channel": scenario.channel, "id": scenario.slug}
    return (data, rubric.data if rubric else None), []


def replies_of(payload) -> tuple[list[dict] | None, str]:
    """The replies the page sent ({"replies": [{text, seconds?, customer?}]}), or (None, a message)."""
    replies = payload.get("replies") if isinstance(payload, dict) else None
    if not isinstance(replies, list):
        return None, _("Petición no válida: falta la lista de respuestas.")
    if len(replies) > MAX_REPLIES:
        return None, _("Demasiadas respuestas: el máximo es %(max)d.", max=MAX_REPLIES)
    out = []
    for item in replies:
        if not isinstance(item, dict) or not isinstance(item.get("text"), str):
            return None, _("Petición no válida: cada respuesta es un texto.")
        if len(item["text"]) > MAX_REPLY:
            return None, _("Una respuesta supera los %(max)d caracteres.", max=MAX_REPLY)
        out.append({k: item[k] for k in ("text", "seconds", "customer") if k in item})
    return out, ""


def play(session: Session, draft: Draft, replies: list[dict]) -> TryOut:
    from lms.roleplays.engine import simulation  # the customer engine: loaded by the first try-out, not at start

    compiled, problems = compile_draft(session, draft)
    if compiled is None:
        return TryOut(problems=problems)
    scenario, _rubric = compiled
    customers = [{"id": c["id"], "name": c["name"], "type": c["type"], "opening": c.get("opening") or (c.get("messages") or [""])[0],
                  "needs": {n["id"]: n["title"] for n in c.get("model", {}).get("needs", [])},
                  "moves": {mid: m.get("title") or mid for mid, m in c.get("model", {}).get("moves", {}).items()}}
                 for c in scenario["customers"]]
    labels = (scenario.get("mood") or {}).get("labels") or {}
    try:
        result = simulation.run(compiled, replies)
    except simulation.SimulationError as exc:
        return TryOut(error=_("No se puede simular: %(detail)s", detail=str(exc)), customers=customers)
    return TryOut(result=result, customers=customers, mood_labels=labels)
