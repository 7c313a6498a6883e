from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, EmailField, PasswordField, SelectField, SelectMultipleField, StringField
from lms.core.forms import choices
from wtforms.validators import DataRequired, EqualTo, Length

ROLE_CHOICES = choices([
    ("agent", _l("Agente")),
    ("trainer", _l("Formador")),
    ("manager", _l("Gerente")),
    ("admin", _l("Administrador")),
])


class LoginForm(FlaskForm):
    email = EmailField(_l("Correo electrónico"), validators=[DataRequired(), Length(max=254)])
    password = PasswordField(_l("Contraseña"), validators=[DataRequired(), Length(max=1024)])


class PasswordChangeForm(FlaskForm):
    current_password = PasswordField(_l("Contraseña actual"), validators=[DataRequired()])
    new_password = PasswordField(_l("Nueva contraseña"), validators=[DataRequired(), Length(max=1024)])
    confirm = PasswordField(
        _l("Repite la nueva contraseña"),
        validators=[DataRequired(), EqualTo("new_password", message=_l("Las contraseñas no coinciden."))],
    )


class PasswordResetRequestForm(FlaskForm):
    email = EmailField(_l("Correo electrónico"), validators=[DataRequired(), Length(max=254)])


class PasswordResetForm(FlaskForm):
    new_password = PasswordField(_l("Nueva contraseña"), validators=[DataRequired(), Length(max=1024)])
    confirm = PasswordField(
        _l("Repite la nueva contraseña"),
        validators=[DataRequired(), EqualTo("new_password", message=_l("Las contraseñas no coinciden."))],
    )


class LanguageForm(FlaskForm):
    locale = SelectField(_l("Idioma"), choices=choices([("", _l("El del navegador")), ("es", "Español"), ("en", "English")]))


class UserCreateForm(FlaskForm):
    email = EmailField(_l("Correo electrónico"), validators=[DataRequired(), Length(max=254)])
    name = StringField(_l("Nombre"), validators=[DataRequired(), Length(max=200)])
    role = SelectField(_l("Rol"), choices=ROLE_CHOICES)
    password = PasswordField(_l("Contraseña inicial"), validators=[DataRequired(), Length(max=1024)])
    teams = SelectMultipleField(_l("Equipos"), coerce=int)


class UserEditForm(FlaskForm):
    name = StringField(_l("Nombre"), validators=[DataRequired(), Length(max=200)])
    role = SelectField(_l("Rol"), choices=ROLE_CHOICES)
    is_active = BooleanField(_l("Cuenta activa"))
    teams = SelectMultipleField(_l("Equipos"), coerce=int)


class TeamForm(FlaskForm):
    name = StringField(_l("Nombre del equipo"), validators=[DataRequired(), Length(max=200)])


class CsvUploadForm(FlaskForm):
    file = FileField(_l("Archivo CSV"), validators=[FileRequired()])
    skip_invalid = BooleanField(_l("Importar las filas válidas aunque otras tengan errores"))


class TeamMemberForm(FlaskForm):
    email = EmailField(_l("Correo del usuario"), validators=[DataRequired(), Length(max=254)])


class TimeZoneForm(FlaskForm):
    """A zone from the list (checked again by zones.check_zone: a forged value gets a message in the reader's language)."""

    time_zone = SelectField(_l("Zona horaria"), validate_choice=False)


class TeamCalendarForm(FlaskForm):
    time_zone = SelectField(_l("Zona horaria del equipo"), validate_choice=False)
    works_weekends = BooleanField(_l("Los agentes del equipo trabajan sábados y domingos (las fechas límite pueden caer en fin de semana)"))
