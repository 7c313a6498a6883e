"""Interface translations: Spanish by default, English too (Flask-Babel)."""
from __future__ import annotations

from contextlib import contextmanager
from functools import lru_cache
from types import SimpleNamespace

from flask import Flask, g, has_app_context, has_request_context, request, session
from flask.globals import _cv_app
from flask_babel import Babel, get_locale, get_translations
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
    return _browser_language(request.environ.get("HTTP_ACCEPT_LANGUAGE"), tuple(languages)) or languages[0]


@lru_cache(maxsize=256)
def _browser_language(header: str | None, languages: tuple[str, ...]) -> str | None:
    """The best of ``languages`` for an Accept-Language header, as ``request.accept_languages.best_match`` chooses it:
    the header was parsed on every request, and browsers send one of a few values."""
    from werkzeug.datastructures import LanguageAccept
    from werkzeug.http import parse_accept_header

    return parse_accept_header(header, LanguageAccept).best_match(languages)


@lru_cache(maxsize=16)
def _locale(identifier: str):
    from babel import Locale

    return Locale.parse(identifier)


def _selected_locale():
    """What Flask-Babel asks for once per request: the language :func:`select_locale` chooses, as a Locale parsed once
    per process (Flask-Babel parsed the string on every request, about 10 µs; it takes a Locale as it is)."""
    return _locale(select_locale())


#: fn(user or None) → the IANA zone that person reads times in; installed by lms.accounts (core knows no users or teams)
ZONE_RESOLVER: list = []


def select_timezone() -> str | None:
    """The signed-in person's zone (their own, their team's, the organisation's); None = BABEL_DEFAULT_TIMEZONE."""
    if not has_request_context() or not ZONE_RESOLVER:
        return None
    user = current_user._get_current_object() if current_user and getattr(current_user, "is_authenticated", False) else None
    return ZONE_RESOLVER[0](user)


@contextmanager
def force_timezone(zone: str | None):
    """Write times in ``zone`` inside the block (an e-mail in its recipient's zone), as ``force_locale`` does for the
    language; restores the request's zone after."""
    if zone is None or not has_app_context():
        yield
        return
    from pytz import timezone

    if not hasattr(g, "_flask_babel"):  # Flask-Babel's per-context namespace, as it creates it
        g._flask_babel = SimpleNamespace()
    ctx = g._flask_babel
    saved = getattr(ctx, "babel_tzinfo", None)
    ctx.babel_tzinfo = timezone(zone)
    try:
        yield
    finally:
        ctx.babel_tzinfo = saved


#: the attribute of Flask-Babel's per-context namespace (``g._flask_babel``) where :func:`translations` keeps what it
#: found: (locale, domain, translations, the locale's name)
_MEMO = "_lms_translations"


def _babel_namespace():
    """Flask-Babel's namespace of the current application context, or None (no context, or none made yet)."""
    app_ctx = _cv_app.get(None)
    return None if app_ctx is None else app_ctx.g.__dict__.get("_flask_babel")


def _memo():
    """What :func:`translations` found for the context's current locale and domain, or None."""
    ns = _babel_namespace()
    if ns is None:
        return None
    found = ns.__dict__
    memo = found.get(_MEMO)
    if memo is not None and memo[0] is found.get("babel_locale") and memo[1] is found.get("babel_domain"):
        return memo
    return None


def _remember():
    """Flask-Babel's translations and locale for the context, kept on its namespace while its locale and domain stay."""
    found = get_translations()
    ns = _babel_namespace()
    locale = None if ns is None else ns.__dict__.get("babel_locale")
    if locale is None:  # outside a context (NullTranslations), or nothing selected: nothing to keep
        return None, found
    memo = (locale, ns.__dict__.get("babel_domain"), found, str(locale))
    setattr(ns, _MEMO, memo)
    return memo, found


def translations():
    """Flask-Babel's :func:`~flask_babel.get_translations`, looked up once per request rather than once per string.

    Flask-Babel walks several context-local proxies and writes the locale's name for every string it translates
    (about a fifth of a page's translating). The result depends only on the context's locale and domain, which
    Flask-Babel keeps on its per-context namespace: it is kept there with them and used while both are the same
    objects, so ``force_locale`` (a new locale, then the old one back), ``refresh()`` and a changed domain are
    honoured as before."""
    memo = _memo()
    return memo[2] if memo is not None else _remember()[1]


