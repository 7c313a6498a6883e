"""The e-mail preferences form: one checkbox per event."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField

from lms.accounts.models import NOTIFICATION_EVENTS


def preferences_form(labels: dict[str, str], current: dict[str, bool], formdata=None):
    """A form with a BooleanField per event (named after it), checked as ``current`` says."""

    class PreferencesForm(FlaskForm):
        pass

    for event in NOTIFICATION_EVENTS:
        setattr(PreferencesForm, event, BooleanField(labels[event], default=current.get(event, True)))
    form = PreferencesForm() if formdata is None else PreferencesForm(formdata=formdata)
    form.event_fields = [getattr(form, event) for event in NOTIFICATION_EVENTS]
    return form
