"""Forms shared by every domain."""
from flask_wtf import FlaskForm


class EmptyForm(FlaskForm):
    """A one-button form: CSRF for POST actions with no fields (complete, logout…)."""


def choices(pairs) -> list:
    """``[(value, label), …]`` as WTForms 3.3 select choices."""
    from wtforms.fields.choices import SelectChoice

    return [SelectChoice(value, label) for value, label in pairs]
