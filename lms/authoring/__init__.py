"""Authoring in the browser: drafts, review and publish, imports, revision impact; and the exporters that write
the published content back to files (``flask --app lms content export``).

Publishing goes through the same code path as ``content sync``: the published content is exported to a
temporary tree, the draft is put in its file, and :func:`lms.content.sync` validates and loads the tree (so a
draft is refused with exactly the messages of ``content check``, and versions are created as a sync creates them).
"""


from flask import request

#: the editors accept a body this large, so that an over-long paste gets its field error (and is kept)
#: instead of the site-wide 413 page
EDITOR_MAX_BYTES = 12 * 1024 * 1024


def register(app) -> None:
    from lms.authoring import exporters
    from lms.content.registry import on_sync
    from lms.core import lazy

    exporters.register()
    on_sync(_record_revisions)
    # the authoring pages are imported on their first request (lms/core/lazy.py)
    lazy.register_blueprint(app, "lms.authoring.views:bp")
    app.before_request_funcs.setdefault(None, []).insert(0, larger_forms_for_editors)


def larger_forms_for_editors():
    """Runs before every other before-request function (the CSRF check reads the form first)."""
    if request.method == "POST" and request.blueprint == "authoring":
        request.max_content_length = EDITOR_MAX_BYTES
        request.max_form_memory_size = EDITOR_MAX_BYTES


def _record_revisions(*args, **kwargs):
    """After a sync: the revised passages and what they affect (lms.authoring.impact, imported then)."""
    from lms.authoring.impact import record_revisions

    return record_revisions(*args, **kwargs)
