"""The public criteria page: rendered Markdown, and only what a verifier or an employer should read (issue #17)."""
from __future__ import annotations

import yaml

from lms.badges.documents import public_description
from lms.certification import services as certs
from tests.conftest import PROJECT

DESCRIPTION = ("Acredita que el agente aplica la **metodología** de atención.\n\n"
               "**Reglas de la casa** (el manual no dice cuánto dura):\n\n"
               "- *Recertificación:* evaluación «repaso-recertificacion» con 80 %, según el pasaje citado.\n")


def test_criteria_page_renders_markdown_and_hides_the_trainers_part(client, session, content):
    definition = certs.get_definition(session, "proceso")
    definition.description = DESCRIPTION
    session.commit()
    html = client.get("/badges/criteria/proceso").get_data(as_text=True)
    assert "<strong>metodología</strong>" in html and "**" not in html
    assert "Reglas de la casa" not in html and "repaso-recertificacion" not in html
    # requirements by their titles, never by the quizzes' or modules' ids
    assert "«Evaluación de la semana A»" in html
    for req in definition.requirements:
        if req.get("quiz"):
            assert req["quiz"] not in html


def test_the_badge_documents_carry_the_public_description_only(client, session, content):
    definition = certs.get_definition(session, "proceso")
    definition.description = DESCRIPTION
    session.commit()
    badge_class = client.get("/badges/v2/classes/proceso", headers={"Accept": "application/json"}).get_json()
    assert badge_class["description"] == "Acredita que el agente aplica la **metodología** de atención."


def test_every_real_certification_has_a_public_part_without_house_rules():
    for path in sorted((PROJECT / "courses" / "certifications").glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        public = public_description(data["description"])
        assert public and "Reglas de la casa" not in public and "regla de la casa" not in public.lower(), path.name
        slugs = [r.get("quiz") for r in data["requirements"]] + [(data.get("recertification") or {}).get("id")]
        assert not any(slug and slug in public for slug in slugs), path.name
