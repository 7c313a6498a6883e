"""Write lms/lazy_blueprints.json, the routes of the blueprints imported on their first request (lms/core/lazy.py),
from an app that registers every blueprint at once:

    .venv/bin/python -m lms.lazy_manifest

Run it after changing a route of a lazy blueprint; tests/core/test_lazy_blueprints.py fails until then.
"""
from __future__ import annotations

import json

from lms import create_app
from lms.core import lazy


def main() -> None:
    entries = lazy.manifest_of(create_app({"LAZY_BLUEPRINTS": False}))
    text = lazy.manifest_text(entries)
    if json.loads(text) != entries:
        raise RuntimeError("the manifest's text does not read back as its entries")
    lazy.MANIFEST.write_text(text, encoding="utf-8")
    print(f"wrote {lazy.MANIFEST}")


if __name__ == "__main__":
    main()
