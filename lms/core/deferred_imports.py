"""Modules a library imports at start-up that a web worker never uses, imported on first use instead (issue #22).

* flask-login's ``__init__`` imports its test client (``from .test_client import FlaskLoginClient``), and with it
  Flask's and Click's testing modules and pdb: 0.5 MiB in every worker for a class only tests use.
* flask-wtf's ``__init__`` imports its reCAPTCHA support (``from .recaptcha import Recaptcha, RecaptchaField,
  RecaptchaWidget``), and with it ``urllib.request``: about 0.35 MiB for a field the LMS never shows (nothing here is
  fetched from the internet).

Until it is used, each such module is a stand-in whose classes load the real module when first instantiated and
return a real instance; the library's names (``flask_login.FlaskLoginClient``, ``flask_wtf.Recaptcha``…) then point
to the real classes.
"""
from __future__ import annotations

import importlib
import sys
import types

#: module deferred → (the package that re-exports its names, the names)
_DEFERRED = {
    "flask_login.test_client": ("flask_login", ("FlaskLoginClient",)),
    "flask_wtf.recaptcha": ("flask_wtf", ("Recaptcha", "RecaptchaField", "RecaptchaWidget")),
}


def defer_rarely_used_modules() -> None:
    """Install the stand-ins, each unless its library is imported already (then there is nothing to save)."""
    for module_name, (package, names) in _DEFERRED.items():
        if package in sys.modules or module_name in sys.modules:
            continue
        stand_in = types.ModuleType(module_name, f"{module_name}, imported when first used (lms.core.deferred_imports)")
        for name in names:
            setattr(stand_in, name, _stand_in_class(module_name, name))
        stand_in.is_stand_in = True  # type: ignore[attr-defined]
        sys.modules[module_name] = stand_in


def _stand_in_class(module_name: str, name: str) -> type:
    def __new__(cls, *args, **kwargs):
        return real(module_name, name)(*args, **kwargs)

    return type(name, (), {"__new__": __new__, "__doc__": f"Stands for {module_name}.{name}: instantiating it makes a real one."})


def real(module_name: str, name: str) -> type:
    """The library's class ``name`` of ``module_name``, its module imported now if only the stand-in was there (the
    package's re-exported names are then pointed to the real classes)."""
    module = sys.modules.get(module_name)
    if module is None or getattr(module, "is_stand_in", False):
        sys.modules.pop(module_name, None)
        module = importlib.import_module(module_name)
        package_name, names = _DEFERRED[module_name]
        package = importlib.import_module(package_name)
        for each in names:
            setattr(package, each, getattr(module, each))
    return getattr(module, name)

