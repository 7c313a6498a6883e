"""Forms shared by every domain."""
from flask_wtf import FlaskForm


class EmptyForm(FlaskForm):
    """A one-button form: CSRF for POST actions with no fields (complete, logout…)."""


def choices(pairs) -> list:
    """``[(value, label), …]`` as WTForms 3.3 select choices."""
    from wtforms.fields.choices import SelectChoice

    return [SelectChoice(value, label) for value, label in pairs]


def _local_decimal():
    from wtforms import DecimalField

    class LocalDecimalField(DecimalField):
        """A decimal field that accepts a comma as the decimal separator (1,5) as Spanish speakers write it."""

        def process_formdata(self, valuelist):
            if valuelist:
                valuelist = [v.replace(",", ".").strip() if isinstance(v, str) else v for v in valuelist]
            super().process_formdata(valuelist)

    return LocalDecimalField


LocalDecimalField = _local_decimal()
