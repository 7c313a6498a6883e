"""Role-plays: scenarios built on real cases, channel modes, and versioned rubrics
(practice, pre-check, grading and calibration join them in the role-play issue).
Public functions: :mod:`lms.roleplays.services`.
"""
from flask import Flask

#: the customer record's keys are written as identifiers in the scenario files (``garantia_del_producto``);
#: the agent reads them as Spanish labels, accents restored
_ACCENTED = {"direccion": "dirección", "garantia": "garantía", "tecnico": "técnico", "configuracion": "configuración",
             "donde": "dónde", "facturacion": "facturación", "logistica": "logística", "telefono": "teléfono",
             "ultimo": "último", "verificacion": "verificación", "id": "ID"}


def record_label(key: str) -> str:
    """``agenda_servicio_tecnico`` → ``Agenda servicio técnico``."""
    words = [_ACCENTED.get(word, word) for word in str(key).lower().split("_") if word]
    if not words:
        return ""
    return " ".join([words[0][:1].upper() + words[0][1:]] + words[1:])


def register(app: Flask) -> None:
    from lms.content import register_loader

    from lms.core import lazy
    from lms.roleplays import views

    register_loader("roleplays", "lms.roleplays.loader:RoleplaysLoader")  # imported by the first check or sync
    app.add_template_filter(record_label)
    app.register_blueprint(views.bp)
    lazy.register_blueprint(app, "lms.roleplays.manage_views:bp")  # trainers' pages: imported on first request
    app.cli.add_lazy_command("roleplays", "lms.roleplays.cli:roleplays_cli")
    from lms.roleplays import workspace_views  # the practice workspace (docs/practice-workspace.md)

    workspace_views.register(app)
