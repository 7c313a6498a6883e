"""Forms shared by every domain."""
from flask_wtf import FlaskForm


class EmptyForm(FlaskForm):
    """A one-button form: CSRF for POST actions with no fields (complete, logout…)."""
