"""The site on 127.0.0.1 for tests/core/test_readonly_folder.py: ``python -m tests.core.readonly_server <database url>
<instance dir>`` prints ``READY <url>`` and serves until killed (production mode: TESTING off)."""
from __future__ import annotations

import sys
from pathlib import Path

from werkzeug.serving import make_server

from tests.conftest import make_test_app


def main() -> None:
    app = make_test_app(sys.argv[1], Path(sys.argv[2]), TESTING=False)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    print(f"READY http://127.0.0.1:{server.server_port}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
