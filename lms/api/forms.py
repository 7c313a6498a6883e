from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, SelectMultipleField, StringField
from wtforms.validators import DataRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from lms.api.services import SCOPES
from lms.core.forms import choices


class TokenForm(FlaskForm):
    name = StringField(_l("Nombre de la integración"), validators=[DataRequired(), Length(max=100)])
    scopes = SelectMultipleField(_l("Permisos"), widget=ListWidget(prefix_label=False), option_widget=CheckboxInput(),
                                 validators=[DataRequired(message=_l("Elige al menos un permiso."))])
    expires_on = DateField(_l("Caduca el (opcional)"), validators=[Optional()])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # built per request, so the descriptions are in the reader's language
        self.scopes.choices = choices((scope, f"{scope} — {label}") for scope, label in SCOPES.items())
