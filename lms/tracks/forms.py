from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, DateField, SelectField
from wtforms.validators import DataRequired, InputRequired


class EnrollForm(FlaskForm):
    agent_id = SelectField(_l("Agente"), coerce=int, validators=[InputRequired()])
    track = SelectField(_l("Itinerario"), validators=[DataRequired()])
    start_date = DateField(
        _l("Fecha de inicio"), validators=[DataRequired(message=_l("Indica la fecha de inicio en formato AAAA-MM-DD."))]
    )


class EnrollCsvForm(FlaskForm):
    file = FileField(_l("Archivo CSV (email,track,start_date)"), validators=[FileRequired()])
    skip_invalid = BooleanField(_l("Inscribir las filas válidas aunque otras tengan errores"))
