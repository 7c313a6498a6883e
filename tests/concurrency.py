"""Run the same action from several threads released at the same instant (tests of races)."""
from __future__ import annotations

import threading
from typing import Callable


def run_at_once(action: Callable[[int], object], n: int = 10, timeout: float = 60) -> list:
    """Call ``action(i)`` for i in 0..n-1, each in its own thread, all released together by a barrier; return
    what each returned (in completion order), or ``"error: <exception>"`` for an action that raised."""
    barrier = threading.Barrier(n)
    outcomes: list = []
    lock = threading.Lock()

    def run(i: int) -> None:
        barrier.wait(timeout=timeout)
        try:
            outcome = action(i)
        except Exception as exc:  # noqa: BLE001 - the calling test reports any unexpected outcome
            outcome = f"error: {exc!r}"
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=timeout * 2)
    assert len(outcomes) == n, f"{n - len(outcomes)} thread(s) did not finish"
    return outcomes
