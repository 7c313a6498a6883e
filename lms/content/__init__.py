"""The content-file toolkit: knows files, lines and loaders, but no domain.

Each domain registers a :class:`Loader` (name, dependencies, ``collect`` and
``sync``).  :func:`check` runs every loader's ``collect`` and returns all
problems as ``file:line: message``; :func:`sync` writes only when there are
none, in one transaction, loaders in dependency order.
"""
from lms.content.files import ContentError, Located, read_front_matter, read_yaml  # noqa: F401
from lms.content.registry import (  # noqa: F401
    Loader,
    Problems,
    SyncReport,
    check,
    register_loader,
    registered_loaders,
    sync,
)


def register(app) -> None:
    app.cli.add_lazy_command("content", "lms.content.cli:content_cli")