def locale_name() -> str:
    """``str(get_locale())`` (``"es"``, ``"en"``), kept with :func:`translations`; the default language outside a
    request's context."""
    memo = _memo()
    if memo is not None:
        return memo[3]
    memo, _found = _remember()
    if memo is not None:
        return memo[3]
    locale = get_locale()
    return str(locale) if locale is not None else "es"


def current_app_languages() -> list[str]:
    from flask import current_app

    return list(current_app.config["LANGUAGES"])


def init_app(app: Flask) -> None:
    from lms.core import babel_data

    babel_data.install()  # Babel's data: the parts pages read (4.5 MiB less in each worker)
    babel.init_app(app, locale_selector=_selected_locale, timezone_selector=select_timezone)

    @app.before_request
    def _forget_the_zone():
        """Each request asks for its reader's zone afresh (a context kept across requests, as in tests, would
        otherwise keep the first reader's)."""
        ctx = g.get("_flask_babel")
        if ctx is not None:
            ctx.babel_tzinfo = None
    _install_template_gettext(app)


#: the key under which each render's context carries the request's translations
_TRANSLATIONS = "_lms_translations"


def _install_template_gettext(app: Flask) -> None:
    """Templates translate through the translations looked up once per render, not once per string.

    Flask-Babel's template callables find the request's translations for every string (a walk through
    several context-locals each time, a tenth of a quiz page's time for its ~100 strings); these take them
    from the render's context, put there by a context processor, and fall back to Flask-Babel's lookup where
    a template runs without that context (a macro imported without context). ``_`` and ``ngettext``, the most
    called, are single calls that read Flask-Babel's translations for the request (below)."""
    from jinja2 import pass_context, pass_eval_context
    from markupsafe import Markup

    @app.context_processor
    def _translations():
        return {_TRANSLATIONS: translations()}

    def translations_of(context):
        return context.get(_TRANSLATIONS) or translations()

    @pass_context
    def gettext(context, string):
        return translations_of(context).ugettext(string)

    @pass_context
    def ngettext(context, singular, plural, n):
        return translations_of(context).ungettext(singular, plural, n)

    @pass_context
    def pgettext(context, msgctxt, string):
        return translations_of(context).upgettext(msgctxt, string)

    @pass_context
    def npgettext(context, msgctxt, singular, plural, n):
        return translations_of(context).unpgettext(msgctxt, singular, plural, n)

    app.jinja_env.install_gettext_callables(gettext=gettext, ngettext=ngettext, pgettext=pgettext, npgettext=npgettext,
                                            newstyle=True)

    # ``_`` and ``ngettext`` as one call each: Jinja's newstyle wrappers reach the translation through three context
    # calls (the ``_`` alias, the format wrapper, the callable), about a third of a page frame's translating. Same
    # result: the translation, marked safe when autoescaping, always %-formatted with the keyword arguments.
    # They take the render's evaluation context (autoescaping or not), not its context: Jinja copies the whole
    # context for every call of a context function made after a {% set %} in a block or inside a loop. The
    # translations are Flask-Babel's for the request (:func:`translations`: kept with the request's locale, so a
    # force_locale block is honoured), not kept per render: a macro of a template imported without context keeps the
    # render that first imported it.
    @pass_eval_context
    def fused_gettext(eval_ctx, string, /, **variables):
        rv = translations().ugettext(string)
        if not variables and "%" not in rv:
            # nothing to format (most of a page's strings): Markup's % would only copy it
            return Markup(rv) if eval_ctx.autoescape else rv  # nosec B704  # our own catalog's text
        if eval_ctx.autoescape:
            rv = Markup(rv)  # nosec B704  # our own catalog's text; the values below are escaped by Markup's %
        return rv % variables

    @pass_eval_context
    def fused_ngettext(eval_ctx, singular, plural, num, /, **variables):
        variables.setdefault("num", num)
        rv = translations().ungettext(singular, plural, num)
        if eval_ctx.autoescape:
            rv = Markup(rv)  # nosec B704  # our own catalog's text; the values below are escaped by Markup's %
        return rv % variables

    app.jinja_env.globals.update({"_": fused_gettext, "gettext": fused_gettext, "ngettext": fused_ngettext})
