"""Modules a library imports at start-up that a web worker never uses, imported on first use instead (issue #22).

flask-login's ``__init__`` imports its test client (``from .test_client import FlaskLoginClient``), and with it
Flask's and Click's testing modules and pdb: 0.5 MiB in every worker for a class only tests use. Until it is
used, ``flask_login.test_client`` is a stand-in whose ``FlaskLoginClient`` loads the real module when first
instantiated and returns a real client; ``flask_login.FlaskLoginClient`` is then the real class.
"""
from __future__ import annotations

import importlib
import sys
import types

_TEST_CLIENT = "flask_login.test_client"


def defer_flask_login_test_client() -> None:
    """Install the stand-in, unless flask-login is imported already (then there is nothing to save)."""
    if "flask_login" in sys.modules or _TEST_CLIENT in sys.modules:
        return
    stand_in = types.ModuleType(_TEST_CLIENT, "flask-login's test client, imported when first used (lms.core.deferred_imports)")

    class FlaskLoginClient:
        """Stands for flask_login.FlaskLoginClient: instantiating it makes a real one."""

        def __new__(cls, *args, **kwargs):
            return real_flask_login_client()(*args, **kwargs)

    stand_in.FlaskLoginClient = FlaskLoginClient  # type: ignore[attr-defined]
    stand_in.is_stand_in = True  # type: ignore[attr-defined]
    sys.modules[_TEST_CLIENT] = stand_in


def real_flask_login_client() -> type:
    """flask-login's FlaskLoginClient, its module imported now if only the stand-in was there."""
    module = sys.modules.get(_TEST_CLIENT)
    if module is None or getattr(module, "is_stand_in", False):
        sys.modules.pop(_TEST_CLIENT, None)
        module = importlib.import_module(_TEST_CLIENT)
        flask_login = importlib.import_module("flask_login")
        flask_login.FlaskLoginClient = module.FlaskLoginClient  # type: ignore[attr-defined]
    return module.FlaskLoginClient
