from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, DateField, SelectField, StringField
from wtforms.validators import DataRequired, InputRequired, Length


class EnrollForm(FlaskForm):
    agent_id = SelectField(_l("Agente"), coerce=int, validators=[InputRequired()])
    track = SelectField(_l("Itinerario"), validators=[DataRequired()])
    start_date = DateField(
        _l("Fecha de inicio"), validators=[DataRequired(message=_l("Indica la fecha de inicio en formato AAAA-MM-DD."))]
    )


class EnrollCsvForm(FlaskForm):
    file = FileField(_l("Archivo CSV (email,track,start_date)"), validators=[FileRequired()])
    skip_invalid = BooleanField(_l("Inscribir las filas válidas aunque otras tengan errores"))


class OrganisationZoneForm(FlaskForm):
    time_zone = SelectField(_l("Zona horaria de la organización"), validate_choice=False)


class HolidayForm(FlaskForm):
    day = DateField(_l("Día"), validators=[DataRequired(message=_l("Indica el día en formato AAAA-MM-DD."))])
    name = StringField(_l("Qué se celebra"), validators=[DataRequired(message=_l("Escribe qué día festivo es.")), Length(max=200)])
