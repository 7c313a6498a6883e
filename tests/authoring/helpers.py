"""Publishing through the authoring services, for tests."""
from lms.authoring import services
from lms.core.clock import now_utc


def publish(session, *, kind, slug, path, text, author, publisher, base_text=None, options=None):
    now = now_utc()
    draft = services.start_draft(session, kind=kind, slug=slug, path=path, title=slug, text=text, base_text=base_text,
                                 author=author, now=now, options=options)
    problems = services.check(session, draft)
    assert problems == [], problems
    services.submit(session, draft, actor=author, now=now, problems=[])
    services.approve(session, draft, reviewer=publisher, now=now)
    draft = services.publish(session, draft, publisher=publisher, now=now)
    session.commit()
    return draft
