"""Interface translations: Spanish by default, English too (Flask-Babel)."""
from __future__ import annotations

from flask import Flask, has_request_context, request, session
from flask_babel import Babel
from flask_login import current_user

babel = Babel()
#: the locale an LTI launch asked for (launch_presentation.locale), kept in the signed-in session
LAUNCH_LOCALE_KEY = "launch_locale"


def select_locale() -> str:
    """The person's own setting, then the language of the LMS they came from (LTI), then ``?lang=``, then the browser."""
    languages = current_app_languages()
    if not has_request_context():  # commands and workers speak the default language
        return languages[0]
    user_locale = getattr(current_user, "locale", None) if current_user else None
    if user_locale in languages:
        return user_locale
    launch_locale = session.get(LAUNCH_LOCALE_KEY)
    if launch_locale in languages:
        return launch_locale
    chosen = request.args.get("lang") if request else None
    if chosen in languages:
        return chosen
    return request.accept_languages.best_match(languages) or languages[0]


def current_app_languages() -> list[str]:
    from flask import current_app

    return list(current_app.config["LANGUAGES"])


def init_app(app: Flask) -> None:
    babel.init_app(app, locale_selector=select_locale)
