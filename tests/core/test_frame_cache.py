"""The page frame's navigation is rendered once per role, language and mount point (issue #22), and each reader still
gets their own: a manager never sees the agent's menu from the cache, nor a Spanish reader the English one."""
from __future__ import annotations

from flask_babel import refresh

from lms.core import templating


def _nav(page: str) -> str:
    return page[page.index("<nav"):page.index("</nav>")]


def test_each_role_and_language_gets_its_own_navigation(client, auth, agent, manager, session):
    templating.FRAME.clear()
    pages = {}
    for user in (agent, manager):
        for language in ("es", "en"):
            user.locale = language
            session.commit()
            auth.login_as(user)
            refresh()  # the test's application context outlives requests: let this one pick the reader's language
            pages[(user.role, language)] = _nav(client.get("/", follow_redirects=True).get_data(as_text=True))
            client.post("/logout")
    assert len(templating.FRAME) == 4 and templating.FRAME.hits == 0
    assert "Role-plays" in pages[("agent", "es")] and "Equipos" not in pages[("agent", "es")]
    assert "Equipos" in pages[("manager", "es")] and "Teams" in pages[("manager", "en")]
    assert "Itinerarios" in pages[("agent", "es")] and "Itinerarios" not in pages[("agent", "en")]
    auth.login_as(agent)  # the same reader again: from the cache, the same navigation
    assert _nav(client.get("/").get_data(as_text=True)) == pages[("agent", "en")] and templating.FRAME.hits == 1


def test_the_header_counts_unread_notifications_with_the_signed_in_user(client, auth, agent, session):
    from lms.notifications.models import Notification
    from lms.core.clock import now_utc

    auth.login_as(agent)
    assert "badge" not in client.get("/").get_data(as_text=True).split("</header>")[0]
    session.add(Notification(user_id=agent.id, kind="lesson_due", params={}, created_at=now_utc(), dedupe_key="frame-test"))
    session.commit()
    header = client.get("/").get_data(as_text=True).split("</header>")[0]
    assert '<span class="badge">(1' in header


def test_a_page_leaves_no_reference_cycle_through_its_template_context(app, client, auth, agent):
    """The frame's macros live in _frame.html, imported only when a part is not cached: macros defined in base.html
    were made on every page, each closing over the page's context, so the context and all it held (the view's rows,
    the signed-in user) waited for the garbage collector instead of being freed when the page was written."""
    import gc

    from jinja2.runtime import Context, Macro

    auth.login_as(agent)
    assert client.get("/").status_code == 200  # the frame's parts are cached from here on
    gc.collect()
    gc.set_debug(gc.DEBUG_SAVEALL)
    gc.disable()
    try:
        assert client.get("/").status_code == 200
        gc.collect()
        leaked = [type(o).__name__ for o in gc.garbage if isinstance(o, (Context, Macro))]
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        gc.enable()
    assert leaked == []
