"""The fault drills' own settings make sense: scripts/faults/sigkill.py kills every worker it announces while
submissions are still going on (it used to finish its submissions before the third kill on a fast machine)."""
from __future__ import annotations

import importlib.util
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "faults" / "sigkill.py"


def _load():
    spec = importlib.util.spec_from_file_location("sigkill_drill", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_with_its_defaults_every_kill_falls_in_the_first_half_of_the_submissions():
    drill = _load()
    parser_defaults = {"agents": 60, "kills": 3}
    source = SCRIPT.read_text()
    assert '"--agents", type=int, default=60' in source and '"--kills", type=int, default=3' in source
    targets = drill.kill_targets(parser_defaults["agents"], parser_defaults["kills"])
    assert len(targets) == 3 and targets == sorted(set(targets)) and targets[0] >= 1
    assert targets[-1] <= parser_defaults["agents"] // 2  # half of the work is still to come at the last kill
    for agents, kills in ((10, 3), (40, 3), (200, 5)):
        targets = drill.kill_targets(agents, kills)
        assert len(targets) == kills and all(1 <= t <= max(1, agents // 2) for t in targets)


def test_after_a_kill_it_waits_for_the_replacement_worker_not_a_fixed_pause():
    drill = _load()

    class Server:
        def __init__(self):
            self.calls = 0

        def workers(self):
            self.calls += 1
            return [1, 2] if self.calls < 3 else [2, 3]

    server = Server()
    import time

    drill.wait_for_replacement(server, victim=1, workers=2, deadline=time.monotonic() + 5)
    assert server.calls == 3
    assert "time.sleep(1.0)" not in SCRIPT.read_text()
