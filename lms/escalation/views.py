"""The escalation advisor: enter a ticket's facts, get the level, destination and deadline with the rules quoted."""
from __future__ import annotations

from flask import Blueprint, render_template, request
from flask_babel import lazy_gettext as _l
from flask_login import login_required
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField
from wtforms.validators import InputRequired, NumberRange, ValidationError

from lms.core.forms import LocalDecimalField, choices
from lms.escalation import labels, services

bp = Blueprint("escalation", __name__, template_folder="templates")

# the words for the engine's keys live in lms.escalation.labels (the drills and their review use them too)
CHANNEL_LABELS = list(labels.CHANNELS.items())
IMPACT_LABELS = list(labels.IMPACTS.items())
COMPLEXITY_LABELS = list(labels.COMPLEXITIES.items())


class AdvisorForm(FlaskForm):
    class Meta:
        csrf = False  # a GET form that changes nothing

    channel = SelectField(_l("Canal"), choices=choices(CHANNEL_LABELS))
    current_level = SelectField(_l("Nivel actual"), choices=choices([("1", "1"), ("2", "2"), ("3", "3"), ("4", "4")]))
    hours_since_opening = LocalDecimalField(_l("Horas desde la apertura"), places=None,
                                       validators=[InputRequired(), NumberRange(min=0, max=100000)])
    hours_at_current_level = LocalDecimalField(_l("Horas en el nivel actual"), places=None,
                                          validators=[InputRequired(), NumberRange(min=0, max=100000)])
    impact = SelectField(_l("Impacto"), choices=choices(IMPACT_LABELS))
    complexity = SelectField(_l("Complejidad"), choices=choices(COMPLEXITY_LABELS))
    needs_development = BooleanField(_l("Bug confirmado: el caso requiere un cambio de código"))

    def validate_hours_at_current_level(self, field):
        since = self.hours_since_opening.data
        if field.data is not None and since is not None and field.data > since:
            raise ValidationError(_l("Las horas en el nivel actual no pueden superar las horas desde la apertura."))


@bp.route("/escalation")
@login_required
def advisor():
    form = AdvisorForm(request.args)
    advice, error = None, None
    if request.args and form.validate():
        try:
            ticket = services.ticket_from_dict({
                "id": "consulta", "channel": form.channel.data, "current_level": int(form.current_level.data),
                "hours_since_opening": float(form.hours_since_opening.data),
                "hours_at_current_level": float(form.hours_at_current_level.data),
                "impact": form.impact.data, "complexity": form.complexity.data,
                "needs_development": bool(form.needs_development.data),
            })
        except services.TicketError:
            # the form's own checks come first; what the rules engine still refuses is said in the reader's language
            error = _l("Los datos del ticket no son válidos: revisa el canal, el nivel, el impacto y la complejidad.")
        else:
            advice = services.advise(ticket)
    return render_template("escalation/advisor.html", form=form, advice=advice, error=error,
                           outcome_labels=labels.OUTCOMES)
