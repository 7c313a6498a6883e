"""Authoring in the browser: drafts, review and publish, imports, revision impact; and the exporters that write
the published content back to files (``flask --app lms content export``).

Publishing goes through the same code path as ``content sync``: the published content is exported to a
temporary tree, the draft is put in its file, and :func:`lms.content.sync` validates and loads the tree (so a
draft is refused with exactly the messages of ``content check``, and versions are created as a sync creates them).
"""


def register(app) -> None:
    from lms.authoring import exporters
    from lms.authoring.impact import record_revisions
    from lms.content.registry import on_sync
    from lms.authoring.views import bp, larger_forms_for_editors

    exporters.register()
    on_sync(record_revisions)
    app.register_blueprint(bp)
    app.before_request_funcs.setdefault(None, []).insert(0, larger_forms_for_editors)
